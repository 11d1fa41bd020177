"""Batched rotation helpers in torch (quaternions are w-first, as in MuJoCo)."""
from __future__ import annotations

import torch

__all__ = ["quat_mul", "quat_conj", "quat_rotate", "quat_from_axis_angle", "quat_to_axis_angle",
           "quat_from_matrix", "yaw_quat", "up_z"]


def quat_mul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    aw, ax, ay, az = a.unbind(-1)
    bw, bx, by, bz = b.unbind(-1)
    return torch.stack((
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    ), dim=-1)


def quat_conj(q: torch.Tensor) -> torch.Tensor:
    return torch.cat((q[..., :1], -q[..., 1:]), dim=-1)


def quat_rotate(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Rotate vectors ``v`` (..., 3) by unit quaternions ``q`` (..., 4)."""
    w, xyz = q[..., :1], q[..., 1:]
    t = 2.0 * torch.cross(xyz, v, dim=-1)
    return v + w * t + torch.cross(xyz, t, dim=-1)


def quat_from_axis_angle(rotvec: torch.Tensor) -> torch.Tensor:
    angle = torch.linalg.vector_norm(rotvec, dim=-1, keepdim=True)
    half = 0.5 * angle
    # sin(x/2)/x -> 1/2 as x -> 0
    scale = torch.where(angle > 1e-8, torch.sin(half) / angle.clamp_min(1e-8), 0.5 - angle * angle / 48.0)
    return torch.cat((torch.cos(half), rotvec * scale), dim=-1)


def quat_to_axis_angle(q: torch.Tensor) -> torch.Tensor:
    """Rotation vector of ``q``, taking the short way round (w >= 0)."""
    q = torch.where(q[..., :1] < 0, -q, q)
    sin_half = torch.linalg.vector_norm(q[..., 1:], dim=-1, keepdim=True)
    angle = 2.0 * torch.atan2(sin_half, q[..., :1])
    scale = torch.where(sin_half > 1e-8, angle / sin_half.clamp_min(1e-8), 2.0 + 0.0 * angle)
    return q[..., 1:] * scale


def quat_from_matrix(m: torch.Tensor) -> torch.Tensor:
    """Unit quaternion (w-first) of rotation matrices (..., 3, 3), numerically safe branch-free."""
    m00, m11, m22 = m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]
    w = torch.sqrt(torch.clamp(1 + m00 + m11 + m22, min=0)) / 2
    x = torch.sqrt(torch.clamp(1 + m00 - m11 - m22, min=0)) / 2
    y = torch.sqrt(torch.clamp(1 - m00 + m11 - m22, min=0)) / 2
    z = torch.sqrt(torch.clamp(1 - m00 - m11 + m22, min=0)) / 2
    x = torch.copysign(x, m[..., 2, 1] - m[..., 1, 2])
    y = torch.copysign(y, m[..., 0, 2] - m[..., 2, 0])
    z = torch.copysign(z, m[..., 1, 0] - m[..., 0, 1])
    q = torch.stack((w, x, y, z), dim=-1)
    return q / torch.linalg.vector_norm(q, dim=-1, keepdim=True)


def yaw_quat(yaw: torch.Tensor) -> torch.Tensor:
    """Rotation about world z by ``yaw`` radians, (N,) -> (N, 4)."""
    zeros = torch.zeros_like(yaw)
    return torch.stack((torch.cos(yaw / 2), zeros, zeros, torch.sin(yaw / 2)), dim=-1)


def up_z(quat: torch.Tensor) -> torch.Tensor:
    """z component of a body's local +z axis in the world: 1 upright, 0 on its side, -1 upside down."""
    x, y = quat[..., 1], quat[..., 2]
    return 1.0 - 2.0 * (x * x + y * y)
