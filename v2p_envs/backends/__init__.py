"""Physics backends behind one interface; pick one with ``make_backend``."""
from __future__ import annotations

import torch

from ..scene_builder import BuiltScene
from .base import PhysicsBackend

__all__ = ["PhysicsBackend", "make_backend", "resolve_backend_name"]


def resolve_backend_name(backend: str | None, device: torch.device | str) -> str:
    """``backend=None`` means MuJoCo on a CPU device and MuJoCo Warp on a CUDA device."""
    if backend is not None:
        return backend
    return "warp" if torch.device(device).type == "cuda" else "mujoco"


def make_backend(built: BuiltScene, num_envs: int, device: torch.device | str = "cpu",
                 backend: str | None = None) -> PhysicsBackend:
    name = resolve_backend_name(backend, device)
    if name == "mujoco":
        from .mujoco_cpu import MujocoBackend

        return MujocoBackend(built, num_envs, device)
    if name == "warp":
        try:
            from .mujoco_warp import WarpBackend
        except ImportError as exc:
            raise ImportError(f"backend='warp' needs MuJoCo Warp: pip install -e .[gpu] ({exc})") from None
        return WarpBackend(built, num_envs, device)
    raise ValueError(f"unknown backend {name!r}: expected 'mujoco' (CPU) or 'warp' (GPU)")
