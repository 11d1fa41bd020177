"""The isolated evaluator: the env, the seeds and the ground truth stay here; the policy runs in a
child process without network and sees only observations, over a pipe of raw arrays.

Protocol: the paper's (10 episodes x 3 seeds per task, ground-truth success at any step),
through the one rollout (``baselines.rollout``). Seeds are the evaluator's: a public set for
self-checks, a private set (a file or ``V2P_LEADERBOARD_PRIVATE_SEEDS``) for the board, whose
values never go into a record. A policy that crashes, stops answering (a deadline per step),
runs out of memory or returns NaN or wrongly shaped actions fails those episodes, which are
listed; the evaluator goes on. The same submission with the same seeds gives the same record
on the CPU, bit for bit (besides its times and date).
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

import v2p_envs
from baselines.policy import OraclePolicy
from baselines.rl.evaluate import eval_seeds, git_commit, package_version
from baselines.rollout import rollout

from .records import TaskRecord
from .submission import Submission, SubmissionError, copy_submission, load_submission
from .wire import WireError, receive, send

__all__ = ["EvalSettings", "RemotePolicy", "evaluate_submission", "evaluate_oracle_entry", "private_seeds"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalSettings:
    episodes: int = 10
    seeds: tuple[int, ...] = (0, 1, 2)
    private: bool = False  # the seeds are the private set: records do not show them
    step_timeout_s: float = 5.0  # per policy answer
    start_timeout_s: float = 120.0  # the worker's start (imports, weights)
    memory_mb: int = 4096
    network: bool = False  # True only where the host cannot make a network namespace (recorded)


def private_seeds(path: Path | None = None) -> tuple[int, ...]:
    """The board's private seeds: from ``path`` (one integer per line) or the environment."""
    where = str(path) if path else "V2P_LEADERBOARD_PRIVATE_SEEDS"
    try:
        text = Path(path).read_text() if path else os.environ.get("V2P_LEADERBOARD_PRIVATE_SEEDS", "")
    except OSError as e:
        raise SubmissionError(f"private seeds {where}: cannot read ({e.strerror})") from None
    try:
        seeds = tuple(int(s) for s in text.replace(",", " ").split())
    except ValueError:
        raise SubmissionError(f"private seeds {where}: expected whitespace- or comma-separated integers") from None
    if any(not 0 <= s < 2**62 for s in seeds):
        raise SubmissionError(f"private seeds {where}: every seed must be in [0, 2**62)")
    if not seeds:
        raise SubmissionError("no private seeds: pass --private-seeds FILE or set V2P_LEADERBOARD_PRIVATE_SEEDS")
    return seeds


