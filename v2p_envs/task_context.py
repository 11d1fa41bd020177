"""TaskContext: the narrow view of the simulator that task code gets.

Task code (a model's or a person's) needs the objects' sizes per env, the table height,
reproducible random draws and a way to place objects at reset. It does not get the simulator
itself: object placement is refused outside ``reset_objects_states``, sizes are copies, and
the ``states`` dict it reads is a copy too, so task code cannot move an object mid-episode or
change what the ground truth reads.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

import torch

from .errors import TaskContractError

if TYPE_CHECKING:
    from .sim import BatchedSim

__all__ = ["TaskContext"]


class TaskContext:
    """Sizes, table height, random streams and reset-time placement for ``num_envs`` envs."""

    def __init__(self, sim: "BatchedSim") -> None:
        self._sim = sim
        self._placing = False
        self.num_envs: int = sim.num_envs
        self.device: torch.device = sim.device
        self.object_names: tuple[str, ...] = tuple(sim.object_names)
        self.table_height: float = float(sim.table_height)

    def nominal_size(self, name: str) -> torch.Tensor:
        """The object's size in scene.json (3,), metres; per-env sizes may differ (``object_sizes``)."""
        return self._sim.object_sizes[self._known(name)].clone()

    def object_sizes(self, name: str, env_ids: torch.Tensor) -> torch.Tensor:
        """Each env's size of ``name`` (len(env_ids), 3): with size randomisation, drawn at this reset."""
        return self._sim.env_object_sizes[self._known(name)][env_ids].clone()

    def uniform(self, env_ids: torch.Tensor, *shape: int, low: float | torch.Tensor = 0.0,
                high: float | torch.Tensor = 1.0) -> torch.Tensor:
        """Per-env reproducible uniform draws of shape (len(env_ids), *shape)."""
        return self._sim.rng.uniform(env_ids, *shape, low=low, high=high)

    def set_object_pose(self, name: str, env_ids: torch.Tensor, pos: torch.Tensor,
                        quat: torch.Tensor | None = None) -> None:
        """Place ``name`` at rest at ``pos`` (n, 3) with ``quat`` (n, 4, w-first); reset only."""
        if not self._placing:
            raise TaskContractError(f"objects can be placed only inside reset_objects_states (tried to move "
                                    f"{name!r})", "forbidden")
        self._sim.set_object_pose(self._known(name), env_ids, pos, quat)

    @contextmanager
    def _placement(self) -> Iterator[None]:
        """Opened by the env around ``reset_objects_states`` only."""
        self._placing = True
        try:
            yield
        finally:
            self._placing = False

    def _known(self, name: str) -> str:
        if name not in self.object_names:
            raise KeyError(f"no object named {name!r}; objects are {list(self.object_names)}")
        return name
