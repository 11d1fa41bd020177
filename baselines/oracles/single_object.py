"""Oracles for the single-object tasks (push left/right, lift up, tip over)."""
from __future__ import annotations

import math

import torch

from v2p_envs.math3d import quat_mul

from .base import GRIP_CLOSED, GRIP_OPEN, Oracle, TopGraspLiftOracle

__all__ = ["PushLeftOracle", "PushRightOracle", "LiftUpOracle", "TipOverOracle", "ORACLES"]


class _PushAlongY(Oracle):
    """Push an object along world y with the fingers spread along x (two contact points).

    Phases: 0 hover beside the object (on the side opposite the push), 1 descend to just above
    the table, 2 push through ``push_distance``, 3 back off sideways, 4 rise and wait.
    """

    object_name = ""
    direction = 1.0  # +1: push towards +y, -1: towards -y
    push_height = 0.02  # grasp point above the table while pushing
    standoff = 0.035  # gap between the fingers and the object's side before pushing
    push_distance = 0.23  # hand travel from the start of the push
    push_speed = 0.25
    tilt = 0.35  # radians the fingertips lean towards the push direction
    push_grip = GRIP_OPEN  # finger opening while pushing (-1 closed, +1 open 8 cm)

    def _half_extent_y(self, states: dict[str, torch.Tensor]) -> torch.Tensor:
        """Half the object's footprint along world y (from its yaw and x/y size)."""
        size = states[f"{self.object_name}_size"]
        w, x, y, z = states[f"{self.object_name}_quat"].unbind(-1)
        yaw = torch.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
        return 0.5 * (size[:, 0] * torch.sin(yaw).abs() + size[:, 1] * torch.cos(yaw).abs())

    def act(self, states: dict[str, torch.Tensor]) -> torch.Tensor:
        n, dev = self.num_envs, self.device
        eef, obj = states["eef_pos"], states[f"{self.object_name}_pos"]
        table = self.table_height
        if "start" not in self.memory:
            self.memory["start"] = torch.zeros(n, 3, device=dev)
        finger_half_thickness = 0.01
        offset = self._half_extent_y(states) + finger_half_thickness + self.standoff
        start = obj.clone()
        start[:, 1] = obj[:, 1] - self.direction * offset
        start[:, 2] = table + self.push_height
        first = self.phase == 0
        self.memory["start"] = torch.where(first[:, None], start, self.memory["start"])
        start = self.memory["start"]
        hover = start + torch.tensor([0.0, 0.0, 0.10], device=dev)
        end = start + torch.tensor([0.0, self.direction * self.push_distance, 0.0], device=dev)
        back = end + torch.tensor([0.0, -self.direction * 0.05, 0.0], device=dev)
        up = back + torch.tensor([0.0, 0.0, 0.12], device=dev)
        target = torch.where((self.phase == 0)[:, None], hover, start)
        target = torch.where((self.phase == 2)[:, None], end, target)
        target = torch.where((self.phase == 3)[:, None], back, target)
        target = torch.where((self.phase >= 4)[:, None], up, target)
        # Fingers spread along x, pitched so the tips lead and the hand body trails above the object.
        tilt = torch.tensor([math.cos(self.tilt / 2), math.sin(self.direction * self.tilt / 2), 0.0, 0.0],
                            device=dev).expand(n, 4)
        quat = quat_mul(tilt, self.down_quat(n, torch.full((n,), math.pi / 2, device=dev)))
        action = self.move_to(states, target, self.push_grip, quat)
        # Push slowly so the object does not slide on after the hand stops.
        speed = torch.where(self.phase == 2, self.push_speed, 1.0)[:, None]
        norm = torch.linalg.vector_norm(action[:, :3], dim=-1, keepdim=True).clamp_min(1e-9)
        action[:, :3] = action[:, :3] * torch.clamp(speed / norm, max=1.0)
        done = torch.where(self.phase == 0, self.near(eef, hover, 0.015),
                           torch.where(self.phase == 1, self.near(eef, start, 0.01),
                                       torch.where(self.phase == 2, self.near(eef, end, 0.01),
                                                   self.near(eef, back, 0.01))))
        self.advance(done & (self.phase < 4), min_steps=5)
        return action


class PushLeftOracle(_PushAlongY):
    object_name, direction = "snack_box", 1.0
    # at the 6 cm box's centre height: lower, the leaning fingertips wedge under it and lift it
    # past the task's 2 cm (measured over seeds 0-19: 18-19/20 at 2 cm; 60/60 at 3 cm over seeds 0-59)
    push_height = 0.03


class PushRightOracle(_PushAlongY):
    object_name, direction = "cup", -1.0
    push_height = 0.012
    push_speed = 0.15  # a fast push makes the cup rock
    push_grip = 0.0  # 4 cm between the fingers: they cradle the 7 cm cup instead of passing around it


class LiftUpOracle(TopGraspLiftOracle):
    """Top grasp across the sponge's 6 cm width, then lift 18 cm and hold."""

    object_name = "sponge"
    yaw_period = math.pi
    lift_height = 0.18


class TipOverOracle(Oracle):
    """Push the bottle forward (+x) near its top so it topples away from the robot, then back off.

    Phases: 0 hover behind the bottle at shoulder height, 1 push forward, 2 back off and wait.
    """

    push_height = 0.16  # grasp point above the table while pushing (bottle is 20 cm tall)

    def act(self, states: dict[str, torch.Tensor]) -> torch.Tensor:
        eef = states["eef_pos"]
        init = states["bottle_init_pos"]
        radius = states["bottle_size"][:, 0] / 2
        start = init.clone()
        start[:, 0] = init[:, 0] - radius - 0.04
        start[:, 2] = self.table_height + self.push_height
        end = start.clone()
        end[:, 0] = init[:, 0] + 0.10
        back = start.clone()
        back[:, 2] = self.table_height + 0.30
        target = torch.where((self.phase == 0)[:, None], start, end)
        target = torch.where((self.phase >= 2)[:, None], back, target)
        action = self.move_to(states, target, GRIP_CLOSED)
        push = self.phase == 1
        norm = torch.linalg.vector_norm(action[:, :3], dim=-1, keepdim=True).clamp_min(1e-9)
        action[:, :3] = torch.where(push[:, None], action[:, :3] * torch.clamp(0.3 / norm, max=1.0),
                                    action[:, :3])
        done = torch.where(self.phase == 0, self.near(eef, start, 0.015), self.near(eef, end, 0.015))
        self.advance(done & (self.phase < 2), min_steps=5)
        return action


ORACLES: dict[str, type[Oracle]] = {"PushLeft": PushLeftOracle, "PushRight": PushRightOracle,
                                    "LiftUp": LiftUpOracle, "TipOver": TipOverOracle}
