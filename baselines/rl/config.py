"""Training configuration: the task's shipped ``ppo.yaml`` plus the run's own settings."""
from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

import v2p_envs
from generator.emit import PPO_TEMPLATE
from v2p_envs.errors import V2PError

__all__ = ["TrainConfig", "task_dir_of", "load_ppo_config", "initial_log_std", "DEFAULT_PPO_YAML"]

#: the shared PPO configuration (the generator's template), for a folder without ppo.yaml
DEFAULT_PPO_YAML = PPO_TEMPLATE


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
    #: a task folder to train instead of the registered id (e.g. a reward sample of the code
    #: generator); recorded in run.json so that evaluation loads the same task code
    task_dir: str | None = None
    #: run a non-shipped folder's task code without its trial (you wrote it and trust it)
    trust_task_code: bool = False
    #: overrides of ppo.yaml's ``params.config`` (rl-games names; the other trainers map them)
    ppo_overrides: dict[str, Any] = field(default_factory=dict)
    #: physics backend: "mujoco" or "warp" (None: MuJoCo on the CPU, MuJoCo Warp on CUDA)
    backend: str | None = None
    #: stop after the epoch in which this much training wall time has passed (rl_games, sb3)
    max_time_s: float | None = None
    #: first episodes of random length, so that envs do not all end on the same step (PPO sees
    #: every phase of the episode in each batch)
    stagger_episodes: bool = True

    def __post_init__(self) -> None:
        for name in ("num_envs", "steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise V2PError(f"{name} must be a positive integer, got {value!r}")
        if self.max_episode_steps is not None and (not isinstance(self.max_episode_steps, int)
                                                   or self.max_episode_steps < 1):
            raise V2PError(f"max_episode_steps must be a positive integer or None, got {self.max_episode_steps!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise V2PError(f"seed must be a non-negative integer, got {self.seed!r}")
        if self.max_time_s is not None and not self.max_time_s > 0:
            raise V2PError(f"max_time_s must be > 0 or None, got {self.max_time_s!r}")
        if self.backend not in (None, "mujoco", "warp"):
            raise V2PError(f"backend must be 'mujoco', 'warp' or None, got {self.backend!r}")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def task_dir_of(env_id: str, task_dir: str | Path | None = None) -> Path:
    """The task folder to train: ``task_dir`` if given, else the folder the id was registered from."""
    if task_dir is not None:
        return Path(task_dir)
    spec = v2p_envs.resolve_task(env_id)
    folder = spec.kwargs.get("task_dir")
    if folder is None:
        raise V2PError(f"{env_id!r} is registered without a task_dir; is it a video2policy task?")
    return Path(folder)


def initial_log_std(params: dict[str, Any], source: str = "ppo.yaml") -> float:
    """The initial log std of the Gaussian policy, from rl-games' ``network.space.continuous.sigma_init``
    (a ``const_initializer``; 0, a std of 1, where absent), so skrl and SB3 explore as rl-games does."""
    init = (((params.get("network") or {}).get("space") or {}).get("continuous") or {}).get("sigma_init")
    if init is None:
        return 0.0
    if not isinstance(init, dict) or init.get("name") != "const_initializer" or \
            not isinstance(init.get("val"), (int, float)):
        raise V2PError(f"{source}: network.space.continuous.sigma_init: expected "
                       f"{{name: const_initializer, val: <number>}}, got {init!r}")
    return float(init["val"])


def load_ppo_config(env_id: str, overrides: dict[str, Any] | None = None,
                    task_dir: str | Path | None = None) -> dict[str, Any]:
    """The task's ``ppo.yaml`` (the shared default if the folder has none), ``params.config``
    updated with ``overrides``."""
    path = task_dir_of(env_id, task_dir) / "ppo.yaml"
    if not path.is_file():
        path = DEFAULT_PPO_YAML
    try:
        cfg = yaml.safe_load(path.read_text())
        cfg["params"]["config"]
    except (yaml.YAMLError, KeyError, TypeError) as exc:
        raise V2PError(f"{path}: expected an rl-games config with params.config ({exc})") from None
    cfg = copy.deepcopy(cfg)
    cfg["params"]["config"].update(overrides or {})
    cfg["source"] = str(path)
    return cfg
