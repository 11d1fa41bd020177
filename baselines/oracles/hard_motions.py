"""Oracles for the hard-motion tasks (insert a fork, slide a remote, throw garlic)."""
from __future__ import annotations

import math

import torch

from .base import GRIP_CLOSED, GRIP_OPEN, Oracle

__all__ = ["InsertForkOracle", "SlideRemoteToMouseOracle", "ThrowGarlicOracle", "ORACLES"]


def _heading(quat: torch.Tensor) -> torch.Tensor:
    """Unfolded heading of a frame's x axis about world z, in (-pi, pi]."""
    w, x, y, z = quat.unbind(-1)
    return torch.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))


def _wrap_half_turn(angle: torch.Tensor) -> torch.Tensor:
    """Fold an angle to (-pi/2, pi/2]: the grasps and objects here are symmetric under a half turn."""
    return torch.remainder(angle + math.pi / 2, math.pi) - math.pi / 2


def _rotate_xy(v: torch.Tensor, yaw: torch.Tensor) -> torch.Tensor:
    c, s = torch.cos(yaw), torch.sin(yaw)
    return torch.stack((c * v[:, 0] - s * v[:, 1], s * v[:, 0] + c * v[:, 1]), dim=-1)


def _select(phase: torch.Tensor, default: torch.Tensor, cases: dict[int, torch.Tensor]) -> torch.Tensor:
    """Per-env pick: ``cases[k]`` where ``phase == k``, ``default`` elsewhere."""
    out = default
    for k, value in cases.items():
        out = torch.where((phase == k)[:, None] if value.dim() == 2 else phase == k, value, out)
    return out


class InsertForkOracle(Oracle):
    """Top grasp across the fork's handle, carry it over the box turned along the box's long side,
    lower it below the rim and let go.

    Phases: 0 hover over the handle, 1 descend, 2 close (20 steps), 3 lift, 4 carry over the box
    (fork turned onto the box's long axis), 5 lower into the box, 6 open (15 steps), 7 rise.
    """

    grasp_offset = -0.02  # grasp this far along the fork's axis from its centre (on the handle)
    grasp_height = 0.012  # grasp point above the table when closing on the 12 mm thick fork
    carry_height = 0.22
    drop_below_rim = 0.035  # fork centre this far below the rim when it is let go

    def act(self, states: dict[str, torch.Tensor]) -> torch.Tensor:
        n, dev = self.num_envs, self.device
        eef, fork, box = states["eef_pos"], states["fork_pos"], states["storage_box_pos"]
        table = self.table_height
        fork_yaw = _heading(states["fork_quat"])
        box_yaw = _heading(states["storage_box_quat"])
        mem, p = self.memory, self.phase
        if "hand_yaw" not in mem:
            for key in ("hand_yaw", "goal_yaw", "carry_hand_yaw"):
                mem[key] = torch.zeros(n, device=dev)
            mem["local"] = torch.zeros(n, 3, device=dev)  # grasp point in the fork's frame
            mem["lifted"] = torch.zeros(n, 3, device=dev)

        # Approach: the hand yawed with the fork so the fingers close across its handle.
        axis = torch.stack((torch.cos(fork_yaw), torch.sin(fork_yaw), torch.zeros_like(fork_yaw)), dim=-1)
        grasp = fork + self.grasp_offset * axis
        grasp[:, 2] = table + self.grasp_height
        hover = grasp + torch.tensor([0.0, 0.0, 0.10], device=dev)
        mem["hand_yaw"] = torch.where(p <= 1, self.yaw_of(states["fork_quat"]), mem["hand_yaw"])
        # Closing: remember where the hand holds the fork, in the fork's frame.
        rel = eef - fork
        local = torch.cat((_rotate_xy(rel[:, :2], -fork_yaw), rel[:, 2:]), dim=-1)
        mem["local"] = torch.where((p == 2)[:, None], local, mem["local"])
        mem["lifted"] = torch.where((p <= 2)[:, None], eef, mem["lifted"])
        # Lifting: decide the turn that puts the fork along the box's long axis.
        turn = _wrap_half_turn(box_yaw - fork_yaw)
        mem["goal_yaw"] = torch.where(p == 3, fork_yaw + turn, mem["goal_yaw"])
        mem["carry_hand_yaw"] = torch.where(p == 3, mem["hand_yaw"] + turn, mem["carry_hand_yaw"])

        lifted = mem["lifted"].clone()
        lifted[:, 2] = table + self.carry_height
        over = box.clone()
        over[:, :2] = box[:, :2] + _rotate_xy(mem["local"][:, :2], mem["goal_yaw"])
        over[:, 2] = table + self.carry_height
        rim = box[:, 2] + states["storage_box_size"][:, 2] / 2
        inside = over.clone()
        inside[:, 2] = rim - self.drop_below_rim + mem["local"][:, 2]
        target = _select(p, over, {0: hover, 1: grasp, 2: grasp, 3: lifted, 5: inside, 6: inside})
        target = torch.where((p >= 7)[:, None], over, target)

        yaw = torch.where(p >= 4, mem["carry_hand_yaw"], mem["hand_yaw"])
        grip = torch.where((p >= 2) & (p <= 5), GRIP_CLOSED, GRIP_OPEN)
        speed = torch.where((p >= 3) & (p <= 5), 0.4, 1.0)
        action = self.move_to(states, target, grip, self.down_quat(n, yaw))
        norm = torch.linalg.vector_norm(action[:, :3], dim=-1, keepdim=True).clamp_min(1e-9)
        action[:, :3] = action[:, :3] * torch.clamp(speed[:, None] / norm, max=1.0)
        action[:, 3:6] = action[:, 3:6].clamp(-0.3, 0.3)  # turn slowly: the fork twists in a fast turn

        done = torch.linalg.vector_norm(eef - target, dim=-1) < torch.where(p == 0, 0.015, 0.01)
        done = torch.where((p == 2) | (p == 6), torch.ones_like(done), done)
        min_steps = torch.where(p == 2, 20, torch.where(p == 6, 15, torch.where(p == 4, 10, 3)))
        self.advance(done & (p < 7), min_steps=min_steps)
        return action


