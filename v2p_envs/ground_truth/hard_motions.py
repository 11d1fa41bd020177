"""Ground truth for the hard-motion tasks (insert a fork, slide a remote, throw garlic)."""
from __future__ import annotations

import torch

from ..math3d import up_z

__all__ = ["insert_fork", "slide_remote_to_mouse", "throw_garlic", "SUCCESS"]


def _heading(quat: torch.Tensor) -> torch.Tensor:
    w, x, y, z = quat.unbind(-1)
    return torch.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))


def _speed(states: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    return torch.linalg.vector_norm(states[f"{name}_vel_linear"], dim=-1)


def _spin(states: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    return torch.linalg.vector_norm(states[f"{name}_vel_angular"], dim=-1)


def insert_fork(states: dict[str, torch.Tensor]) -> torch.Tensor:
    """The fork lies inside the upright storage box: its centre within the box's inner walls
    (in the box's frame) and below the rim, at rest, and the hand has let go of it."""
    fork, box = states["fork_pos"], states["storage_box_pos"]
    size = states["storage_box_size"]
    wall = 0.006
    yaw = _heading(states["storage_box_quat"])
    dx, dy = fork[:, 0] - box[:, 0], fork[:, 1] - box[:, 1]
    along = torch.cos(yaw) * dx + torch.sin(yaw) * dy
    across = -torch.sin(yaw) * dx + torch.cos(yaw) * dy
    within = (along.abs() < size[:, 0] / 2 - wall) & (across.abs() < size[:, 1] / 2 - wall)
    rim = box[:, 2] + size[:, 2] / 2
    below_rim = (fork[:, 2] < rim) & (fork[:, 2] > states["table_height"])
    box_upright = up_z(states["storage_box_quat"]) > 0.95
    at_rest = (_speed(states, "fork") < 0.03) & (_spin(states, "fork") < 0.5)
    let_go = torch.linalg.vector_norm(fork - states["eef_pos"], dim=-1) > 0.05
    return within & below_rim & box_upright & at_rest & let_go


def _footprint_corners(states: dict[str, torch.Tensor], name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The four xy corners (N, 4, 2) of ``name``'s footprint and its two unit edge axes (N, 2, 2)."""
    yaw = _heading(states[f"{name}_quat"])
    c, s = torch.cos(yaw), torch.sin(yaw)
    axes = torch.stack((torch.stack((c, s), dim=-1), torch.stack((-s, c), dim=-1)), dim=1)
    half = states[f"{name}_size"][:, :2] / 2
    signs = torch.tensor([[1, 1], [1, -1], [-1, 1], [-1, -1]], dtype=axes.dtype, device=axes.device)
    offsets = (signs[None, :, :, None] * half[:, None, :, None] * axes[:, None, :, :]).sum(dim=2)
    return states[f"{name}_pos"][:, None, :2] + offsets, axes


def _footprint_separation(states: dict[str, torch.Tensor], a: str, b: str) -> torch.Tensor:
    """How far apart the table footprints (oriented boxes) of ``a`` and ``b`` are, by the
    separating axis test: <= 0 when they overlap, never more than the true gap."""
    corners_a, axes_a = _footprint_corners(states, a)
    corners_b, axes_b = _footprint_corners(states, b)
    separation = None
    for axis in (*axes_a.unbind(1), *axes_b.unbind(1)):
        pa = (corners_a * axis[:, None, :]).sum(-1)
        pb = (corners_b * axis[:, None, :]).sum(-1)
        sep = torch.maximum(pb.min(dim=1).values - pa.max(dim=1).values,
                            pa.min(dim=1).values - pb.max(dim=1).values)
        separation = sep if separation is None else torch.maximum(separation, sep)
    return separation


def slide_remote_to_mouse(states: dict[str, torch.Tensor]) -> torch.Tensor:
    """The remote was slid across the table until it (nearly) touches the mouse: footprints
    less than 2 cm apart, the remote >= 10 cm from where it started, never lifted more than 2 cm
    during the episode, lying flat at its resting height and at rest; the mouse stayed roughly
    where it was."""
    remote, init = states["remote_pos"], states["remote_init_pos"]
    close = _footprint_separation(states, "remote", "mouse") < 0.02
    travelled = torch.linalg.vector_norm(remote[:, :2] - init[:, :2], dim=-1) >= 0.10
    resting = ((remote[:, 2] - init[:, 2]).abs() < 0.01) & (up_z(states["remote_quat"]) > 0.95)
    slid = states["remote_max_height"] - init[:, 2] < 0.02
    at_rest = _speed(states, "remote") < 0.05
    mouse_stayed = torch.linalg.vector_norm(
        states["mouse_pos"][:, :2] - states["mouse_init_pos"][:, :2], dim=-1) < 0.05
    return close & travelled & resting & slid & at_rest & mouse_stayed


def throw_garlic(states: dict[str, torch.Tensor]) -> torch.Tensor:
    """The garlic ended up in the bowl and was let go: horizontally within the bowl's inner
    radius, below the rim and above the table, nearly still, the hand more than 10 cm away, and
    the bowl still upright."""
    garlic, bowl = states["garlic_pos"], states["bowl_pos"]
    size = states["bowl_size"]
    inner_radius = size[:, 0] / 2 - 0.006
    within = torch.linalg.vector_norm(garlic[:, :2] - bowl[:, :2], dim=-1) < inner_radius
    below_rim = (garlic[:, 2] < bowl[:, 2] + size[:, 2] / 2) & (garlic[:, 2] > states["table_height"])
    slow = _speed(states, "garlic") < 0.05
    let_go = torch.linalg.vector_norm(garlic - states["eef_pos"], dim=-1) > 0.10
    bowl_upright = up_z(states["bowl_quat"]) > 0.9
    return within & below_rim & slow & let_go & bowl_upright


SUCCESS = {"InsertFork": insert_fork, "SlideRemoteToMouse": slide_remote_to_mouse, "ThrowGarlic": throw_garlic}
