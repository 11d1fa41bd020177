"""Oracles for the curriculum seed tasks (reach, grasp)."""
from __future__ import annotations

import math

import torch

from .base import GRIP_CLOSED, GRIP_OPEN, Oracle

__all__ = ["ReachBlockOracle", "GraspBlockOracle", "ORACLES"]


class ReachBlockOracle(Oracle):
    """Hover above the block, then descend onto its centre."""

    def act(self, states: dict[str, torch.Tensor]) -> torch.Tensor:
        block = states["block_pos"]
        above = block + torch.tensor([0.0, 0.0, 0.08], device=self.device)
        target = torch.where((self.phase == 0)[:, None], above, block)
        self.advance(self.near(states["eef_pos"], above, 0.02))
        return self.move_to(states, target, GRIP_OPEN)


class GraspBlockOracle(Oracle):
    """Hover above the block aligned with its faces, descend, close, lift 15 cm and hold.

    Phases: 0 hover, 1 descend, 2 close (20 steps), 3 lift and hold.
    """

    def act(self, states: dict[str, torch.Tensor]) -> torch.Tensor:
        eef, block = states["eef_pos"], states["block_pos"]
        if "yaw" not in self.memory:
            self.memory["yaw"] = torch.zeros(self.num_envs, device=self.device)
        # A cube is symmetric every 90 degrees: take the nearest face-aligned yaw.
        block_yaw = torch.remainder(self.yaw_of(states["block_quat"]) + math.pi / 4, math.pi / 2) - math.pi / 4
        hovering = self.phase == 0
        self.memory["yaw"] = torch.where(hovering, block_yaw, self.memory["yaw"])
        above = block + torch.tensor([0.0, 0.0, 0.10], device=self.device)
        lift = states["block_init_pos"] + torch.tensor([0.0, 0.0, 0.15], device=self.device)
        # The grasp point is fixed once the descent ends, so closing does not chase the object upwards.
        if "grasp" not in self.memory:
            self.memory["grasp"] = block.clone()
        self.memory["grasp"] = torch.where((self.phase <= 1)[:, None], block, self.memory["grasp"])
        target = torch.where(hovering[:, None], above, self.memory["grasp"])
        target = torch.where((self.phase >= 3)[:, None], lift, target)
        grip = torch.where(self.phase >= 2, GRIP_CLOSED, GRIP_OPEN)
        action = self.move_to(states, target, grip, self.down_quat(self.num_envs, self.memory["yaw"]), speed=0.5)
        done = torch.where(self.phase == 0, self.near(eef, above, 0.015),
                           torch.where(self.phase == 1, self.near(eef, block, 0.01), self.phase == 2))
        self.advance(done & (self.phase < 3), min_steps=torch.where(self.phase == 2, 20, 5))
        return action


ORACLES: dict[str, type[Oracle]] = {"ReachBlock": ReachBlockOracle, "GraspBlock": GraspBlockOracle}
