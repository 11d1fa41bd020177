"""Ground truth for the multiple-object tasks (Table 1: cover, uncover, push with, push next
to, drop in front of).

Written from the tasks' meaning, independently of their task.py. "Resting" means near its
resting height and slower than 5 cm/s. Two tasks are about how the state was reached (the
block was dropped from above; the block was pushed, not carried), which one ``states`` does not
show: the sim's ``<name>_max_height`` (highest centre height since the episode's reset) does.
"""
from __future__ import annotations

import math

import torch

from ..math3d import up_z

__all__ = ["cover", "uncover", "push_with", "push_next_to", "drop_in_front_of", "SUCCESS"]

TABLE_HALF = 0.6
REST_SPEED = 0.05


def _to_local(quat: torch.Tensor, vec: torch.Tensor) -> torch.Tensor:
    """World vectors expressed in the body frame given by ``quat`` (w-first, unit)."""
    w, x, y, z = quat.unbind(-1)
    r = torch.stack((
        torch.stack((1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)), -1),
        torch.stack((2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)), -1),
        torch.stack((2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)), -1),
    ), -2)  # body -> world rotation
    return (r.transpose(-1, -2) @ vec[..., None])[..., 0]


def _xy_dist(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.linalg.vector_norm(a[:, :2] - b[:, :2], dim=-1)


def _resting_on_table(states: dict[str, torch.Tensor], name: str, tol: float = 0.01) -> torch.Tensor:
    """Flat on the table top (centre at half its height, within ``tol``), on the table, still."""
    pos = states[f"{name}_pos"]
    height = pos[:, 2] - states["table_height"]
    flat = (height - states[f"{name}_size"][:, 2] / 2).abs() < tol
    on_table = (pos[:, :2].abs() < TABLE_HALF).all(dim=-1)
    still = torch.linalg.vector_norm(states[f"{name}_vel_linear"], dim=-1) < REST_SPEED
    return flat & on_table & still


def cover(states: dict[str, torch.Tensor]) -> torch.Tensor:
    """The upside-down cup rests on the table over the dice: the dice's centre is inside the
    cup's inner radius (3 cm, less a margin), the dice is on the table, the cup is still."""
    cup, dice = states["cup_pos"], states["dice_pos"]
    upside_down = up_z(states["cup_quat"]) < -math.cos(math.radians(15))
    cup_down = _resting_on_table(states, "cup")
    inside = _xy_dist(cup, dice) < 0.025
    dice_on_table = (dice[:, 2] - states["table_height"]) < states["dice_size"][:, 2] / 2 + 0.008
    return upside_down & cup_down & inside & dice_on_table


def uncover(states: dict[str, torch.Tensor]) -> torch.Tensor:
    """The cup has been moved off the dice: its axis is farther than its radius plus a margin
    from the dice (3.5 + 2.1 + 1.5 cm), and the dice still rests on the table near its start."""
    cup, dice = states["cup_pos"], states["dice_pos"]
    cup_radius = states["cup_size"][:, 0] / 2
    dice_half_diag = states["dice_size"][:, 0] * (0.5 * math.sqrt(2.0))
    uncovered = _xy_dist(cup, dice) > cup_radius + dice_half_diag + 0.015
    stayed = _xy_dist(dice, states["dice_init_pos"]) < 0.10
    return uncovered & _resting_on_table(states, "dice") & stayed


def push_with(states: dict[str, torch.Tensor]) -> torch.Tensor:
    """The block moved 10 cm+ over the table while the ruler is held in the hand (the grasp
    point on the ruler, fingers closed on it, ruler lifted off the table); the block was never
    carried (never more than 2 cm above its start height this episode)."""
    block = states["block_pos"]
    lift = states["block_max_height"] - states["block_init_pos"][:, 2]
    moved = _xy_dist(block, states["block_init_pos"]) >= 0.10
    on_table = (block[:, 2] - states["table_height"]) < states["block_size"][:, 2] / 2 + 0.01
    ruler_size = states["ruler_size"]
    local = _to_local(states["ruler_quat"], states["eef_pos"] - states["ruler_pos"])
    hand_on_ruler = (local[:, 0].abs() < ruler_size[:, 0] / 2) & (local[:, 1].abs() < 0.03) & (local[:, 2].abs() < 0.04)
    gripping = (states["gripper_width"] > 0.5 * ruler_size[:, 1]) & (states["gripper_width"] < ruler_size[:, 1] + 0.01)
    ruler_off_table = (states["ruler_pos"][:, 2] - states["table_height"]) > ruler_size[:, 2] / 2 + 0.004
    hand_clear_of_block = torch.linalg.vector_norm(states["eef_pos"] - block, dim=-1) > 0.05
    return moved & on_table & (lift < 0.02) & hand_on_ruler & gripping & ruler_off_table & hand_clear_of_block


def _sponge_cup_gap(states: dict[str, torch.Tensor]) -> torch.Tensor:
    """xy distance from the sponge's rectangle to the upright cup's circular footprint."""
    rel = torch.zeros_like(states["cup_pos"])
    rel[:, :2] = states["cup_pos"][:, :2] - states["sponge_pos"][:, :2]
    local = _to_local(states["sponge_quat"], rel)[:, :2]
    half = states["sponge_size"][:, :2] / 2
    outside = torch.clamp(local.abs() - half, min=0.0)
    return torch.linalg.vector_norm(outside, dim=-1) - states["cup_size"][:, 0] / 2


def push_next_to(states: dict[str, torch.Tensor]) -> torch.Tensor:
    """The sponge rests flat on the table right next to the cup (footprints less than 5 cm
    apart, not on or over it), and the cup still stands upright where it stood (moved < 5 cm)."""
    gap = _sponge_cup_gap(states)
    next_to = (gap > -0.005) & (gap < 0.05)
    cup_upright = up_z(states["cup_quat"]) > math.cos(math.radians(15))
    cup_stays = _xy_dist(states["cup_pos"], states["cup_init_pos"]) < 0.05
    sponge_flat = up_z(states["sponge_quat"]) > math.cos(math.radians(15))
    return (next_to & sponge_flat & _resting_on_table(states, "sponge") & cup_upright
            & _resting_on_table(states, "cup") & cup_stays)


def drop_in_front_of(states: dict[str, torch.Tensor]) -> torch.Tensor:
    """The block was lifted (4 cm+ above its start this episode) and let go: it rests on the
    table, away from the hand, on the robot's side of the bowl, 5-15 cm from the bowl's rim,
    within a 45 deg cone in front of the bowl."""
    block, bowl = states["block_pos"], states["bowl_pos"]
    lift = states["block_max_height"] - states["block_init_pos"][:, 2]
    rim_gap = _xy_dist(block, bowl) - states["bowl_size"][:, 0] / 2
    ahead = bowl[:, 0] - block[:, 0]
    in_front = (ahead > 0) & ((block[:, 1] - bowl[:, 1]).abs() < ahead)
    released = torch.linalg.vector_norm(states["eef_pos"] - block, dim=-1) > 0.05
    return ((lift > 0.04) & released & in_front & (rim_gap > 0.05) & (rim_gap < 0.15)
            & _resting_on_table(states, "block"))


SUCCESS = {
    "Cover": cover,
    "Uncover": uncover,
    "PushWith": push_with,
    "PushNextTo": push_next_to,
    "DropInFrontOf": drop_in_front_of,
}
