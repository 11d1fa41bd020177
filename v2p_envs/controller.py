"""Differential-IK end-effector controller on top of the arm's joint position actuators.

Action (7 numbers in [-1, 1]): delta end-effector position (3) scaled by ``max_delta_pos``
metres, delta rotation as a world-frame axis-angle (3) scaled by ``max_delta_rot`` radians,
and the gripper (1): -1 closed, +1 fully open (8 cm), linear in between.

The controller keeps a target pose per env that integrates the deltas and may lead the hand by
at most ``max_lead_*``; every env step it solves damped least squares on the geometric
Jacobian (built from MuJoCo's joint axes and anchors, so it is the same on every backend) and
sends joint position targets, clipped to the joint limits. Targets are clipped to a workspace
box above the table. A null-space term pulls the arm gently towards its home posture.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .math3d import quat_from_axis_angle, quat_mul, quat_conj, quat_to_axis_angle

__all__ = ["ControllerConfig", "DiffIKController", "geometric_jacobian"]


@dataclass(frozen=True)
class ControllerConfig:
    """At 50 Hz control, 3 cm and 0.15 rad per step are 1.5 m/s and 7.5 rad/s at most."""

    max_delta_pos: float = 0.03
    max_delta_rot: float = 0.15
    max_lead_pos: float = 0.06
    max_lead_rot: float = 0.6
    damping: float = 0.05
    nullspace_gain: float = 0.05
    joint_limit_margin: float = 0.02
    # Workspace box in world coordinates; z is relative to the table top.
    workspace_low: tuple[float, float, float] = (-0.40, -0.55, 0.003)
    workspace_high: tuple[float, float, float] = (0.55, 0.55, 0.70)
    max_finger_opening: float = 0.04


def geometric_jacobian(axes: torch.Tensor, anchors: torch.Tensor, point: torch.Tensor) -> torch.Tensor:
    """(N, 6, J) Jacobian of ``point`` for revolute joints with world ``axes``/``anchors`` (N, J, 3)."""
    linear = torch.cross(axes, point[:, None, :] - anchors, dim=-1)
    return torch.cat((linear, axes), dim=-1).transpose(1, 2)


class DiffIKController:
    """Batched controller; ``compute`` maps actions to arm and finger position targets."""

    def __init__(self, config: ControllerConfig, joint_limits: torch.Tensor, home_qpos: torch.Tensor,
                 table_height: float, num_envs: int, device: torch.device) -> None:
        self.config = config
        margin = config.joint_limit_margin
        self.q_low = joint_limits[:, 0].to(device) + margin
        self.q_high = joint_limits[:, 1].to(device) - margin
        self.home = home_qpos.to(device)
        offset = torch.tensor([0.0, 0.0, table_height], device=device)
        self.ws_low = torch.tensor(config.workspace_low, device=device) + offset
        self.ws_high = torch.tensor(config.workspace_high, device=device) + offset
        self.target_pos = torch.zeros(num_envs, 3, device=device)
        self.target_quat = torch.zeros(num_envs, 4, device=device)
        self.target_quat[:, 0] = 1.0
        self._eye6 = torch.eye(6, device=device) * config.damping ** 2

    def reset(self, env_ids: torch.Tensor, eef_pos: torch.Tensor, eef_quat: torch.Tensor) -> None:
        self.target_pos[env_ids] = eef_pos
        self.target_quat[env_ids] = eef_quat

    def compute(self, actions: torch.Tensor, q: torch.Tensor, eef_pos: torch.Tensor, eef_quat: torch.Tensor,
                jacobian: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Joint targets (N, 7) and per-finger opening targets (N,) for ``actions`` (N, 7)."""
        cfg = self.config
        actions = actions.clamp(-1.0, 1.0)
        # Integrate the deltas into the target, then keep it close to the hand and in the box.
        target = self.target_pos + actions[:, :3] * cfg.max_delta_pos
        lead = (target - eef_pos).clamp(-cfg.max_lead_pos, cfg.max_lead_pos)
        self.target_pos = torch.maximum(torch.minimum(eef_pos + lead, self.ws_high), self.ws_low)
        delta_quat = quat_from_axis_angle(actions[:, 3:6] * cfg.max_delta_rot)
        target_quat = quat_mul(delta_quat, self.target_quat)
        rot_error = quat_to_axis_angle(quat_mul(target_quat, quat_conj(eef_quat)))
        rot_norm = torch.linalg.vector_norm(rot_error, dim=-1, keepdim=True)
        too_far = rot_norm > cfg.max_lead_rot
        # Pull the target back towards the hand when it runs too far ahead in rotation.
        clipped = rot_error * (cfg.max_lead_rot / rot_norm.clamp_min(1e-9))
        rot_error = torch.where(too_far, clipped, rot_error)
        self.target_quat = torch.where(too_far, quat_mul(quat_from_axis_angle(rot_error), eef_quat), target_quat)
        self.target_quat = self.target_quat / torch.linalg.vector_norm(self.target_quat, dim=-1, keepdim=True)
        error = torch.cat((self.target_pos - eef_pos, rot_error), dim=-1)
        # Damped least squares: dq = J^T (J J^T + lambda^2 I)^-1 e, plus a null-space posture term.
        jt = jacobian.transpose(1, 2)
        gram = jacobian @ jt + self._eye6
        dq = (jt @ torch.linalg.solve(gram, error[..., None]))[..., 0]
        posture = cfg.nullspace_gain * (self.home - q)
        posture = posture - (jt @ torch.linalg.solve(gram, (jacobian @ posture[..., None])))[..., 0]
        q_target = torch.minimum(torch.maximum(q + dq + posture, self.q_low), self.q_high)
        finger = (actions[:, 6] + 1.0) * 0.5 * cfg.max_finger_opening
        return q_target, finger
