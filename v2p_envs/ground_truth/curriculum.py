"""Ground truth for the curriculum seed tasks (reach, grasp)."""
from __future__ import annotations

import torch

__all__ = ["reach_block", "grasp_block", "SUCCESS"]


def reach_block(states: dict[str, torch.Tensor]) -> torch.Tensor:
    """The grasp point is within 3 cm of the block's centre."""
    return torch.linalg.vector_norm(states["block_pos"] - states["eef_pos"], dim=-1) < 0.03


def grasp_block(states: dict[str, torch.Tensor]) -> torch.Tensor:
    """The block is held between the fingers with its bottom at least 5 cm above the table.

    Between the fingers: the block's centre within 3 cm of the grasp point and the gripper
    closed on it (opening 3.5-6 cm for a 5 cm block). Held: it moves with the hand (relative
    speed below 5 cm/s), so a block tossed up past the fingers does not count.
    """
    block, eef = states["block_pos"], states["eef_pos"]
    half_height = states["block_size"][:, 2] / 2
    bottom_above_table = block[:, 2] - half_height - states["table_height"]
    between_fingers = torch.linalg.vector_norm(block - eef, dim=-1) < 0.03
    width = states["gripper_width"]
    closed_on_block = (width > 0.035) & (width < 0.06)
    moves_with_hand = torch.linalg.vector_norm(states["block_vel_linear"] - states["eef_vel_linear"], dim=-1) < 0.05
    return (bottom_above_table >= 0.05) & between_fingers & closed_on_block & moves_with_hand


SUCCESS = {"ReachBlock": reach_block, "GraspBlock": grasp_block}
