"""V2PEnv: one copy of a task as a plain ``gymnasium.Env`` with numpy observations.

It is a V2PVectorEnv with one env and no autoreset, so single and vector envs share every
line of task, reward and physics code.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from .vector_env import DEFAULT_EPISODE_LENGTH, V2PVectorEnv

__all__ = ["V2PEnv"]


def _to_python(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        item = value.detach().cpu().reshape(-1)[0]
        return bool(item) if value.dtype == torch.bool else float(item)
    if isinstance(value, dict):
        return {k: _to_python(v) for k, v in value.items()}
    return value


class V2PEnv(gym.Env):
    """A single env; ``info`` carries python scalars (success, components, ...)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 50}

    def __init__(self, task_dir: str | Path, render_mode: str | None = None, device: str = "cpu",
                 backend: str | None = None, max_episode_steps: int = DEFAULT_EPISODE_LENGTH,
                 **kwargs: Any) -> None:
        self.vec = V2PVectorEnv(task_dir, num_envs=1, device=device, backend=backend,
                                max_episode_steps=max_episode_steps, render_mode=render_mode,
                                auto_reset=False, **kwargs)
        self.render_mode = render_mode
        self.observation_space = self.vec.single_observation_space
        self.action_space = self.vec.single_action_space

    @property
    def task(self):
        return self.vec.task

    @property
    def sim(self):
        return self.vec.sim

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        obs, info = self.vec.reset(seed=seed, options=options)
        return obs[0].cpu().numpy(), _to_python(info)

    def step(self, action: np.ndarray):
        obs, reward, terminated, truncated, info = self.vec.step(np.asarray(action, dtype=np.float32)[None])
        return (obs[0].cpu().numpy(), float(reward[0]), bool(terminated[0]), bool(truncated[0]),
                _to_python(info))

    def render(self) -> np.ndarray | None:
        return self.vec.render()

    def close(self) -> None:
        self.vec.close()
