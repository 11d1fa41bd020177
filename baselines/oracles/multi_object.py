"""Oracles for the multiple-object tasks (cover, uncover, push with, push next to, drop in
front of): batched state machines on privileged states."""
from __future__ import annotations

import math

import torch

from v2p_envs.math3d import quat_conj, quat_mul, quat_to_axis_angle

from .base import GRIP_CLOSED, GRIP_OPEN, Oracle

__all__ = ["CoverOracle", "UncoverOracle", "PushWithOracle", "PushNextToOracle", "DropInFrontOfOracle",
           "ORACLES"]


def _select(phase: torch.Tensor, options: dict[int, torch.Tensor], default: torch.Tensor) -> torch.Tensor:
    """Per env, the option for its phase (``default`` for phases not listed)."""
    out = default.clone()
    for p, value in options.items():
        mask = phase == p
        if value.dim() == 1:
            out = torch.where(mask, value, out)
        else:
            out = torch.where(mask[:, None], value, out)
    return out


def _with_z(xy: torch.Tensor, z: torch.Tensor | float) -> torch.Tensor:
    z = z if isinstance(z, torch.Tensor) else torch.full_like(xy[:, 0], z)
    return torch.cat((xy[:, :2], z[:, None]), dim=-1)


class _CupCarrier(Oracle):
    """Grasp the upside-down cup just below its upturned bottom, lift it, carry it so that its
    axis reaches ``goal_xy`` (from ``goal``), set it down on the table and let go.

    Phases: 0 above cup, 1 descend, 2 close, 3 lift, 4 carry, 5 lower, 6 open, 7 retreat.
    """

    grasp_below_top = 0.035
    carry_clearance = 0.13  # eef height above the table while carrying (rim ~6.5 cm up)

    def goal(self, states: dict[str, torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def act(self, states: dict[str, torch.Tensor]) -> torch.Tensor:
        n, table = self.num_envs, self.table_height
        eef, cup = states["eef_pos"], states["cup_pos"]
        cup_top = cup[:, 2] + states["cup_size"][:, 2] / 2
        grasp = _with_z(cup, cup_top - self.grasp_below_top)
        above = _with_z(cup, cup_top + 0.06)
        if "hand_offset" not in self.memory:
            self.memory["hand_offset"] = torch.zeros(n, 3, device=self.device)
        offset = self.memory["hand_offset"]  # eef - cup, kept from the grasp on
        offset[self.phase <= 2] = (eef - cup)[self.phase <= 2]
        # where the hand grasped, then where it let go
        anchor = self.hand_anchor(eef, (self.phase <= 2) | (self.phase == 6))
        goal_xy = self.goal(states)
        carry_z = table + self.carry_clearance
        set_down_z = table + states["cup_size"][:, 2] / 2 + offset[:, 2] + 0.004
        # Closed loop on the cup's own position: it may shift a little in the fingers.
        goal_hand = _with_z(eef[:, :2] + goal_xy - cup[:, :2], carry_z)
        target = _select(self.phase, {
            0: above, 1: grasp, 2: grasp,
            3: _with_z(anchor, carry_z),
            4: goal_hand,
            5: _with_z(goal_hand, set_down_z),
            6: anchor,
            7: _with_z(anchor, table + 0.25),
        }, eef)
        grip = torch.where((self.phase >= 2) & (self.phase <= 5), GRIP_CLOSED, GRIP_OPEN)
        speed = torch.where((self.phase == 1) | (self.phase == 5), 0.4,
                            torch.where((self.phase == 3) | (self.phase == 4), 0.5, 1.0))
        action = self.move_to(states, target, grip, speed=speed[:, None])
        cup_xy_err = torch.linalg.vector_norm(cup[:, :2] - goal_xy, dim=-1)
        still = torch.linalg.vector_norm(states["eef_vel_linear"], dim=-1) < 0.05
        done = torch.stack((
            self.near(eef, above, 0.01) & still,
            self.near(eef, grasp, 0.006),
            self.timer >= 20,
            eef[:, 2] > carry_z - 0.015,
            (cup_xy_err < 0.004) & self.near(eef, goal_hand, 0.01),
            (cup[:, 2] - table - states["cup_size"][:, 2] / 2) < 0.006,
            self.timer >= 15,
            torch.zeros(n, dtype=torch.bool, device=self.device),
        ), dim=-1)
        self.advance(done.gather(1, self.phase.clamp(max=7)[:, None])[:, 0])
        return action


class CoverOracle(_CupCarrier):
    """Carry the upside-down cup over the dice and set it down there."""

    def goal(self, states: dict[str, torch.Tensor]) -> torch.Tensor:
        return states["dice_pos"][:, :2]


class UncoverOracle(_CupCarrier):
    """Lift the cup off the dice and set it down 15 cm to the side (towards the middle)."""

    def goal(self, states: dict[str, torch.Tensor]) -> torch.Tensor:
        dice = states["dice_init_pos"]
        side = torch.where(dice[:, 1] > 0, -1.0, 1.0)
        return torch.stack((dice[:, 0], dice[:, 1] + 0.15 * side), dim=-1)


def _heading(xy: torch.Tensor) -> torch.Tensor:
    return torch.atan2(xy[:, 1], xy[:, 0])


class PushWithOracle(Oracle):
    """Grasp the ruler at its middle, lift it and turn it across the table (along y), put it
    down just behind the block (robot side) and push the block 14 cm forwards (+x) with it.

    Phases: 0 above ruler, 1 descend, 2 close, 3 lift and turn, 4 move behind block,
    5 lower, 6 push, 7 hold.
    """

    def act(self, states: dict[str, torch.Tensor]) -> torch.Tensor:
        n, table = self.num_envs, self.table_height
        eef, ruler, block = states["eef_pos"], states["ruler_pos"], states["block_pos"]
        anchor = self.hand_anchor(eef, (self.phase <= 2) | (self.phase == 6))
        grasp_yaw = self.yaw_of(states["ruler_init_quat"])
        across = torch.where(grasp_yaw > 0, math.pi / 2, -math.pi / 2)  # ruler along world y
        yaw = torch.where(self.phase <= 2, grasp_yaw, across)
        block_init = states["block_init_pos"]
        behind = torch.stack((block[:, 0] - 0.07, block[:, 1]), dim=-1)
        hand_z = eef[:, 2] - ruler[:, 2]  # eef above the ruler's centre
        carry_z = table + 0.08
        move_xy = eef[:, :2] + behind - ruler[:, :2]
        push_goal = torch.stack((block_init[:, 0] + 0.10, behind[:, 1]), dim=-1)
        push_xy = eef[:, :2] + push_goal - ruler[:, :2]
        low_z = table + 0.025 + hand_z
        if "push_z" not in self.memory:
            self.memory["push_z"] = low_z.clone()
        push_z = self.memory["push_z"]  # the hand's height is frozen once pushing starts
        push_z[self.phase <= 5] = low_z[self.phase <= 5]
        target = _select(self.phase, {
            0: _with_z(ruler, table + 0.10),
            1: _with_z(ruler, table + 0.008),
            2: _with_z(anchor, table + 0.008),
            3: _with_z(anchor, carry_z),
            4: _with_z(move_xy, carry_z),
            5: _with_z(move_xy, low_z),
            6: _with_z(push_xy, push_z),
            7: anchor,
        }, eef)
        grip = torch.where((self.phase >= 2), GRIP_CLOSED, GRIP_OPEN)
        speed = torch.where((self.phase == 5) | (self.phase == 6), 0.3, torch.where(self.phase == 0, 1.0, 0.5))
        action = self.move_to(states, target, grip, target_quat=self.down_quat(n, yaw), speed=speed[:, None])
        ruler_yaw = self.yaw_of(states["ruler_quat"])
        turned = torch.remainder(ruler_yaw - across + math.pi / 2, math.pi) - math.pi / 2
        moved = torch.linalg.vector_norm(block[:, :2] - block_init[:, :2], dim=-1)
        still = torch.linalg.vector_norm(states["eef_vel_linear"], dim=-1) < 0.05
        done = torch.stack((
            self.near(eef, target, 0.01) & still,
            self.near(eef, target, 0.006),
            self.timer >= 20,
            self.near(eef, target, 0.015) & (turned.abs() < 0.05),
            self.near(ruler[:, :2], behind, 0.01),
            self.near(eef, target, 0.008) & still,
            moved >= 0.14,
            torch.zeros(n, dtype=torch.bool, device=self.device),
        ), dim=-1)
        self.advance(done.gather(1, self.phase.clamp(max=7)[:, None])[:, 0])
        return action


class PushNextToOracle(Oracle):
    """Put the half-open fingers low behind the sponge (away from the cup), side by side
    across the push direction, and push the sponge along the line to the cup until their
    footprints are about 2 cm apart; then back off and go up. If the sponge turns away from
    the fingers during the push, go up and start over from the new line.

    Phases: 0 above the pre-push point, 1 descend, 2 push, 3 back off, 4 up, 5 re-align (up).
    """

    stop_gap = 0.02

    def act(self, states: dict[str, torch.Tensor]) -> torch.Tensor:
        n, table = self.num_envs, self.table_height
        eef, sponge, cup = states["eef_pos"], states["sponge_pos"], states["cup_pos"]
        to_cup = cup[:, :2] - sponge[:, :2]
        dist = torch.linalg.vector_norm(to_cup, dim=-1, keepdim=True).clamp_min(1e-6)
        direction = to_cup / dist
        sponge_yaw = self.yaw_of(states["sponge_quat"])
        c, s = torch.cos(sponge_yaw), torch.sin(sponge_yaw)
        half = states["sponge_size"][:, :2] / 2
        along = direction[:, 0] * c + direction[:, 1] * s
        across = -direction[:, 0] * s + direction[:, 1] * c
        reach = along.abs() * half[:, 0] + across.abs() * half[:, 1]  # sponge half-length along the push
        gap = dist[:, 0] - reach - states["cup_size"][:, 0] / 2
        if "anchor" not in self.memory:
            self.memory["anchor"] = eef.clone()
            self.memory["direction"] = direction.clone()
        anchor, frozen = self.memory["anchor"], self.memory["direction"]
        anchor[self.phase <= 2] = eef[self.phase <= 2]
        frozen[self.phase <= 1] = direction[self.phase <= 1]
        # Where the hand is relative to the sponge, along and across the push line.
        rel = eef[:, :2] - sponge[:, :2]
        behind = -(rel * direction).sum(-1)
        lateral = (rel[:, 0] * direction[:, 1] - rel[:, 1] * direction[:, 0]).abs()
        misaligned = (self.phase == 2) & ((lateral > 0.04) | (behind < 0.015))
        self.phase = torch.where(misaligned, torch.full_like(self.phase, 5), self.phase)
        self.timer = torch.where(misaligned, torch.zeros_like(self.timer), self.timer)
        pre = sponge[:, :2] - direction * (reach + 0.035)[:, None]
        push = sponge[:, :2] - direction * (reach + 0.01)[:, None] + direction * 0.04
        low = table + 0.02  # finger pads reach 6 mm below the grasp point
        target = _select(self.phase, {
            0: _with_z(pre, table + 0.10),
            1: _with_z(pre, low),
            2: _with_z(push, low),
            3: _with_z(anchor[:, :2] - 0.05 * frozen, low + 0.01),
            4: _with_z(anchor[:, :2] - 0.05 * frozen, table + 0.20),
            5: _with_z(anchor[:, :2] - 0.03 * frozen, table + 0.10),
        }, eef)
        yaw = torch.remainder(_heading(frozen) + math.pi / 2, math.pi) - math.pi / 2
        speed = torch.where(self.phase == 2, 0.2, torch.where(self.phase == 0, 1.0, 0.4))
        action = self.move_to(states, target, 0.0, target_quat=self.down_quat(n, yaw), speed=speed[:, None])
        hand_quat = self.down_quat(n, yaw)
        turn = quat_to_axis_angle(quat_mul(hand_quat, quat_conj(states["eef_quat"])))
        turned = torch.linalg.vector_norm(turn, dim=-1) < 0.1
        done = torch.stack((
            self.near(eef, target, 0.015) & turned,
            self.near(eef, target, 0.008),
            gap < self.stop_gap,
            self.near(eef, target, 0.01),
            torch.zeros(n, dtype=torch.bool, device=self.device),
            self.near(eef, target, 0.015),
        ), dim=-1)
        self.advance(done.gather(1, self.phase.clamp(max=5)[:, None])[:, 0])
        self.phase = torch.where(self.phase == 6, torch.zeros_like(self.phase), self.phase)  # 5 -> 0
        return action


class DropInFrontOfOracle(Oracle):
    """Grasp the block, carry it 15 cm above the table to 8 cm in front of the bowl's front
    edge (robot side), lower it to 4 cm above the table, open and go up.

    Phases: 0 above block, 1 descend, 2 close, 3 lift, 4 carry, 5 lower, 6 open, 7 up.
    """

    def act(self, states: dict[str, torch.Tensor]) -> torch.Tensor:
        n, table = self.num_envs, self.table_height
        eef, block, bowl = states["eef_pos"], states["block_pos"], states["bowl_pos"]
        anchor = self.hand_anchor(eef, (self.phase <= 2) | (self.phase == 6))
        # The block lands ~2 cm nearer the robot than where it is let go (it tips as the fingers
        # open), so let go 8 cm from the rim to land ~10 cm from it, the middle of the 5-15 cm band.
        goal = torch.stack((bowl[:, 0] - states["bowl_size"][:, 0] / 2 - 0.08, bowl[:, 1]), dim=-1)
        carry_z = table + 0.15
        carry_xy = eef[:, :2] + goal - block[:, :2]
        drop_z = table + states["block_size"][:, 2] / 2 + 0.04 + (eef[:, 2] - block[:, 2])
        target = _select(self.phase, {
            0: _with_z(block, table + 0.12),
            1: block,
            2: anchor,
            3: _with_z(anchor, carry_z),
            4: _with_z(carry_xy, carry_z),
            5: _with_z(carry_xy, drop_z),
            6: anchor,
            7: _with_z(anchor, table + 0.30),
        }, eef)
        yaw = self.yaw_of(states["block_init_quat"])
        grip = torch.where((self.phase >= 2) & (self.phase <= 5), GRIP_CLOSED, GRIP_OPEN)
        speed = torch.where((self.phase == 1) | (self.phase == 5) | (self.phase == 7), 0.4,
                            torch.where(self.phase == 4, 0.6, 1.0))
        action = self.move_to(states, target, grip, target_quat=self.down_quat(n, yaw), speed=speed[:, None])
        still = torch.linalg.vector_norm(states["eef_vel_linear"], dim=-1) < 0.05
        done = torch.stack((
            self.near(eef, target, 0.01) & still,
            self.near(eef, target, 0.006),
            self.timer >= 20,
            eef[:, 2] > carry_z - 0.015,
            self.near(block[:, :2], goal, 0.006) & self.near(eef, target, 0.015) & still,
            self.near(eef, target, 0.006),
            self.timer >= 15,
            torch.zeros(n, dtype=torch.bool, device=self.device),
        ), dim=-1)
        self.advance(done.gather(1, self.phase.clamp(max=7)[:, None])[:, 0])
        return action


ORACLES: dict[str, type[Oracle]] = {
    "Cover": CoverOracle,
    "Uncover": UncoverOracle,
    "PushWith": PushWithOracle,
    "PushNextTo": PushNextToOracle,
    "DropInFrontOf": DropInFrontOfOracle,
}
