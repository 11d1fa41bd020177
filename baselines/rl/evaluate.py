"""The paper's evaluation protocol: ground-truth success over 10 episodes, for each of 3 seeds.

``evaluate_policy`` runs every seed's ``episodes`` episodes in parallel (one env each, full
length, no early end) and counts an episode as a success if ground truth held at any step
(``success_once``).
Seed ``s`` resets env ``i`` with seed ``EVAL_SEED_BASE + s * episodes + i``, so seeds never share
an initial state. ``evaluate_checkpoints`` writes the JSON evaluation record.
"""
from __future__ import annotations

import datetime as _dt
import json
import platform
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .config import register_run_task
from .trainer import Policy, load_policy, make_env, read_run

__all__ = ["EvaluationRecord", "evaluate_policy", "evaluate_checkpoints", "eval_seeds", "EVAL_SEED_BASE"]

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


@torch.no_grad()
def evaluate_policy(policies: Policy | list[Policy], env, seeds: list[int], episodes: int,
                    video: Path | None = None) -> tuple[list[float], list[float]]:
    """Ground-truth and generated success rate per seed. All seeds run at once in one batched
    env (``num_envs == episodes * len(seeds)``); env ``k * episodes + i`` is episode ``i`` of seed
    ``k``, played by ``policies[k]`` (or by the one policy). Episodes run their full length."""
    policies = policies if isinstance(policies, list) else [policies] * len(seeds)
    n = episodes * len(seeds)
    if env.num_envs != n or len(policies) != len(seeds):
        raise ValueError(f"evaluate_policy needs one env per episode and one policy per seed: num_envs="
                         f"{env.num_envs}, episodes={episodes}, seeds={seeds}, policies={len(policies)}")
    obs, _ = env.reset(seed=[s for seed in seeds for s in eval_seeds(seed, episodes)])
    writer = None
    if video is not None:
        import imageio.v2 as imageio

        Path(video).parent.mkdir(parents=True, exist_ok=True)
        writer = imageio.get_writer(str(video), fps=25, macro_block_size=1)
    generated = torch.zeros(n, dtype=torch.bool, device=env.device)
    slices = [slice(k * episodes, (k + 1) * episodes) for k in range(len(seeds))]
    try:
        for step in range(env.max_episode_steps):
            if writer is not None and step % 2 == 0:
                writer.append_data(env.render_env(0))
            actions = torch.cat([policy(obs[sl]).to(env.device) for policy, sl in zip(policies, slices)])
            obs, _, terminated, truncated, info = env.step(actions)
            final = info.get("final_info", info)
            generated |= final["generated_success"]
            if bool((terminated | truncated).all()):
                break
    finally:
        if writer is not None:
            writer.close()
    success = final["success_once"].float()
    return ([float(success[sl].mean()) for sl in slices], [float(generated[sl].float().mean()) for sl in slices])


def _git_commit() -> str | None:
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


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("video2policy")
    except Exception:  # noqa: BLE001 - not installed: the source tree's version
        import v2p_envs

        return v2p_envs.__version__


def evaluate_checkpoints(checkpoints: list[Path], seeds: list[int], episodes: int = 10, device: str = "cpu",
                         video: Path | None = None, method: str | None = None,
                         max_episode_steps: int | None = None) -> EvaluationRecord:
    """Evaluate checkpoints: with one checkpoint per seed (one training run per seed, as in the
    paper) checkpoint i is evaluated with seed i; with one checkpoint, it is evaluated with every seed.
    ``max_episode_steps`` shortens episodes (tests only: the protocol uses the task's length)."""
    checkpoints = [Path(c) for c in checkpoints]
    if len(checkpoints) not in (1, len(seeds)):
        raise ValueError(f"give one checkpoint, or one per seed: got {len(checkpoints)} checkpoints "
                         f"for {len(seeds)} seeds")
    if len(checkpoints) == 1:
        checkpoints = checkpoints * len(seeds)
    for ckpt in checkpoints:
        if not ckpt.is_file():
            raise FileNotFoundError(f"checkpoint {ckpt} does not exist")
    runs = [read_run(c) for c in checkpoints]
    tasks = {(r["env_id"], r["config"].get("task_dir")) for r in runs}
    if len(tasks) != 1:
        raise ValueError(f"the checkpoints come from different tasks: {sorted(map(str, tasks))}")
    register_run_task(runs[0]["config"].get("task_dir"), runs[0]["env_id"])
    start = time.perf_counter()
    if not str(device).startswith("cuda"):
        torch.set_num_threads(1)  # see TrainConfig.torch_threads: 2 threads are far slower on 2 shared cores
    env = make_env(runs[0]["env_id"], episodes * len(seeds), device, max_episode_steps,
                   render_mode="rgb_array" if video else None)
    try:
        cache: dict[Path, Policy] = {}
        for ckpt in checkpoints:
            if ckpt not in cache:
                cache[ckpt] = load_policy(ckpt, env, device)[0]
        success, generated = evaluate_policy([cache[c] for c in checkpoints], env, list(seeds), episodes, video)
        episode_length = env.max_episode_steps
    finally:
        env.close()
    eval_time = time.perf_counter() - start
    train_times = [r.get("wall_time_s") for r in runs]
    steps = [r.get("env_steps") for r in runs]
    return EvaluationRecord(
        task=runs[0]["env_id"], method=method or f"v2p/{runs[0]['trainer']}", seeds=list(seeds), episodes=episodes,
        episode_length=episode_length,
        per_seed_success=[round(x, 4) for x in success], mean=round(float(np.mean(success)), 4),
        std=round(float(np.std(success)), 4),
        steps=max((s for s in steps if s is not None), default=None),
        wall_time_s={"train": round(float(np.mean(train_times)), 1) if None not in train_times else None,
                     "eval": round(eval_time, 1)},
        device=device, package_version=_version(), git_commit=_git_commit(),
        checkpoints=[str(c) for c in checkpoints], task_dir=runs[0]["config"].get("task_dir"), per_seed_generated_success=[round(x, 4) for x in generated],
        date=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        machine=f"{platform.machine()} {platform.system()}, {__import__('os').cpu_count()} CPUs")
