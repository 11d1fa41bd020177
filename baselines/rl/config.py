"""Training configuration: the task's shipped ``ppo.yaml`` plus the run's own settings."""
from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import yaml

import v2p_envs  # noqa: F401  (registers the tasks)

__all__ = ["TrainConfig", "task_dir_of", "register_run_task", "load_ppo_config", "RUN_FILE", "DEFAULT_PPO_YAML"]

RUN_FILE = "run.json"
DEFAULT_PPO_YAML = Path(__file__).resolve().parents[2] / "generator" / "templates" / "ppo.yaml"


@dataclass
class TrainConfig:
    """One training run. ``steps`` counts env transitions (all envs together)."""

    env_id: str
    trainer: str = "rl_games"
    num_envs: int = 256
    device: str = "cpu"
    seed: int = 0
    steps: int = 1_000_000
    run_dir: str = "runs/run"
    resume: bool = False
    max_episode_steps: int | None = None   # None: the task's registered length (300)
    progress: bool = True
    #: torch threads for the learner on CPU. 1 by default: on 2 shared cores a 2-thread MLP
    #: update measured 20-50x slower than 1 thread (idle workers spin against MuJoCo's threads).
    torch_threads: int = 1
    #: a task folder to register and train instead of the shipped one (e.g. a reward sample of
    #: the code generator); recorded in run.json so that evaluation loads the same task code
    task_dir: str | None = None
    #: overrides of ppo.yaml's ``params.config`` (rl-games names; the other trainers map them)
    ppo_overrides: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def register_run_task(task_dir: str | Path | None, env_id: str | None = None) -> str | None:
    """Register ``task_dir`` (if given) and check that it defines ``env_id``; return its id."""
    if task_dir is None:
        return env_id
    registered = v2p_envs.register_task_dir(task_dir)
    if env_id is not None and registered != env_id:
        raise ValueError(f"task folder {task_dir} defines {registered}, not {env_id}")
    return registered


def task_dir_of(env_id: str) -> Path:
    """The task folder a registered id was made from (holds ``ppo.yaml``)."""
    if env_id not in gym.registry:
        known = ", ".join(v2p_envs.registered_task_ids())
        raise KeyError(f"{env_id!r} is not a registered task; registered: {known}")
    task_dir = gym.registry[env_id].kwargs.get("task_dir")
    if task_dir is None:
        raise KeyError(f"{env_id!r} is registered without a task_dir; is it a video2policy task?")
    return Path(task_dir)


def load_ppo_config(env_id: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The task's ``ppo.yaml`` (the shared default if the folder has none), ``params.config``
    updated with ``overrides``."""
    path = task_dir_of(env_id) / "ppo.yaml"
    if not path.is_file():
        path = DEFAULT_PPO_YAML
    try:
        cfg = yaml.safe_load(path.read_text())
        cfg["params"]["config"]
    except (yaml.YAMLError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: expected an rl-games config with params.config ({exc})") from None
    cfg = copy.deepcopy(cfg)
    cfg["params"]["config"].update(overrides or {})
    cfg["source"] = str(path)
    return cfg


def write_run_file(run_dir: Path, cfg: TrainConfig, **extra: Any) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / RUN_FILE
    data = json.loads(path.read_text()) if path.is_file() else {}
    data.update({"config": cfg.to_json(), **extra})
    path.write_text(json.dumps(data, indent=1) + "\n")
    return path
