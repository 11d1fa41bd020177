"""video2policy environments: ``import v2p_envs`` registers every task in v2p_envs/generated/.

    import gymnasium as gym, v2p_envs
    env = gym.make("V2P-ThrowGarlic-v0")                       # single env, numpy
    envs = gym.make_vec("V2P-ThrowGarlic-v0", num_envs=64)     # native batch, torch tensors
    envs = v2p_envs.make_vec("path/to/task_folder", num_envs=8)   # a folder, not registered
"""
from __future__ import annotations

import os

# Headless rendering by default; must be set before mujoco creates a GL context.
os.environ.setdefault("MUJOCO_GL", "egl")

from .errors import TaskContractError, TaskRegistrationError, UntrustedCodeError, V2PError  # noqa: E402
from .registration import (GENERATED_DIR, UnknownTaskError, make, make_vec, register_generated_tasks,  # noqa: E402
                           register_task_dir, registered_task_ids, resolve_task, task_env_spec)
from .scene_spec import ObjectSpec, SceneSpec, SceneSpecError, load_scene_spec  # noqa: E402
from .state_keys import OBJECT_STATE_KEYS, ROBOT_STATE_KEYS  # noqa: E402
from .task import Task  # noqa: E402
from .task_context import TaskContext  # noqa: E402

__all__ = ["Task", "TaskContext", "SceneSpec", "ObjectSpec", "SceneSpecError", "load_scene_spec", "register_task_dir",
           "registered_task_ids", "task_env_spec", "make", "make_vec", "resolve_task", "GENERATED_DIR", "TASK_IDS",
           "V2PError", "TaskContractError", "TaskRegistrationError", "UntrustedCodeError", "UnknownTaskError",
           "ROBOT_STATE_KEYS", "OBJECT_STATE_KEYS"]
__version__ = "0.1.0"

TASK_IDS = register_generated_tasks()
