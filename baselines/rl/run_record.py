"""run.json: what a training run was (config, trainer, task, status), read once into ``RunInfo``.

Written by ``train`` at start ("running") and end ("done" or "failed" with the error), read by
evaluation and resuming. A run folder may come from someone else: run.json is parsed as data
(JSON, known fields only) and its ``task_dir`` goes through the same trust rule as any folder.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from v2p_envs.errors import V2PError

from .config import TrainConfig

__all__ = ["RUN_FILE", "RunInfo", "RunFileError", "write_run_file"]

RUN_FILE = "run.json"


class RunFileError(V2PError, ValueError):
    """A checkpoint without a readable run.json."""


@dataclass(frozen=True)
class RunInfo:
    run_dir: Path
    config: TrainConfig
    trainer: str
    env_id: str
    status: str
    env_steps: int | None
    wall_time_s: float | None
    checkpoint: str | None
    best_checkpoint: str | None
    data: dict[str, Any]  # the whole run.json

    @property
    def task_dir(self) -> str | None:
        return self.config.task_dir

    @classmethod
    def read(cls, run_dir: Path | str) -> "RunInfo":
        run_dir = Path(run_dir).resolve()
        path = run_dir / RUN_FILE
        try:
            data = json.loads(path.read_text())
            raw = data["config"]
            known = {f.name for f in fields(TrainConfig)}
            config = TrainConfig(**{k: v for k, v in raw.items() if k in known})
            return cls(run_dir, config, str(data["trainer"]), str(data["env_id"]), str(data.get("status", "")),
                       data.get("env_steps"), data.get("wall_time_s"), data.get("checkpoint"),
                       data.get("best_checkpoint"), data)
        except OSError as exc:
            raise RunFileError(f"{path}: cannot read ({exc})") from None
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise RunFileError(f"{path}: not a run file written by `v2p train` ({type(exc).__name__}: {exc})") from None

    @classmethod
    def of_checkpoint(cls, checkpoint: Path | str) -> "RunInfo":
        """The run a checkpoint belongs to: the nearest run.json in its parent folders."""
        for parent in Path(checkpoint).resolve().parents:
            if (parent / RUN_FILE).is_file():
                return cls.read(parent)
        raise RunFileError(f"{checkpoint}: no {RUN_FILE} in any parent folder; was it written by `v2p train`?")


def write_run_file(run_dir: Path, cfg: TrainConfig, **extra: Any) -> Path:
    """Create or update run.json with the config and ``extra`` fields."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / RUN_FILE
    data = json.loads(path.read_text()) if path.is_file() else {}
    data.update({"config": cfg.to_json(), **extra})
    path.write_text(json.dumps(data, indent=1) + "\n")
    return path
