"""Oracles for the curriculum seed tasks (reach, grasp)."""
from __future__ import annotations

import torch

from .base import GRIP_OPEN, Oracle

__all__ = ["ReachBlockOracle", "ORACLES"]


class ReachBlockOracle(Oracle):
    """Hover above the block, then descend onto its centre."""

    def act(self, states: dict[str, torch.Tensor]) -> torch.Tensor:
        block = states["block_pos"]
        above = block + torch.tensor([0.0, 0.0, 0.08], device=self.device)
        target = torch.where((self.phase == 0)[:, None], above, block)
        self.advance(self.near(states["eef_pos"], above, 0.02))
        return self.move_to(states, target, GRIP_OPEN)


ORACLES: dict[str, type[Oracle]] = {"ReachBlock": ReachBlockOracle}
