"""Job functions (``generator.jobs``) for training: what a reflection sample or a sweep cell runs.

``train_job`` trains a task folder and returns what reward reflection may see: the *generated*
success rate at the end of training as the score, the policy feedback text and its summary
(never the ground truth). It runs in a job's child process; its arguments are JSON.

A job runner calls a job only while the job is not recorded done, so a run folder it finds at
``run_dir`` is an attempt that never finished (the machine stopped, the process was killed): the
job starts that run over rather than failing on it (which scored the seed 0 in a resumed sweep).
"""
from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import v2p_envs

from .config import TrainConfig
from .log_summary import format_summary, summarize_training_log
from .run_record import RUN_FILE
from .trainer import train

__all__ = ["train_job", "evaluate_job"]

logger = logging.getLogger(__name__)


def train_job(task_dir: str, seed: int, run_dir: str, steps: int = 1_000_000, num_envs: int = 256,
              trainer: str = "rl_games", episode_length: int | None = None, device: str = "cpu",
              ppo_overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train ``task_dir`` (its code passed its trial already) and summarise the run for reflection."""
    env_id = v2p_envs.resolve_task(task_dir).id
    if (Path(run_dir) / RUN_FILE).exists():
        logger.warning("%s holds an unfinished attempt of this job; starting the run over", run_dir)
        empty_folder(Path(run_dir))
    result = train(TrainConfig(env_id, task_dir=str(Path(task_dir).resolve()), trainer=trainer, num_envs=num_envs,
                               steps=steps, seed=seed, run_dir=run_dir, progress=False, device=device,
                               max_episode_steps=episode_length, ppo_overrides=ppo_overrides or {}))
    summary = summarize_training_log(run_dir, split_by="generated")
    final = [r for r in summary.success_rate if r is not None]
    return {"score": final[-1] if final else 0.0, "feedback": format_summary(summary), "summary": summary.to_json(),
            "env_steps": result.env_steps, "wall_time_s": round(result.wall_time_s, 1),
            "checkpoint": str(result.checkpoint),
            "best_checkpoint": str(result.best_checkpoint) if result.best_checkpoint else None, "run_dir": run_dir}


def empty_folder(folder: Path) -> None:
    """Remove what ``folder`` holds, keeping the folder itself: in the sandbox a job's run folder is
    a mount point, which cannot be removed."""
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def evaluate_job(checkpoint: str, seed: int, episodes: int = 10) -> dict[str, Any]:
    """Evaluate one training seed's checkpoint on its evaluation seed (the env runs the task's code,
    so this too is a job in the sandbox); the record's per-seed success and metric."""
    from .evaluate import evaluate_checkpoints

    record = evaluate_checkpoints([Path(checkpoint)], seeds=[seed], episodes=episodes)
    return {"per_seed_success": record.per_seed_success, "metric": record.metric}
