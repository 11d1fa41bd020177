"""V2PEnv: one copy of a task as a plain ``gymnasium.Env`` with numpy observations.

It is a V2PVectorEnv with one env and no autoreset, so single and vector envs share every
line of task, reward and physics code. The time limit has one owner: Gymnasium's
``TimeLimit`` wrapper, which ``gym.make`` adds (``max_episode_steps``, 300 by default);
this class itself never truncates. ``info`` never carries ``episode`` statistics, so that
``gymnasium.wrappers.RecordEpisodeStatistics`` (and SB3's Monitor) can add their own.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from .rendering import RENDER_SIZE
from .vector_env import EnvArgumentError, V2PVectorEnv

__all__ = ["V2PEnv"]

_VECTOR_ONLY_KEYS = ("episode", "_episode")


def _to_python(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        item = value.detach().cpu().reshape(-1)[0]
        return bool(item) if value.dtype == torch.bool else float(item)
    if isinstance(value, dict):
        return {k: _to_python(v) for k, v in value.items() if k not in _VECTOR_ONLY_KEYS}
    return value


class V2PEnv(gym.Env):
    """A single env; ``info`` carries python scalars (success, components, ...)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 50}

    def __init__(self, task_dir: str | Path, render_mode: str | None = None, device: str = "cpu",
                 backend: str | None = None, width: int = RENDER_SIZE, height: int = RENDER_SIZE,
                 **kwargs: Any) -> None:
        if "max_episode_steps" in kwargs:
            raise TypeError("V2PEnv has no max_episode_steps: pass it to gym.make / v2p_envs.make, whose "
                            "TimeLimit wrapper owns the time limit")
        self.vec = V2PVectorEnv(task_dir, num_envs=1, device=device, backend=backend, max_episode_steps=None,
                                render_mode=render_mode, width=width, height=height, auto_reset=False, **kwargs)
        self.render_mode = render_mode
        self.observation_space = self.vec.single_observation_space
        self.action_space = self.vec.single_action_space

    @property
    def task(self):
        return self.vec.task

    @property
    def sim(self):
        return self.vec.sim

    @property
    def success_metric(self) -> str:
        return self.vec.success_metric

    @property
    def dt(self) -> float:
        """Simulated seconds per env step."""
        return self.vec.dt

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        obs, info = self.vec.reset(seed=seed, options=options)
        return obs[0].cpu().numpy(), _to_python(info)

    def step(self, action: np.ndarray):
        action = np.asarray(action, dtype=np.float32)
        if action.shape != (7,):
            raise EnvArgumentError(f"{self.vec.scene.env_id}: an action must have shape (7,), got {action.shape}")
        obs, reward, terminated, truncated, info = self.vec.step(action[None])
        return (obs[0].cpu().numpy(), float(reward[0]), bool(terminated[0]), bool(truncated[0]),
                _to_python(info))

    def render(self) -> np.ndarray | None:
        return self.vec.render_env(0) if self.render_mode == "rgb_array" else None

    def close(self) -> None:
        self.vec.close()