def _footprint_gap(pos_a, yaw_a, half_a, pos_b, yaw_b, half_b) -> torch.Tensor:
    """Separating-axis distance between two oriented rectangles on the table (<= 0: overlap)."""
    frames = []
    for yaw in (yaw_a, yaw_b):
        c, s = torch.cos(yaw), torch.sin(yaw)
        frames.append((torch.stack((c, s), dim=-1), torch.stack((-s, c), dim=-1)))
    d = (pos_b - pos_a)[:, :2]
    best = None
    for axis in (*frames[0], *frames[1]):
        radius = sum(h[:, 0] * (ex * axis).sum(-1).abs() + h[:, 1] * (ey * axis).sum(-1).abs()
                     for (ex, ey), h in zip(frames, (half_a, half_b)))
        gap = (d * axis).sum(-1).abs() - radius
        best = gap if best is None else torch.maximum(best, gap)
    return best


class SlideRemoteToMouseOracle(Oracle):
    """Hold the remote from above with the fingers closed across it, turn it on the table until
    it points at the mouse (so the fingers trail beside it instead of leading), then drag it flat
    along the table until the footprints are ~1 cm apart; let go and rise.

    Phases: 0 hover, 1 descend, 2 close (20 steps), 3 turn in place, 4 drag, 5 open (15 steps),
    6 rise and wait.
    """

    grasp_height = 0.012  # grasp point above the table (the remote is 22 mm thick)
    stop_gap = 0.008  # footprint gap the drag aims for
    drag_speed = 0.3  # fraction of the controller's max hand speed

    def act(self, states: dict[str, torch.Tensor]) -> torch.Tensor:
        n, dev = self.num_envs, self.device
        eef, remote, mouse = states["eef_pos"], states["remote_pos"], states["mouse_pos"]
        remote_yaw = _heading(states["remote_quat"])
        mem, p = self.memory, self.phase
        if "yaw" not in mem:
            mem["yaw"] = torch.zeros(n, device=dev)
            mem["turned_yaw"] = torch.zeros(n, device=dev)
            mem["hold"] = torch.zeros(n, 3, device=dev)
            mem["release"] = torch.zeros(n, 3, device=dev)
        towards = mouse - remote
        towards[:, 2] = 0.0
        towards = towards / torch.linalg.vector_norm(towards, dim=-1, keepdim=True).clamp_min(1e-6)
        heading_to_mouse = torch.atan2(towards[:, 1], towards[:, 0])
        mem["yaw"] = torch.where(p <= 1, self.yaw_of(states["remote_quat"]), mem["yaw"])
        turn = _wrap_half_turn(heading_to_mouse - remote_yaw)
        mem["turned_yaw"] = torch.where(p <= 2, mem["yaw"] + turn, mem["turned_yaw"])
        mem["hold"] = torch.where((p <= 2)[:, None], eef, mem["hold"])
        gap = _footprint_gap(remote, remote_yaw, states["remote_size"][:, :2] / 2,
                             mouse, _heading(states["mouse_quat"]), states["mouse_size"][:, :2] / 2)

        grasp = remote.clone()
        grasp[:, 2] = self.table_height + self.grasp_height
        hover = grasp + torch.tensor([0.0, 0.0, 0.10], device=dev)
        drag = eef + towards * torch.clamp(gap - self.stop_gap, min=0.0)[:, None]
        drag[:, 2] = self.table_height + self.grasp_height
        mem["release"] = torch.where((p <= 4)[:, None], eef, mem["release"])
        up = mem["release"] + torch.tensor([0.0, 0.0, 0.12], device=dev)
        target = _select(p, up, {0: hover, 1: grasp, 2: grasp, 3: mem["hold"], 4: drag, 5: mem["release"]})
        yaw = torch.where((p >= 3), mem["turned_yaw"], mem["yaw"])

        grip = torch.where((p >= 2) & (p <= 4), GRIP_CLOSED, GRIP_OPEN)
        action = self.move_to(states, target, grip, self.down_quat(n, yaw))
        speed = torch.where(p == 4, self.drag_speed, torch.where(p >= 6, 0.2, 1.0))
        norm = torch.linalg.vector_norm(action[:, :3], dim=-1, keepdim=True).clamp_min(1e-9)
        action[:, :3] = action[:, :3] * torch.clamp(speed[:, None] / norm, max=1.0)
        action[:, 3:6] = action[:, 3:6].clamp(-0.4, 0.4)

        dist = torch.linalg.vector_norm(eef - target, dim=-1)
        done = torch.where(p == 0, dist < 0.015, dist < 0.008)
        aligned = _wrap_half_turn(heading_to_mouse - remote_yaw).abs() < 0.05
        done = torch.where(p == 3, aligned, done)
        slow = torch.linalg.vector_norm(states["remote_vel_linear"], dim=-1) < 0.02
        done = torch.where(p == 4, (gap < self.stop_gap + 0.004) & slow, done)
        done = torch.where((p == 2) | (p == 5), torch.ones_like(done), done)
        min_steps = torch.where(p == 2, 20, torch.where(p == 5, 15, 3))
        self.advance(done & (p < 6), min_steps=min_steps)
        return action


