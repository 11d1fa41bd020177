"""Ground truth for the single-object tasks (push left/right, lift up, tip over)."""
from __future__ import annotations

import torch

from ..math3d import up_z

__all__ = ["push_left", "push_right", "lift_up", "lifted", "tip_over", "SUCCESS"]

_TABLE_HALF_EXTENT = 0.6


def _speed(states: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    return torch.linalg.vector_norm(states[f"{name}_vel_linear"], dim=-1)


def _on_table_xy(pos: torch.Tensor) -> torch.Tensor:
    return (pos[:, 0].abs() < _TABLE_HALF_EXTENT) & (pos[:, 1].abs() < _TABLE_HALF_EXTENT)


def _pushed(states: dict[str, torch.Tensor], name: str, direction: float) -> torch.Tensor:
    """Moved >= 15 cm along ``direction`` * y (mostly that way), resting on the table as at start,
    and pushed rather than carried: never more than 2 cm above its start during the episode."""
    pos, init = states[f"{name}_pos"], states[f"{name}_init_pos"]
    never_lifted = states[f"{name}_max_height"] - init[:, 2] < 0.02
    along = direction * (pos[:, 1] - init[:, 1])
    sideways = (pos[:, 0] - init[:, 0]).abs()
    same_height = (pos[:, 2] - init[:, 2]).abs() < 0.01  # on the table, same face down, not lifted
    at_rest = _speed(states, name) < 0.1
    return (along >= 0.15) & (sideways < along) & same_height & never_lifted & at_rest & _on_table_xy(pos)


def push_left(states: dict[str, torch.Tensor]) -> torch.Tensor:
    """The snack box lies >= 15 cm further left (+y) than it started, still on the table, at rest."""
    return _pushed(states, "snack_box", 1.0)


def push_right(states: dict[str, torch.Tensor]) -> torch.Tensor:
    """The cup stands >= 15 cm further right (-y) than it started, upright on the table, at rest."""
    upright = up_z(states["cup_quat"]) > 0.95
    return _pushed(states, "cup", -1.0) & upright


def lifted(states: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    """``name`` is >= 10 cm above where it rested and held there (in the hand, moving with it)."""
    obj, eef = states[f"{name}_pos"], states["eef_pos"]
    raised = obj[:, 2] - states[f"{name}_init_pos"][:, 2] >= 0.10
    in_hand = (torch.linalg.vector_norm(obj - eef, dim=-1) < 0.05) & (states["gripper_width"] < 0.07)
    held = torch.linalg.vector_norm(states[f"{name}_vel_linear"] - states["eef_vel_linear"], dim=-1) < 0.05
    return raised & in_hand & held


def lift_up(states: dict[str, torch.Tensor]) -> torch.Tensor:
    """The sponge is lifted (``lifted``)."""
    return lifted(states, "sponge")


def tip_over(states: dict[str, torch.Tensor]) -> torch.Tensor:
    """The bottle, which started standing, lies on its side on the table and is at rest."""
    pos = states["bottle_pos"]
    lying = up_z(states["bottle_quat"]).abs() < 0.2  # axis within ~12 degrees of horizontal
    radius = states["bottle_size"][:, 0] / 2
    on_table = (pos[:, 2] - states["table_height"] < radius + 0.012) & _on_table_xy(pos)
    still = (_speed(states, "bottle") < 0.02) & (
        torch.linalg.vector_norm(states["bottle_vel_angular"], dim=-1) < 0.3)
    return lying & on_table & still


SUCCESS = {"PushLeft": push_left, "PushRight": push_right, "LiftUp": lift_up, "TipOver": tip_over}
