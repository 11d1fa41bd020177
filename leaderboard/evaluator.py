"""The evaluator: the env, the seeds, the ground truth and the records stay here; the policy
runs in a sandboxed worker (``remote.RemotePolicy``) and sees only observations, over a pipe of
raw arrays.

Protocol: the paper's (10 episodes x 3 seeds per task, ground-truth success at any step),
through the one rollout (``baselines.rollout``). Seeds are the evaluator's: a public set for
self-checks, a private set (a file or ``V2P_LEADERBOARD_PRIVATE_SEEDS``) for the board, whose
values never go into a record. A policy that crashes, stops answering (a deadline per step),
runs out of memory, returns NaN or wrongly shaped actions, or is killed fails those episodes;
the failure is recorded as a category and a short message cleaned of the private seeds and the
private-seeds file's path (``failures``), never as the policy's text verbatim, and the evaluator
goes on. The same submission with the same seeds gives the same record on the CPU, bit for bit
(besides its times and date).

The worker runs inside the OS sandbox (``v2p_envs.untrusted.sandbox``); where the host cannot
isolate, evaluation is refused (``SandboxUnavailable``) unless the caller opted out
(``EvalSettings(sandbox=False)``, the CLI's ``--no-sandbox``): then every record says
``isolated: false``.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import platform
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import v2p_envs
from baselines.policy import OraclePolicy
from baselines.rl.evaluate import eval_seeds, git_commit, package_version
from baselines.rollout import rollout
from v2p_envs.untrusted.sandbox import Sandbox, SandboxUnavailable, sandboxed_command

from .failures import Failure, Redactor
from .records import TaskRecord
from .remote import RemotePolicy, worker_limits
from .submission import POLICY_FILE, Submission, SubmissionError, load_submission, private_copy

__all__ = ["EvalSettings", "RemotePolicy", "evaluate_submission", "evaluate_oracle_entry", "private_seeds",
           "SandboxUnavailable"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalSettings:
    episodes: int = 10
    seeds: tuple[int, ...] = (0, 1, 2)
    private: bool = False  # the seeds are the private set: records do not show them
    step_timeout_s: float = 5.0  # per policy answer
    start_timeout_s: float = 120.0  # the worker's start (imports, weights)
    memory_mb: int = 4096  # the worker's address space
    cpu_s: int = 1800  # the worker's CPU time over its whole life (one seed's episodes)
    #: The OS sandbox around the worker. None: unless the user opted out (V2P_NO_SANDBOX=1);
    #: False: the explicit opt-out (``--no-sandbox``), recorded as ``isolated: false``.
    sandbox: bool | None = None
    #: Text the policy must never get into a record besides the private seeds (which are always
    #: redacted): the private-seeds file's path, as the CLI was given it.
    secret_paths: tuple[str, ...] = ()

    def redactor(self) -> Redactor:
        return Redactor(self.seeds if self.private else (), self.secret_paths)

    def seed_label(self, index: int) -> str:
        """How a record names the ``index``-th seed: its value, or its place in a private set."""
        return f"private #{index + 1}" if self.private else str(self.seeds[index])


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


def _require_sandbox(settings: EvalSettings) -> None:
    """Refuse before anything runs where the host cannot isolate and the caller did not opt out."""
    sandboxed_command(["true"], Sandbox(isolate=settings.sandbox))


def evaluate_submission(source: Path, tasks: list[str] | None = None, settings: EvalSettings = EvalSettings(),
                        video_dir: Path | None = None,
                        on_record: Callable[[TaskRecord], None] | None = None) -> list[TaskRecord]:
    """One record per task: refused (with the reason) or evaluated (see the module doc). The
    submission is copied into a private folder first (``private_copy``) and checked there, so the
    bytes checked, hashed and run are the same. ``on_record`` gets each record as soon as its task
    is done (the CLI writes it then), so a later task's trouble cannot lose an earlier record.
    ``SandboxUnavailable`` (nothing evaluated) where the host cannot isolate, unless opted out."""
    _require_sandbox(settings)
    start = time.perf_counter()
    redactor = settings.redactor()
    records = []
    with tempfile.TemporaryDirectory(prefix="v2p_submission_") as tmp:
        folder = Path(tmp) / "submission"
        try:
            submission = load_submission(private_copy(source, folder))
        except SubmissionError as exc:
            meta = {"method": Path(source).name, "status": "refused"}
            reason = str(exc).replace(str(folder.resolve()) + os.sep, "").replace(str(folder.resolve()), "submission")
            failed = [[False] * settings.episodes for _ in settings.seeds]  # every episode a failure
            for task in tasks or []:
                records.append(_record(meta, task, settings, failed, [f"refused: {redactor.clean(reason)}"], start,
                                       "ground_truth", status="refused", isolated=None))
                if on_record:
                    on_record(records[-1])
            return records
        for task in tasks or list(submission.tasks):
            records.append(_evaluate_task(submission, folder, task, settings, video_dir, redactor))
            if on_record:
                on_record(records[-1])
    return records


def _evaluate_task(submission: Submission, folder: Path, task: str, settings: EvalSettings,
                   video_dir: Path | None, redactor: Redactor) -> TaskRecord:
    start = time.perf_counter()
    per_episode: list[list[bool]] = []
    failures: list[Failure] = []
    isolated = True
    metric = "ground_truth"
    limits = worker_limits(settings.memory_mb, settings.cpu_s)
    for k, seed in enumerate(settings.seeds):
        env = v2p_envs.make_vec(task, num_envs=settings.episodes,
                                render_mode="rgb_array" if video_dir and k == 0 else None).unwrapped
        try:
            policy = RemotePolicy(folder / POLICY_FILE, task, settings.episodes, env.single_observation_space.shape[0],
                                  seed_label=settings.seed_label(k), redactor=redactor, limits=limits,
                                  sandbox=settings.sandbox, start_timeout_s=settings.start_timeout_s,
                                  step_timeout_s=settings.step_timeout_s)
        except BaseException:
            env.close()
            raise
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
        failures += policy.failures
        for failure in policy.failures:
            log.info("%s on %s: %s", submission.method, task, failure)
    return _record({**submission.to_json(), "status": "evaluated"}, task, settings, per_episode,
                   [str(f) for f in failures], start, metric, status="evaluated", isolated=isolated)


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
    return _record(meta, task, settings, per_episode, [], start, metric, status="evaluated", isolated=None)
