"""Ground truth for the curriculum seed tasks (reach, grasp)."""
from __future__ import annotations

import torch

__all__ = ["reach_block", "SUCCESS"]


def reach_block(states: dict[str, torch.Tensor]) -> torch.Tensor:
    """The grasp point is within 3 cm of the block's centre."""
    return torch.linalg.vector_norm(states["block_pos"] - states["eef_pos"], dim=-1) < 0.03


SUCCESS = {"ReachBlock": reach_block}
