"""Shared helpers of the Warp tests."""
from __future__ import annotations

import gymnasium as gym
import pytest
import torch

import v2p_envs  # noqa: F401  (registers the tasks)

#: The GPU tests need CUDA in torch (the backend shares memory with torch on the device).
requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device and CUDA torch")


def make(env_id: str, num_envs: int, **kwargs):
    return gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs).unwrapped


def task_ids() -> list[str]:
    return sorted(e for e in gym.registry if e.startswith("V2P-"))
