"""Code as Policies' robot API: perception calls and control primitives, and the executor.

Policy code is a function ``plan(robot)`` run for one env at a time: it reads the scene through
perception calls (object positions, yaws, sizes, the hand, the gripper) and queues waypoints
with control primitives (``move``, ``open``, ``close``, ``wait``). The executor turns each env's
queue into actions (the hand moves towards the current waypoint at up to the controller's step,
pointing down with the waypoint's yaw, until it is within 1 cm or the waypoint's time runs out),
and calls ``plan`` again every ``replan_every`` steps from the state then (closed loop, as the
paper ran CoP). Perception reads the simulator's state, so the policy is privileged. The API
as the model is told it is ``generator/prompts/cap_api.txt`` (a test holds the two together).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch

from v2p_envs.math3d import quat_conj, quat_mul, quat_to_axis_angle

__all__ = ["Waypoint", "PlanContext", "PrimitivePolicy"]

@dataclass
class Waypoint:
    target: tuple[float, float, float] | None  # None: stay where the hand is
    yaw: float
    grip: float  # -1 closed, +1 open
    speed: float
    steps: int


class PlanContext:
    """What ``plan(robot)`` sees for env ``index``: python numbers, and a queue it fills."""

    def __init__(self, states: dict[str, torch.Tensor], names: tuple[str, ...], index: int, grip: float) -> None:
        self._s, self._names, self._i = states, names, index
        self.table_height = float(states["table_height"][index])
        self.queue: list[Waypoint] = []
        self._grip = grip

    def _vec(self, key: str) -> tuple[float, ...]:
        return tuple(float(v) for v in self._s[key][self._i])

    def objects(self) -> list[str]:
        return list(self._names)

    def position(self, name: str) -> tuple[float, ...]:
        return self._vec(f"{self._known(name)}_pos")

    def size(self, name: str) -> tuple[float, ...]:
        return self._vec(f"{self._known(name)}_size")

    def yaw(self, name: str) -> float:
        w, x, y, z = self._vec(f"{self._known(name)}_quat")
        return math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))

    def up(self, name: str) -> float:
        _, x, y, _ = self._vec(f"{self._known(name)}_quat")
        return 1.0 - 2.0 * (x * x + y * y)

    def start_position(self, name: str) -> tuple[float, ...]:
        return self._vec(f"{self._known(name)}_init_pos")

    def hand(self) -> tuple[float, ...]:
        return self._vec("eef_pos")

    def gripper(self) -> float:
        return float(self._s["gripper_width"][self._i])

    def move(self, x: float, y: float, z: float, yaw: float = 0.0, speed: float = 1.0, steps: int = 60) -> None:
        self.queue.append(Waypoint((float(x), float(y), float(z)), float(yaw), self._grip, float(speed), int(steps)))

    def open(self) -> None:
        self._grip = 1.0
        self.queue.append(Waypoint(None, self._last_yaw(), 1.0, 1.0, 15))

    def close(self) -> None:
        self._grip = -1.0
        self.queue.append(Waypoint(None, self._last_yaw(), -1.0, 1.0, 15))

    def wait(self, steps: int) -> None:
        self.queue.append(Waypoint(None, self._last_yaw(), self._grip, 1.0, int(steps)))

    def _last_yaw(self) -> float:
        return self.queue[-1].yaw if self.queue else 0.0

    def _known(self, name: str) -> str:
        if name not in self._names:
            raise KeyError(f"no object named {name!r}; objects are {list(self._names)}")
        return name


class PrimitivePolicy:
    """A ``Policy`` (baselines.policy) that executes ``plan`` for every env; privileged."""

    privileged = True

    def __init__(self, env, plan: Callable[[PlanContext], None], replan_every: int = 50) -> None:
        self.env, self.plan, self.replan_every = env, plan, replan_every
        cfg = env.sim.controller.config
        self.max_delta_pos, self.max_delta_rot = cfg.max_delta_pos, cfg.max_delta_rot
        n = env.num_envs
        self.queues: list[list[Waypoint]] = [[] for _ in range(n)]
        self.timer = [0] * n
        self.grip = [1.0] * n
        self.step = 0
        self.errors: list[str] = []

    def reset(self, env_ids: torch.Tensor | None = None) -> None:
        ids = range(self.env.num_envs) if env_ids is None else env_ids.tolist()
        for i in ids:
            self.queues[i], self.timer[i], self.grip[i] = [], 0, 1.0
        self.step = 0

    def _replan(self, states: dict[str, torch.Tensor]) -> None:
        for i in range(self.env.num_envs):
            robot = PlanContext(states, tuple(self.env.sim.object_names), i, self.grip[i])
            try:
                self.plan(robot)
            except Exception as exc:  # noqa: BLE001 - the policy code's failure is data: hold still
                self.errors.append(f"env {i}, step {self.step}: {type(exc).__name__}: {exc}")
                robot.queue = []
            self.queues[i], self.timer[i] = robot.queue, 0

    def act(self, obs: torch.Tensor) -> torch.Tensor:
        states = self.env.sim.states
        if self.step % self.replan_every == 0:
            self._replan(states)
        self.step += 1
        n = self.env.num_envs
        actions = torch.zeros(n, 7)
        eef = states["eef_pos"].cpu()
        quat = states["eef_quat"].cpu()
        for i in range(n):
            queue = self.queues[i]
            while queue and self.timer[i] >= queue[0].steps:
                queue.pop(0)
                self.timer[i] = 0
            if not queue:
                actions[i, 6] = self.grip[i]
                continue
            wp = queue[0]
            self.timer[i] += 1
            self.grip[i] = wp.grip
            if wp.target is not None:
                delta = (torch.tensor(wp.target) - eef[i]) / self.max_delta_pos
                norm = float(torch.linalg.vector_norm(delta))
                actions[i, :3] = delta * min(1.0, wp.speed / max(norm, 1e-9))
                if norm * self.max_delta_pos < 0.01:
                    self.timer[i] = wp.steps  # reached: next waypoint
            half = wp.yaw / 2
            down = quat_mul(torch.tensor([math.cos(half), 0.0, 0.0, math.sin(half)]), torch.tensor([0.0, 1.0, 0.0, 0.0]))
            rot = quat_to_axis_angle(quat_mul(down[None], quat_conj(quat[i][None])))[0] / self.max_delta_rot
            actions[i, 3:6] = rot.clamp(-1.0, 1.0)
            actions[i, 6] = wp.grip
        return actions.to(self.env.device)
