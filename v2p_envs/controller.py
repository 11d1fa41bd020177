"""Differential-IK end-effector controller on top of the arm's joint position actuators.

Action (7 numbers in [-1, 1]): delta end-effector position (3) scaled by ``max_delta_pos``
metres, delta rotation as a world-frame axis-angle (3) scaled by ``max_delta_rot`` radians,
and the gripper (1): -1 closed, +1 fully open (8 cm), linear in between.

Every env step the goal is the current hand pose moved by the deltas (as robosuite's and Isaac
Lab's relative modes: no wind-up when the hand is blocked); the controller solves damped least
squares on the geometric Jacobian (built from MuJoCo's joint axes and anchors, so it is the same on every backend) and
sends joint position targets, clipped to the joint limits. Targets are clipped to a workspace
box above the table. A null-space term pulls the arm gently towards its home posture.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


__all__ = ["ControllerConfig", "DiffIKController", "geometric_jacobian"]


@dataclass(frozen=True)
class ControllerConfig:
    """Deltas per env step; at 50 Hz, 3 cm and 0.15 rad are 1.5 m/s and 7.5 rad/s commanded."""

    max_delta_pos: float = 0.03
    max_delta_rot: float = 0.15
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
                 table_height: float, num_envs: int, device: torch.device,
                 damping_feedforward: torch.Tensor | None = None) -> None:
        self.config = config
        # A PD position actuator moving at speed v settles kv/kp * v behind its target; leading
        # the target by that much (v = dq / control_dt) lets the joint cover dq in one step.
        self.feedforward = 1.0 + (damping_feedforward.to(device) if damping_feedforward is not None
                                  else torch.zeros(7, device=device))
        margin = config.joint_limit_margin
        self.q_low = joint_limits[:, 0].to(device) + margin
        self.q_high = joint_limits[:, 1].to(device) - margin
        self.home = home_qpos.to(device)
        offset = torch.tensor([0.0, 0.0, table_height], device=device)
        self.ws_low = torch.tensor(config.workspace_low, device=device) + offset
        self.ws_high = torch.tensor(config.workspace_high, device=device) + offset
        self.target_pos = torch.zeros(num_envs, 3, device=device)
        self._eye6 = torch.eye(6, device=device) * config.damping ** 2

    def reset(self, env_ids: torch.Tensor, eef_pos: torch.Tensor, eef_quat: torch.Tensor) -> None:
        self.target_pos[env_ids] = eef_pos

    def compute(self, actions: torch.Tensor, q: torch.Tensor, eef_pos: torch.Tensor, eef_quat: torch.Tensor,
                jacobian: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Joint targets (N, 7) and per-finger opening targets (N,) for ``actions`` (N, 7)."""
        cfg = self.config
        actions = actions.clamp(-1.0, 1.0)
        # The goal is the current hand pose moved by the deltas, kept inside the workspace box.
        goal = eef_pos + actions[:, :3] * cfg.max_delta_pos
        self.target_pos = torch.maximum(torch.minimum(goal, self.ws_high), self.ws_low)
        # The goal orientation is the commanded world-frame rotation applied to the current one,
        # so the orientation error is that rotation vector itself (|angle| <= 0.26 rad < pi).
        error = torch.cat((self.target_pos - eef_pos, actions[:, 3:6] * cfg.max_delta_rot), dim=-1)
        # Damped least squares: J+ = J^T (J J^T + lambda^2 I)^-1, one batched solve serving both
        # the task motion dq = J+ e and the null-space posture term (I - J+ J) k (q_home - q).
        pinv = torch.linalg.solve(jacobian @ jacobian.transpose(1, 2) + self._eye6, jacobian).transpose(1, 2)
        dq = (pinv @ error[..., None])[..., 0]
        posture = cfg.nullspace_gain * (self.home - q)
        posture = posture - (pinv @ (jacobian @ posture[..., None]))[..., 0]
        q_target = torch.minimum(torch.maximum(q + dq * self.feedforward + posture, self.q_low), self.q_high)
        finger = (actions[:, 6] + 1.0) * 0.5 * cfg.max_finger_opening
        return q_target, finger
