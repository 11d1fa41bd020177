"""The physics backend interface: N copies of one compiled scene, stepped together.

Everything above this layer (controller, states, tasks, rewards) sees only batched torch
tensors with a leading env dimension on ``device``. A backend exposes MuJoCo's own field names
as live tensors; writing to a state field (qpos, qvel, ctrl, mocap_*) changes the simulation,
and derived fields (xquat, xaxis, xanchor, site_xpos) are current after ``step`` and
``forward``. The CPU backend shares memory with MuJoCo's arrays, the GPU backend with Warp's.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager, nullcontext

import mujoco
import torch

from ..scene_builder import BuiltScene

__all__ = ["PhysicsBackend", "STATE_FIELDS", "DERIVED_FIELDS"]

STATE_FIELDS = ("qpos", "qvel", "ctrl", "mocap_pos", "mocap_quat")
DERIVED_FIELDS = ("xquat", "xaxis", "xanchor", "site_xpos")


class PhysicsBackend(ABC):
    """Common interface of the MuJoCo (CPU) and MuJoCo Warp (GPU) backends."""

    name: str = "abstract"

    def __init__(self, built: BuiltScene, num_envs: int, device: torch.device | str) -> None:
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        self.built = built
        self.model = built.model
        self.num_envs = num_envs
        self.device = torch.device(device)
        self.substeps = built.config.substeps
        # Live views, set by the implementation: (N, ...) tensors named as MuJoCo's fields.
        self.fields: dict[str, torch.Tensor] = {}

    def __getattr__(self, name: str) -> torch.Tensor:
        fields = self.__dict__.get("fields", {})
        if name in fields:
            return fields[name]
        raise AttributeError(f"{type(self).__name__} has no field '{name}'")

    @abstractmethod
    def step(self) -> None:
        """Advance every env by ``substeps`` physics steps with the current ``ctrl``."""

    @abstractmethod
    def reset(self, env_ids: torch.Tensor) -> None:
        """Put ``env_ids`` back to the model's default state (qpos0, zero velocity, warm start cleared).

        Derived fields are stale until ``forward``, so that callers can write the new state first.
        """

    @abstractmethod
    def forward(self, env_ids: torch.Tensor | None = None) -> None:
        """Recompute the derived fields of ``env_ids`` (all if None) from the state."""

    @abstractmethod
    def mj_data(self, env_index: int) -> mujoco.MjData:
        """A host MjData holding env ``env_index``'s current state, for rendering."""

    def compute_context(self) -> AbstractContextManager:
        """Context for the env's torch work around a step (the CPU backend limits threads)."""
        return nullcontext()

    def close(self) -> None:
        """Release resources; the backend is unusable afterwards."""
