"""Camera observations for image policies and sim-to-real (the paper's Sec. 4.3 options).

``ImageObservation(vec_env, mode)`` replaces the state vector with what a real robot has: the
fixed camera's RGB frame or its segmentation mask (0 table and background, 1 robot, 2 + k the
k-th object: the paper's sim-to-real input, which hides textures and lighting), plus the
proprioception (end-effector position and orientation, gripper opening). The other sim-to-real
options are env options already: ``randomization={"object_size_scale_per_env": ..., "object_mass_scale":
..., "action_noise_std": 0.02, "action_delay": 1}`` and the rotation scale, the paper's 0.2, as
``controller_config=ControllerConfig(max_delta_rot=0.2 * 0.15)``. Frames have the env's render
size (``make_vec(..., width=, height=)``). ``info["final_obs"]`` stays the state vector.
"""
from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import VectorWrapper
from gymnasium.vector.utils import batch_space

__all__ = ["ImageObservation", "PROPRIO_KEYS"]

#: the proprioception, in this order: 3 + 4 + 1 numbers
PROPRIO_KEYS = ("eef_pos", "eef_quat", "gripper_width")


class ImageObservation(VectorWrapper):
    """``{"image": uint8 [N, H, W, 3 or 1], "proprio": float32 [N, 8]}`` observations."""

    def __init__(self, env, mode: str = "segmentation") -> None:
        super().__init__(env)
        if mode not in ("rgb", "segmentation"):
            raise ValueError(f"mode must be 'rgb' or 'segmentation', got {mode!r}")
        self.mode = mode
        width, height = env.unwrapped.render_size
        channels = 3 if mode == "rgb" else 1
        high = 255 if mode == "rgb" else 1 + len(env.unwrapped.scene.objects)
        self.single_observation_space = gym.spaces.Dict({
            "image": gym.spaces.Box(0, high, (height, width, channels), np.uint8),
            "proprio": gym.spaces.Box(-np.inf, np.inf, (8,), np.float32)})
        self.observation_space = batch_space(self.single_observation_space, env.num_envs)

    def _observe(self) -> dict[str, np.ndarray]:
        base = self.env.unwrapped
        rgb, seg = base.render_batch(segmentation=self.mode == "segmentation")
        image = rgb if self.mode == "rgb" else seg[..., None]
        states = base.sim.states
        proprio = torch.cat([states[k].reshape(base.num_envs, -1) for k in PROPRIO_KEYS], dim=1)
        return {"image": image, "proprio": proprio.float().cpu().numpy()}

    def reset(self, *, seed: Any = None, options: dict[str, Any] | None = None):
        _, info = self.env.reset(seed=seed, options=options)
        return self._observe(), info

    def step(self, actions):
        _, reward, terminated, truncated, info = self.env.step(actions)
        return self._observe(), reward, terminated, truncated, info
