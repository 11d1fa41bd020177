"""The paper's evaluation protocol: ground-truth success over 10 episodes, for each of 3 seeds.

``evaluate_policy`` runs every seed's ``episodes`` episodes in parallel (one env each, full
length, no early end) through the one rollout (``baselines.rollout``) and counts an episode as
a success if ground truth held at any step. Seed ``s`` resets env ``i`` with seed
``EVAL_SEED_BASE + s * episodes + i``, so seeds never share an initial state.
``evaluate_checkpoints`` writes the JSON evaluation record, which names its metric
(``ground_truth``; ``family_ground_truth`` for a generated task scored by its goal.json's family;
``generated`` for a task without either) and how the task code was trusted.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from v2p_envs.errors import V2PError

from ..policy import Policy
from ..rollout import RolloutResult, rollout
from .run_record import RunInfo
from .trainer import load_policy, make_run_env

__all__ = ["EvaluationRecord", "evaluate_policy", "evaluate_checkpoints", "eval_seeds", "EVAL_SEED_BASE",
           "git_commit", "package_version"]

EVAL_SEED_BASE = 1_000_000


@dataclass
class EvaluationRecord:
    task: str
    method: str
    seeds: list[int]
    episodes: int
    episode_length: int
    per_seed_success: list[float]
    mean: float
    std: float  # population std over seeds (numpy ddof=0)
    steps: int | None  # env steps each policy was trained for
    wall_time_s: dict[str, float | None]  # {"train": ..., "eval": ...}
    device: str
    package_version: str
    git_commit: str | None
    checkpoints: list[str] = field(default_factory=list)
    task_dir: str | None = None  # a task folder other than the shipped one, if the run used one
    per_seed_generated_success: list[float] = field(default_factory=list)
    date: str = ""
    machine: str = ""
    #: what per_seed_success measures: "ground_truth" (hand-written), "family_ground_truth" (a generated
    #: task's goal.json family) or "generated" (the task's own success, for a task without either)
    metric: str = "ground_truth"
    #: how the task code came to run: "shipped", "trial" (passed its trial) or "caller" (trusted by flag)
    task_trusted_by: str = "shipped"
    per_episode_success: list[list[bool]] = field(default_factory=list)  # [seed][episode]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def write(self, path: Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n")
        return path


def eval_seeds(seed: int, episodes: int) -> list[int]:
    """Reset seeds of the ``episodes`` envs of evaluation seed ``seed``."""
    return [EVAL_SEED_BASE + seed * episodes + i for i in range(episodes)]


def evaluate_policy(policies: Policy | list[Policy], env, seeds: list[int], episodes: int,
                    video: Path | None = None, progress: bool = False) -> RolloutResult:
    """All seeds' episodes at once in one batched env (``num_envs == episodes * len(seeds)``);
    env ``k * episodes + i`` is episode ``i`` of seed ``k``, played by ``policies[k]`` (or by
    the one policy). ``video``: an mp4 of env 0."""
    policies = policies if isinstance(policies, list) else [policies] * len(seeds)
    if env.num_envs != episodes * len(seeds) or len(policies) != len(seeds):
        raise ValueError(f"evaluate_policy needs one env per episode and one policy per seed: num_envs="
                         f"{env.num_envs}, episodes={episodes}, seeds={seeds}, policies={len(policies)}")
    reset_seeds = [s for seed in seeds for s in eval_seeds(seed, episodes)]
    return rollout(env, policies, reset_seeds, video=video, progress=progress)


def git_commit() -> str | None:
    """HEAD of the source tree, with ``+dirty`` when tracked files differ from it."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = head.stdout.strip()
    return (commit + ("+dirty" if dirty.stdout.strip() else "")) if commit else None


def package_version() -> str:
    try:
        from importlib.metadata import version

        return version("video2policy")
    except Exception:  # noqa: BLE001 - not installed: the source tree's version
        import v2p_envs

        return v2p_envs.__version__


def evaluate_checkpoints(checkpoints: list[Path], seeds: list[int], episodes: int = 10, device: str = "cpu",
                         video: Path | None = None, method: str | None = None,
                         max_episode_steps: int | None = None, progress: bool = False,
                         backend: str | None = None) -> EvaluationRecord:
    """Evaluate checkpoints: with one checkpoint per seed (one training run per seed, as in the
    paper) checkpoint i is evaluated with seed i; with one checkpoint, it is evaluated with every seed.
    ``max_episode_steps`` shortens episodes (tests only: the protocol uses the task's length).
    ``backend``: the physics backend (default: the one the run trained with)."""
    checkpoints = [Path(c) for c in checkpoints]
    if len(checkpoints) not in (1, len(seeds)):
        raise V2PError(f"give one checkpoint, or one per seed: got {len(checkpoints)} checkpoints "
                       f"for {len(seeds)} seeds")
    if episodes < 1 or not seeds:
        raise V2PError(f"need at least one episode and one seed, got episodes={episodes}, seeds={seeds}")
    if len(checkpoints) == 1:
        checkpoints = checkpoints * len(seeds)
    for ckpt in checkpoints:
        if not ckpt.is_file():
            raise V2PError(f"checkpoint {ckpt} does not exist")
    runs = {ckpt: RunInfo.of_checkpoint(ckpt) for ckpt in dict.fromkeys(checkpoints)}
    tasks = {(r.env_id, r.task_dir) for r in runs.values()}
    if len(tasks) != 1:
        raise V2PError(f"the checkpoints come from different tasks: {sorted(map(str, tasks))}")
    run = next(iter(runs.values()))
    start = time.perf_counter()
    if not str(device).startswith("cuda"):
        torch.set_num_threads(1)  # see TrainConfig.torch_threads: 2 threads are far slower on 2 shared cores
    env = make_run_env(run, episodes * len(seeds), device, max_episode_steps, backend,
                       render_mode="rgb_array" if video else None)
    try:
        policies = {ckpt: load_policy(ckpt, env, device, runs[ckpt]) for ckpt in runs}
        result = evaluate_policy([policies[c] for c in checkpoints], env, list(seeds), episodes, video, progress)
        episode_length, metric, trusted_by = env.max_episode_steps, env.success_metric, env.definition.trusted_by
    finally:
        env.close()
    per_episode = [result.success[k * episodes:(k + 1) * episodes] for k in range(len(seeds))]
    success = [float(np.mean(e)) for e in per_episode]
    generated = [float(np.mean(result.generated_success[k * episodes:(k + 1) * episodes])) for k in range(len(seeds))]
    train_times = [r.wall_time_s for r in runs.values()]
    steps = [r.env_steps for r in runs.values()]
    return EvaluationRecord(
        task=run.env_id, method=method or f"v2p/{run.trainer}", seeds=list(seeds), episodes=episodes,
        episode_length=episode_length,
        per_seed_success=[round(x, 4) for x in success], mean=round(float(np.mean(success)), 4),
        std=round(float(np.std(success)), 4),
        steps=max((s for s in steps if s is not None), default=None),
        wall_time_s={"train": round(float(np.mean(train_times)), 1) if None not in train_times else None,
                     "eval": round(time.perf_counter() - start, 1)},
        device=device, package_version=package_version(), git_commit=git_commit(),
        checkpoints=[str(c) for c in checkpoints], task_dir=run.task_dir,
        per_seed_generated_success=[round(x, 4) for x in generated], date=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        machine=f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs", metric=metric,
        task_trusted_by=trusted_by, per_episode_success=per_episode)
