"""Oracles for the curriculum seed tasks (reach, grasp)."""
from __future__ import annotations

import math

import torch

from .base import GRIP_OPEN, Oracle, TopGraspLiftOracle

__all__ = ["ReachBlockOracle", "GraspBlockOracle", "ORACLES"]


class ReachBlockOracle(Oracle):
    """Hover above the block, then descend onto its centre."""

    def act(self, states: dict[str, torch.Tensor]) -> torch.Tensor:
        block = states["block_pos"]
        above = block + torch.tensor([0.0, 0.0, 0.08], device=self.device)
        target = torch.where((self.phase == 0)[:, None], above, block)
        self.advance(self.near(states["eef_pos"], above, 0.02))
        return self.move_to(states, target, GRIP_OPEN)


class GraspBlockOracle(TopGraspLiftOracle):
    """Top grasp on the block's nearest faces (a cube repeats every 90 degrees), lift 15 cm."""

    object_name = "block"
    yaw_period = math.pi / 2
    lift_height = 0.15


ORACLES: dict[str, type[Oracle]] = {"ReachBlock": ReachBlockOracle, "GraspBlock": GraspBlockOracle}