class ThrowGarlicOracle(Oracle):
    """Grasp the garlic, wind up close to the robot's base on the line to the bowl, swing the
    hand flat towards the bowl at the controller's full speed (1.5 m/s), and open the fingers
    when the garlic's predicted ballistic path (from its current position and velocity) crosses
    the rim's height at the bowl's centre. The same rule serves every bowl distance: a farther
    bowl simply makes it fire later in the swing.

    A flat swing keeps the release timing forgiving: each 20 ms step moves the predicted
    crossing by about the hand's own 3 cm, where an upward swing moves it ~9 cm.

    Phases: 0 hover, 1 descend, 2 close (20 steps), 3 lift, 4 wind up (and come to rest),
    5 swing until the release rule fires, 6 open and follow through (last).
    """

    grasp_height = 0.02  # grasp point above the table (the bulb is 4.5 cm tall)
    windup_reach = 0.15  # hand's horizontal distance from the robot's base when winding up
    windup_height = 0.35
    swing_reach = 0.95  # the swing aims at this distance from the base ...
    swing_height = 0.35  # ... at the same height: a flat, fast swing
    release_boost = 1.2  # horizontal speed gained from the opening fingers (measured)
    release_speed = 1.5  # let go only once the hand moves this fast (m/s)
    aim_offset = -0.02  # aimed crossing of the rim's height, along the throw, from the bowl's centre
    base_xy = (-0.55, 0.0)

    def act(self, states: dict[str, torch.Tensor]) -> torch.Tensor:
        n, dev = self.num_envs, self.device
        eef, garlic, bowl = states["eef_pos"], states["garlic_pos"], states["bowl_pos"]
        table = self.table_height
        mem, p = self.memory, self.phase
        if "hold" not in mem:
            mem["hold"] = torch.zeros(n, 3, device=dev)
            mem["prev_overshoot"] = torch.zeros(n, device=dev)
            mem["predicted"] = torch.zeros(n, device=dev)  # the rule's crossing at release (for analysis)
        base = torch.tensor([*self.base_xy, table], device=dev)
        bearing = bowl[:, :2] - base[:2]
        bearing = bearing / torch.linalg.vector_norm(bearing, dim=-1, keepdim=True)
        flat = torch.cat((bearing, torch.zeros(n, 1, device=dev)), dim=-1)

        grasp = garlic.clone()
        grasp[:, 2] = table + self.grasp_height
        hover = grasp + torch.tensor([0.0, 0.0, 0.10], device=dev)
        mem["hold"] = torch.where((p <= 2)[:, None], eef, mem["hold"])
        lifted = mem["hold"] + torch.tensor([0.0, 0.0, 0.15], device=dev)
        windup = base + self.windup_reach * flat
        windup[:, 2] = table + self.windup_height
        swing = base + self.swing_reach * flat
        swing[:, 2] = table + self.swing_height
        target = _select(p, windup, {0: hover, 1: grasp, 2: grasp, 3: lifted, 5: swing, 6: swing})

        # Release rule: where would the garlic cross the rim's height if the fingers opened now?
        # Measured on this gripper: once told to open, the garlic flies freely upwards at once,
        # but the opening fingers still push it forwards, adding ``release_boost`` to its
        # horizontal speed. The rule fires at the step that best matches the aim point.
        g = 9.81
        vel = states["garlic_vel_linear"]
        rim = bowl[:, 2] + states["bowl_size"][:, 2] / 2 + states["garlic_size"][:, 2] / 2
        drop = (garlic[:, 2] - rim).clamp_min(0.0)
        t_flight = (vel[:, 2] + torch.sqrt(vel[:, 2] ** 2 + 2 * g * drop)) / g
        crossing = garlic[:, :2] + self.release_boost * vel[:, :2] * t_flight[:, None]
        overshoot = ((crossing - bowl[:, :2]) * bearing).sum(-1)
        rate = (overshoot - mem["prev_overshoot"]).clamp_min(0.0)  # how far the next step moves it
        mem["prev_overshoot"] = overshoot
        up_to_speed = torch.linalg.vector_norm(states["eef_vel_linear"], dim=-1) > self.release_speed
        fire = (p == 5) & up_to_speed & (overshoot + 0.5 * rate >= self.aim_offset)
        mem["predicted"] = torch.where(fire, overshoot, mem["predicted"])

        grip = torch.where((p >= 2) & (p <= 5) & ~fire, GRIP_CLOSED, GRIP_OPEN)
        action = self.move_to(states, target, grip)
        speed = torch.where((p == 3) | (p == 4), 0.6, 1.0)
        norm = torch.linalg.vector_norm(action[:, :3], dim=-1, keepdim=True).clamp_min(1e-9)
        action[:, :3] = action[:, :3] * torch.clamp(speed[:, None] / norm, max=1.0)
        # Swing at full speed: the full step along the line to the aim point.
        action[:, :3] = torch.where((p == 5)[:, None], action[:, :3] / norm, action[:, :3])

        dist = torch.linalg.vector_norm(eef - target, dim=-1)
        done = torch.where(p == 0, dist < 0.015, dist < 0.01)
        still = torch.linalg.vector_norm(states["eef_vel_linear"], dim=-1) < 0.05
        done = torch.where(p == 4, (dist < 0.02) & still, done)
        done = torch.where(p == 5, fire, done)
        done = torch.where(p == 2, torch.ones_like(done), done)
        min_steps = torch.where(p == 2, 20, torch.where(p == 4, 5, 0))
        self.advance(done & (p < 6), min_steps=min_steps)
        return action


ORACLES: dict[str, type[Oracle]] = {"InsertFork": InsertForkOracle,
                                    "SlideRemoteToMouse": SlideRemoteToMouseOracle,
                                    "ThrowGarlic": ThrowGarlicOracle}
