"""The trainer interface: one class per RL library, chosen by name.

A trainer turns a ``TrainConfig`` into a run folder::

    <run_dir>/run.json        what was run (config, trainer, steps, wall time, checkpoint, status)
    <run_dir>/metrics.jsonl   TrainingRecorder rows (reward components, success per period)
    <run_dir>/tb/             tensorboard logs of the same
    <run_dir>/checkpoints/    the final checkpoint, and ``best.pth`` where the library keeps its
                              best-training-reward policy (rl-games); that choice uses the
                              training reward only, never the ground truth

and loads a checkpoint back as a ``Policy`` (deterministic: the mean action), reading tensors
only (``baselines.rl.checkpoint``). A run that fails (task code breaking its contract, a
library error) is written as ``status: failed`` with the error before the error is raised.
"""
from __future__ import annotations

import importlib
import json
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

import v2p_envs
from v2p_envs.errors import TaskContractError, V2PError

from ..policy import Policy
from .config import TrainConfig
from .recorder import TrainingRecorder
from .run_record import RUN_FILE, RunInfo, write_run_file

__all__ = ["Trainer", "TrainResult", "TRAINERS", "get_trainer", "train", "load_policy", "make_env",
           "make_run_env", "TrainingFailed"]

#: trainer name -> "module:Class" (imported on use, so a missing library only breaks its trainer)
TRAINERS = {
    "rl_games": "baselines.rl.rl_games_adapter:RlGamesTrainer",
    "sb3": "baselines.rl.sb3_adapter:SB3Trainer",
    "skrl": "baselines.rl.skrl_adapter:SkrlTrainer",
}


class TrainingFailed(V2PError, RuntimeError):
    """A training run that stopped on an error; run.json holds ``status: failed`` and the error."""

    def __init__(self, message: str, category: str | None = None) -> None:
        self.category = category
        super().__init__(message)


@dataclass
class TrainResult:
    run_dir: Path
    checkpoint: Path
    env_steps: int
    wall_time_s: float
    final_success_rate: float | None
    history: list[dict[str, Any]] = field(default_factory=list)
    best_checkpoint: Path | None = None  # the best-training-reward checkpoint, where the trainer keeps one

    @property
    def steps_per_s(self) -> float:
        return self.env_steps / max(self.wall_time_s, 1e-9)


class Trainer(ABC):
    name: str = ""

    @abstractmethod
    def fit(self, cfg: TrainConfig, env: TrainingRecorder, run_dir: Path) -> Path:
        """Train on ``env`` until ``cfg.steps`` env steps; return the final checkpoint path."""

    @abstractmethod
    def load_policy(self, checkpoint: Path, env, run: RunInfo, device: str = "cpu") -> Policy:
        """The deterministic policy stored in ``checkpoint`` for envs shaped like ``env``."""

    @staticmethod
    def latest_checkpoint(run_dir: Path, pattern: str = "*") -> Path | None:
        files = sorted((run_dir / "checkpoints").glob(pattern), key=lambda p: p.stat().st_mtime)
        return files[-1] if files else None


def get_trainer(name: str) -> Trainer:
    if name not in TRAINERS:
        raise V2PError(f"unknown trainer {name!r}; expected one of {sorted(TRAINERS)}")
    module, cls = TRAINERS[name].split(":")
    try:
        return getattr(importlib.import_module(module), cls)()
    except ImportError as exc:
        raise V2PError(f"trainer {name!r} needs a library that is not installed ({exc}); "
                       f"pip install rl-games==1.6.5 stable-baselines3 skrl") from exc


def make_env(env_id: str, num_envs: int, device: str = "cpu", max_episode_steps: int | None = None,
             task_dir: str | Path | None = None, **kwargs):
    """The task's native vector env (V2PVectorEnv: torch tensors, SAME_STEP autoreset), from
    ``task_dir`` when given (not registered), else from the registered ``env_id``."""
    if max_episode_steps is not None:
        kwargs["max_episode_steps"] = max_episode_steps
    return v2p_envs.make_vec(task_dir or env_id, num_envs=num_envs, device=device, **kwargs).unwrapped