def _isolation_prefix() -> list[str]:
    """``unshare -n`` (a network namespace with no interface) where the host allows it."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"]
    return []


class RemotePolicy:
    """A ``Policy`` whose code runs in the worker; ``failed`` marks the envs its answers failed."""

    privileged = False

    def __init__(self, folder: Path, task: str, num_envs: int, obs_dim: int, settings: EvalSettings) -> None:
        self.settings, self.num_envs = settings, num_envs
        self.failed = torch.zeros(num_envs, dtype=torch.bool)
        self.reasons: list[str] = []
        self.dead = False
        prefix = [] if settings.network else _isolation_prefix()
        self.isolated = bool(prefix)
        memory = settings.memory_mb * 2**20

        def limit() -> None:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
        self.proc = subprocess.Popen([*prefix, sys.executable, "-m", "leaderboard.worker", str(folder)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     cwd=folder, env=env, preexec_fn=limit, start_new_session=True)
        try:
            send(self.proc.stdin, "spec", task=task, num_envs=num_envs, obs_dim=obs_dim, action_dim=7)
            header, _ = receive(self.proc.stdout, settings.start_timeout_s)
            if header["kind"] != "ready":
                self._fail_all(f"the policy did not start: {header.get('message', header['kind'])}")
        except (WireError, OSError) as exc:
            self._fail_all(f"the policy did not start: {exc}")

    def _fail_all(self, reason: str) -> None:
        self.failed[:] = True
        self.reasons.append(reason)
        self.dead = True
        self.close()

    def reset(self, env_ids: torch.Tensor | None = None) -> None:
        if self.dead:
            return
        try:
            ids = None if env_ids is None else env_ids.cpu().numpy().astype(np.int64)
            send(self.proc.stdin, "reset", ids)
            header, _ = receive(self.proc.stdout, self.settings.step_timeout_s)
            if header["kind"] != "done":
                self._fail_all(f"reset failed: {header.get('message', header['kind'])}")
        except (WireError, OSError) as exc:
            self._fail_all(f"reset: {exc}")

    def act(self, obs: torch.Tensor) -> torch.Tensor:
        zeros = torch.zeros(self.num_envs, 7, device=obs.device)
        if self.dead:
            return zeros
        try:
            send(self.proc.stdin, "act", obs.detach().cpu().numpy().astype(np.float32))
            header, actions = receive(self.proc.stdout, self.settings.step_timeout_s)
        except (WireError, OSError) as exc:
            self._fail_all(f"act: {exc}")
            return zeros
        if header["kind"] != "actions" or actions is None:
            self._fail_all(f"act: the policy raised: {header.get('message', header['kind'])}")
            return zeros
        if actions.shape != (self.num_envs, 7):
            self._fail_all(f"act: actions of shape {tuple(actions.shape)}, expected ({self.num_envs}, 7)")
            return zeros
        actions = torch.as_tensor(np.array(actions), device=obs.device)
        bad = ~torch.isfinite(actions).all(dim=1)
        if bool(bad.any()):
            newly = bad.cpu() & ~self.failed
            if bool(newly.any()):
                self.reasons.append(f"act: NaN or inf actions for envs {torch.nonzero(newly).flatten().tolist()}")
            self.failed |= bad.cpu()
        actions[self.failed.to(actions.device)] = 0.0
        return actions.clamp(-1.0, 1.0)

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                send(self.proc.stdin, "close")
                self.proc.wait(timeout=5)
            except (OSError, WireError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()


def _record(submission: dict[str, Any], task: str, settings: EvalSettings, per_episode: list[list[bool]],
            reasons: list[str], start: float, metric: str, **extra: Any) -> TaskRecord:
    per_seed = [float(np.mean(e)) if e else 0.0 for e in per_episode]
    return TaskRecord(
        submission=submission, task=task, metric=metric, seeds=("private" if settings.private else
                                                                 list(settings.seeds)),
        episodes=settings.episodes, per_seed_success=[round(x, 4) for x in per_seed],
        per_episode_success=per_episode, mean=round(float(np.mean(per_seed)), 4),
        std=round(float(np.std(per_seed)), 4), failures=reasons, wall_time_s=round(time.perf_counter() - start, 1),
        package_version=package_version(), git_commit=git_commit(),
        date=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        machine=f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs", verified=True, **extra)


def evaluate_submission(source: Path, tasks: list[str] | None = None, settings: EvalSettings = EvalSettings(),
                        video_dir: Path | None = None) -> list[TaskRecord]:
    """One record per task: refused (with the reason) or evaluated (see the module doc)."""
    start = time.perf_counter()
    try:
        submission = load_submission(source)
    except SubmissionError as exc:
        meta = {"method": Path(source).name, "status": "refused"}
        failed = [[False] * settings.episodes for _ in settings.seeds]  # every episode a failure
        return [_record(meta, t, settings, failed, [f"refused: {exc}"], start, "ground_truth", status="refused")
                for t in (tasks or [])]
    records = []
    with tempfile.TemporaryDirectory(prefix="v2p_submission_") as tmp:
        folder = copy_submission(submission, Path(tmp) / "submission")  # the hashed bytes, apart from the original
        for task in tasks or list(submission.tasks):
            records.append(_evaluate_task(submission, folder, task, settings, video_dir))
    return records


def _evaluate_task(submission: Submission, folder: Path, task: str, settings: EvalSettings,
                   video_dir: Path | None) -> TaskRecord:
    start = time.perf_counter()
    per_episode, reasons, isolated = [], [], True
    metric = "ground_truth"
    for k, seed in enumerate(settings.seeds):
        env = v2p_envs.make_vec(task, num_envs=settings.episodes,
                                render_mode="rgb_array" if video_dir and k == 0 else None).unwrapped
        policy = RemotePolicy(folder, task, settings.episodes, env.single_observation_space.shape[0], settings)
        isolated &= policy.isolated
        try:
            video = video_dir / f"{task}.mp4" if video_dir and k == 0 else None
            result = rollout(env, policy, eval_seeds(seed, settings.episodes), video=video)
            metric = env.success_metric
        finally:
            policy.close()
            env.close()
        success = [bool(s) and not bool(f) for s, f in zip(result.success, policy.failed.tolist())]
        per_episode.append(success)
        reasons += [f"seed {'private' if settings.private else seed}: {r}" for r in policy.reasons]
    return _record({**submission.to_json(), "status": "evaluated"}, task, settings, per_episode, reasons, start,
                   metric, status="evaluated", network_isolated=isolated)


def evaluate_oracle_entry(task: str, settings: EvalSettings = EvalSettings()) -> TaskRecord:
    """The task's scripted oracle, a shipped and privileged entry (trusted code, run here)."""
    start = time.perf_counter()
    per_episode, metric = [], "ground_truth"
    for seed in settings.seeds:
        env = v2p_envs.make_vec(task, num_envs=settings.episodes).unwrapped
        try:
            result = rollout(env, OraclePolicy(env), eval_seeds(seed, settings.episodes))
            metric = env.success_metric
        finally:
            env.close()
        per_episode.append(list(result.success))
    meta = {"method": "scripted oracle", "authors": ["video2policy"], "url": "", "privileged": True,
            "description": "hand-written per task; reads the simulator's state, not the observation",
            "status": "evaluated", "tasks": [task], "observation": "privileged state", "file_sha256": {}}
    return _record(meta, task, settings, per_episode, [], start, metric, status="evaluated", network_isolated=True)
