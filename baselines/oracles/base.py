"""Scripted oracle policies: hand-written, privileged-state, batched over envs.

An oracle proves a task is solvable in our simulator and later provides demonstrations. It
reads the env's ``states`` dict (never the observation) and keeps a per-env phase counter, so
one oracle drives thousands of envs at once.
"""
from __future__ import annotations

import math

import torch

from v2p_envs.math3d import quat_conj, quat_mul, quat_to_axis_angle

__all__ = ["Oracle", "TopGraspLiftOracle", "GRIP_OPEN", "GRIP_CLOSED", "DOWN_QUAT"]

GRIP_OPEN, GRIP_CLOSED = 1.0, -1.0
#: Gripper pointing straight down, fingers closing along world y (the home orientation).
DOWN_QUAT = (0.0, 1.0, 0.0, 0.0)


class Oracle:
    """Base class: subclasses implement ``act`` using ``phase``/``timer`` and the helpers."""

    def __init__(self, env) -> None:
        self.env = env
        self.num_envs = env.num_envs
        self.device = env.device
        self.table_height = env.sim.table_height
        cfg = env.sim.controller.config
        self.max_delta_pos, self.max_delta_rot = cfg.max_delta_pos, cfg.max_delta_rot
        self.phase = torch.zeros(self.num_envs, dtype=torch.long, device=self.device)
        self.timer = torch.zeros(self.num_envs, dtype=torch.long, device=self.device)
        self.memory: dict[str, torch.Tensor] = {}

    def reset(self, env_ids: torch.Tensor | None = None) -> None:
        ids = slice(None) if env_ids is None else env_ids
        self.phase[ids] = 0
        self.timer[ids] = 0

    def act(self, states: dict[str, torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    # -- helpers ---------------------------------------------------------------------------
    def advance(self, done: torch.Tensor, min_steps: int = 0) -> None:
        """Go to the next phase where ``done`` holds (and the phase lasted ``min_steps``)."""
        step = done & (self.timer >= min_steps)
        self.phase = torch.where(step, self.phase + 1, self.phase)
        self.timer = torch.where(step, torch.zeros_like(self.timer), self.timer + 1)

    def move_to(self, states: dict[str, torch.Tensor], target: torch.Tensor, grip: float | torch.Tensor,
                target_quat: torch.Tensor | None = None, speed: float = 1.0) -> torch.Tensor:
        """Action moving the hand towards ``target`` (N, 3) at up to ``speed`` x the max step."""
        n = self.num_envs
        action = torch.zeros(n, 7, device=self.device)
        delta = (target - states["eef_pos"]) / self.max_delta_pos
        norm = torch.linalg.vector_norm(delta, dim=-1, keepdim=True).clamp_min(1e-9)
        action[:, :3] = delta * torch.clamp(speed / norm, max=1.0)
        quat = target_quat if target_quat is not None else self.down_quat(n)
        rot = quat_to_axis_angle(quat_mul(quat, quat_conj(states["eef_quat"]))) / self.max_delta_rot
        action[:, 3:6] = rot.clamp(-1.0, 1.0)
        action[:, 6] = grip if isinstance(grip, torch.Tensor) else torch.full((n,), grip, device=self.device)
        return action

    def down_quat(self, n: int, yaw: torch.Tensor | None = None) -> torch.Tensor:
        """Gripper pointing down, rotated by ``yaw`` about world z (fingers close across yaw + 90 deg)."""
        down = torch.tensor(DOWN_QUAT, device=self.device).expand(n, 4)
        if yaw is None:
            return down
        zeros = torch.zeros_like(yaw)
        twist = torch.stack((torch.cos(yaw / 2), zeros, zeros, torch.sin(yaw / 2)), dim=-1)
        return quat_mul(twist, down)

    @staticmethod
    def yaw_of(quat: torch.Tensor) -> torch.Tensor:
        """Heading of an object's x axis about world z, folded to (-pi/2, pi/2] (symmetric grasps)."""
        w, x, y, z = quat.unbind(-1)
        yaw = torch.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
        return torch.remainder(yaw + math.pi / 2, math.pi) - math.pi / 2

    def hand_anchor(self, eef: torch.Tensor, settle: torch.Tensor) -> torch.Tensor:
        """Where the hand was the last time ``settle`` held, per env (``memory["anchor"]``)."""
        anchor = self.memory.setdefault("anchor", eef.clone())
        anchor[settle] = eef[settle]
        return anchor

    @staticmethod
    def near(a: torch.Tensor, b: torch.Tensor, tol: float) -> torch.Tensor:
        return torch.linalg.vector_norm(a - b, dim=-1) < tol


class TopGraspLiftOracle(Oracle):
    """Hover above ``object_name`` aligned with it, descend, close, lift and hold.

    Phases: 0 hover, 1 descend, 2 close (20 steps), 3 lift ``lift_height`` above the object's
    start and hold. ``yaw_period`` is the object's grasp symmetry (pi/2 for a cube, pi for a box).
    """

    object_name = ""
    yaw_period = math.pi
    lift_height = 0.15

    def act(self, states: dict[str, torch.Tensor]) -> torch.Tensor:
        eef, obj = states["eef_pos"], states[f"{self.object_name}_pos"]
        if "yaw" not in self.memory:
            self.memory["yaw"] = torch.zeros(self.num_envs, device=self.device)
            self.memory["grasp"] = obj.clone()
        period = self.yaw_period
        yaw = torch.remainder(self.yaw_of(states[f"{self.object_name}_quat"]) + period / 2, period) - period / 2
        hovering = self.phase == 0
        self.memory["yaw"] = torch.where(hovering, yaw, self.memory["yaw"])
        above = obj + torch.tensor([0.0, 0.0, 0.10], device=self.device)
        lift = states[f"{self.object_name}_init_pos"] + torch.tensor([0.0, 0.0, self.lift_height], device=self.device)
        # The grasp point is fixed once the descent ends, so closing does not chase the object upwards.
        self.memory["grasp"] = torch.where((self.phase <= 1)[:, None], obj, self.memory["grasp"])
        target = torch.where(hovering[:, None], above, self.memory["grasp"])
        target = torch.where((self.phase >= 3)[:, None], lift, target)
        grip = torch.where(self.phase >= 2, GRIP_CLOSED, GRIP_OPEN)
        action = self.move_to(states, target, grip, self.down_quat(self.num_envs, self.memory["yaw"]), speed=0.5)
        done = torch.where(self.phase == 0, self.near(eef, above, 0.015),
                           torch.where(self.phase == 1, self.near(eef, obj, 0.01), self.phase == 2))
        self.advance(done & (self.phase < 3), min_steps=torch.where(self.phase == 2, 20, 5))
        return action