def make_run_env(run: RunInfo, num_envs: int, device: str = "cpu", max_episode_steps: int | None = None,
                 backend: str | None = None, **kwargs):
    """The env a training run used (its task or folder, its trust decision, its physics backend
    unless ``backend`` is given), to evaluate or trace that run's checkpoints."""
    return make_env(run.env_id, num_envs, device, max_episode_steps, task_dir=run.task_dir,
                    trust_task_code=run.config.trust_task_code, backend=backend or run.config.backend, **kwargs)


def _resume_offset(run_dir: Path) -> int:
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        return 0
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    return json.loads(lines[-1])["env_steps"] if lines else 0


def train(cfg: TrainConfig, log_every: int | None = None) -> TrainResult:
    """Train ``cfg.env_id`` (or ``cfg.task_dir``) with ``cfg.trainer``; see the module docstring."""
    trainer = get_trainer(cfg.trainer)
    run_dir = Path(cfg.run_dir)
    if not cfg.resume and (run_dir / RUN_FILE).exists():
        raise V2PError(f"{run_dir} already holds a run; pass resume=True (--resume) to continue it, "
                       f"or choose another --run-dir")
    if cfg.resume and not (run_dir / RUN_FILE).exists():
        raise V2PError(f"--resume: {run_dir / RUN_FILE} does not exist")
    if not cfg.resume:
        (run_dir / "metrics.jsonl").unlink(missing_ok=True)
    torch.manual_seed(cfg.seed)
    if not str(cfg.device).startswith("cuda") and cfg.torch_threads:
        torch.set_num_threads(cfg.torch_threads)
    env = make_env(cfg.env_id, cfg.num_envs, cfg.device, cfg.max_episode_steps, task_dir=cfg.task_dir,
                   trust_task_code=cfg.trust_task_code, backend=cfg.backend)
    horizon = int(cfg.ppo_overrides.get("horizon_length", 32)) if log_every is None else log_every
    recorder = TrainingRecorder(env, run_dir, log_every=horizon, total_steps=cfg.steps, progress=cfg.progress,
                                env_steps=_resume_offset(run_dir) if cfg.resume else 0,
                                stagger_episodes=cfg.stagger_episodes)
    write_run_file(run_dir, cfg, trainer=cfg.trainer, env_id=cfg.env_id, status="running",
                   success_metric=env.success_metric)
    start = time.perf_counter()
    start_steps = recorder.env_steps
    try:
        checkpoint = trainer.fit(cfg, recorder, run_dir)
    except Exception as exc:
        category = exc.category if isinstance(exc, TaskContractError) else None
        write_run_file(run_dir, cfg, status="failed", error=f"{type(exc).__name__}: {exc}", error_category=category,
                       env_steps=recorder.env_steps, wall_time_s=round(time.perf_counter() - start, 2))
        if isinstance(exc, V2PError):
            raise TrainingFailed(f"training {cfg.env_id} failed after {recorder.env_steps} env steps: {exc}",
                                 category) from exc
        raise
    finally:
        recorder.close()
    wall = time.perf_counter() - start
    best = run_dir / "checkpoints" / "best.pth"
    result = TrainResult(run_dir, Path(checkpoint), recorder.env_steps, wall, recorder.recent_success(),
                         recorder.history, best if best.is_file() else None)
    prev = json.loads((run_dir / RUN_FILE).read_text())
    write_run_file(run_dir, cfg, status="done", checkpoint=str(Path(checkpoint).resolve()),
                   best_checkpoint=str(best.resolve()) if best.is_file() else None,
                   env_steps=recorder.env_steps,
                   wall_time_s=round(prev.get("wall_time_s", 0.0) * cfg.resume + wall, 2),
                   steps_per_s=round((recorder.env_steps - start_steps) / max(wall, 1e-9), 1),
                   final_train_success_rate=result.final_success_rate)
    return result


def load_policy(checkpoint: Path | str, env, device: str = "cpu", run: RunInfo | None = None) -> Policy:
    """The policy in ``checkpoint`` (its trainer named by its run.json, read here unless given)."""
    run = run or RunInfo.of_checkpoint(checkpoint)
    return get_trainer(run.trainer).load_policy(Path(checkpoint), env, run, device)
