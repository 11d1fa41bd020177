"""CPU backend: MuJoCo's ``mujoco.batch`` steps N MjData on a thread pool.

Measured on 2 cores (benchmarks/RESULTS.md): ``batch.Batch`` beats
``mujoco.rollout`` and a Python thread pool, so it is the one we use. Its bound arrays are
numpy views of the simulations' rows, wrapped here as torch tensors without copies.
"""
from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import mujoco
import numpy as np
import torch
from mujoco import batch as mj_batch

from ..scene_builder import BuiltScene
from .base import DERIVED_FIELDS, STATE_FIELDS, PhysicsBackend

__all__ = ["MujocoBackend"]


class MujocoBackend(PhysicsBackend):
    """MuJoCo on the CPU; ``nthread`` defaults to the machine's cores."""

    name = "mujoco"

    def __init__(self, built: BuiltScene, num_envs: int, device: torch.device | str = "cpu",
                 nthread: int | None = None) -> None:
        if torch.device(device).type != "cpu":
            raise ValueError(f"the mujoco backend runs on the CPU; got device={device!r} "
                             "(use backend='warp' for a CUDA device)")
        super().__init__(built, num_envs, "cpu")
        self.nthread = nthread or min(os.cpu_count() or 1, num_envs)
        self._batch = mj_batch.Batch(self.model, nsim=num_envs, nthread=self.nthread, persistent=True)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            for name in STATE_FIELDS + DERIVED_FIELDS:
                self.fields[name] = torch.from_numpy(self._batch.bind(name))
        self._all = np.arange(num_envs)
        self.reset(torch.arange(num_envs))
        self.forward()

    def _ids(self, env_ids: torch.Tensor | None) -> np.ndarray:
        return self._all if env_ids is None else env_ids.detach().cpu().numpy().astype(np.int64)

    def step(self) -> None:
        # A failing simulation raises mujoco.batch.SimulationError naming the env ids.
        self._batch.step(nstep=self.substeps, stage=mujoco.mjtStage.mjSTAGE_VEL)

    def reset(self, env_ids: torch.Tensor) -> None:
        self._batch.reset(self._ids(env_ids), stage=mujoco.mjtStage.mjSTAGE_NONE)

    def forward(self, env_ids: torch.Tensor | None = None) -> None:
        self._batch.forward(self._ids(env_ids), stage=mujoco.mjtStage.mjSTAGE_VEL)

    @contextmanager
    def compute_context(self) -> Iterator[None]:
        """One torch thread for the env's small tensor math: on few cores, torch's idle workers
        spin and steal the CPUs MuJoCo's stepping threads need (measured: 2x slower env step)."""
        previous = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(previous)

    def mj_data(self, env_index: int) -> mujoco.MjData:
        return self._batch.get_data(env_index)
