"""video2policy environments: ``import v2p_envs`` registers every task in v2p_envs/generated/.

    import gymnasium as gym, v2p_envs
    env = gym.make("V2P-ThrowGarlic-v0")                       # single env, numpy
    envs = gym.make_vec("V2P-ThrowGarlic-v0", num_envs=64)     # native batch, torch tensors
"""
from __future__ import annotations

import os

# Headless rendering by default; must be set before mujoco creates a GL context.
os.environ.setdefault("MUJOCO_GL", "egl")

from .registration import GENERATED_DIR, register_generated_tasks, register_task_dir, registered_task_ids  # noqa: E402
from .scene_spec import ObjectSpec, SceneSpec, SceneSpecError, load_scene_spec  # noqa: E402
from .task import Task  # noqa: E402

__all__ = ["Task", "SceneSpec", "ObjectSpec", "SceneSpecError", "load_scene_spec", "register_task_dir",
           "registered_task_ids", "GENERATED_DIR", "TASK_IDS"]
__version__ = "0.1.0"

TASK_IDS = register_generated_tasks()
