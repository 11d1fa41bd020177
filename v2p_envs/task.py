"""The task contract: the paper's six parts (Sec. 3.2) as one base class.

A task module defines ``scene_info`` (a summary of its scene.json) and one subclass of
``Task`` that overrides the parts it needs: ``reset_objects_states`` (placement for a batch of
env indices), ``compute_success``, ``compute_observation_key`` / ``get_observation_space``,
and ``compute_reward`` returning ``(reward, components)``. Every method works on the batched
``states`` dict (leading env dimension N, torch, on the backend's device); its keys are
listed in ``v2p_envs.state_keys``. A task sees the simulator only through a ``TaskContext``.
"""
from __future__ import annotations

import math

import torch

from .math3d import yaw_quat
from .task_context import TaskContext

__all__ = ["Task", "TASK_CONTRACT", "contract_markdown_table"]

#: The paper's six parts: (what the module defines, its contract). README, docs/architecture.md
#: and the code generator's system prompt are written from this tuple.
TASK_CONTRACT: tuple[tuple[str, str], ...] = (
    ("`scene_info` (module-level dict)", "`task_class_name`, `task_title` and `objects` (name, size): the same "
     "scene as scene.json"),
    ("`reset_objects_states(env_ids)`", "place the objects for the given env indices (batched partial reset) with "
     "the placement helpers; runs after the robot is reset"),
    ("`compute_observation_key(states) -> list[str]`", "may add derived tensors to `states`; returns the keys whose "
     "values, flattened per env and concatenated, form the observation"),
    ("`get_observation_space() -> int`", "the observation's length: the total width of those keys"),
    ("`compute_success(states) -> BoolTensor[N]`", "whether each env has done the task now"),
    ("`compute_reward(actions, states) -> (Tensor[N], dict[str, Tensor[N]])`", "the reward and its named "
     "components"),
)


def contract_markdown_table() -> str:
    rows = ["| part | contract |", "|---|---|"] + [f"| {part} | {text} |" for part, text in TASK_CONTRACT]
    return "\n".join(rows)

#: Default observation: the hand and, per object, its pose and linear velocity.
_ROBOT_KEYS = ("eef_pos", "eef_quat", "gripper_width")
_OBJECT_SUFFIXES = ("pos", "quat", "vel_linear")
_KEY_WIDTHS = {"pos": 3, "quat": 4, "vel_linear": 3, "eef_pos": 3, "eef_quat": 4, "gripper_width": 1}


class Task:
    """Base task: objects placed at random on the table, default observation, no reward."""

    task_description: str = ""
    #: Default reset region (world x/y, metres) in front of the robot.
    spawn_x: tuple[float, float] = (-0.15, 0.15)
    spawn_y: tuple[float, float] = (-0.2, 0.2)

    def __init__(self, context: TaskContext) -> None:
        self.context = context
        self.num_envs = context.num_envs
        self.device = context.device
        self.object_names = context.object_names
        self.table_height = context.table_height

    # (2) reset ------------------------------------------------------------------------
    def reset_objects_states(self, env_ids: torch.Tensor) -> None:
        """Place every object upright at a random free spot on the table with a random yaw."""
        positions = self.sample_table_positions(env_ids, self.object_names, self.spawn_x, self.spawn_y)
        for name in self.object_names:
            self.place_on_table(name, env_ids, positions[name][:, :2], yaw=self.random_yaw(env_ids))

    # (3) success ------------------------------------------------------------------------
    def compute_success(self, states: dict[str, torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define compute_success")

    # (4) observation --------------------------------------------------------------------
    def compute_observation_key(self, states: dict[str, torch.Tensor]) -> list[str]:
        keys = list(_ROBOT_KEYS)
        for name in self.object_names:
            keys += [f"{name}_{suffix}" for suffix in _OBJECT_SUFFIXES]
        return keys

    # (5) observation space --------------------------------------------------------------
    def get_observation_space(self) -> int:
        robot = sum(_KEY_WIDTHS[k] for k in _ROBOT_KEYS)
        per_object = sum(_KEY_WIDTHS[s] for s in _OBJECT_SUFFIXES)
        return robot + per_object * len(self.object_names)

    # (6) reward -------------------------------------------------------------------------
    def compute_reward(self, actions: torch.Tensor,
                       states: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        raise NotImplementedError(f"{type(self).__name__} must define compute_reward")

    # Helpers for reset code -------------------------------------------------------------
    def random_uniform(self, env_ids: torch.Tensor, *shape: int, low: float | torch.Tensor = 0.0,
                       high: float | torch.Tensor = 1.0) -> torch.Tensor:
        """Per-env reproducible uniform draws (use these, not torch.rand, in reset code)."""
        return self.context.uniform(env_ids, *shape, low=low, high=high)

    def random_yaw(self, env_ids: torch.Tensor) -> torch.Tensor:
        return self.random_uniform(env_ids, low=-math.pi, high=math.pi)

    def object_size(self, name: str, env_ids: torch.Tensor) -> torch.Tensor:
        """Each env's size of ``name`` (len(env_ids), 3), metres (per-env with size randomisation)."""
        return self.context.object_sizes(name, env_ids)

    def place_on_table(self, name: str, env_ids: torch.Tensor, xy: torch.Tensor,
                       yaw: torch.Tensor | None = None, quat: torch.Tensor | None = None,
                       height: float | torch.Tensor | None = None) -> None:
        """Put ``name`` resting on the table at ``xy``: upright with ``yaw``, or in ``quat`` with
        its centre ``height`` above the table: a number, one per env (len(env_ids),), or by
        default half the object's height in each env (its own size under size randomisation)."""
        if height is None:
            height = self.object_size(name, env_ids)[:, 2] / 2
        height = torch.as_tensor(height, device=self.device).double().expand(len(env_ids))
        # in double, then rounded once, so that every way of giving the height lands alike
        z = (self.table_height + height[:, None] + 1e-3).float()
        pos = torch.cat((xy, z), dim=-1)
        if quat is None:
            quat = yaw_quat(yaw if yaw is not None else torch.zeros(len(env_ids), device=self.device))
        self.context.set_object_pose(name, env_ids, pos, quat)

    def sample_table_positions(self, env_ids: torch.Tensor, names: tuple[str, ...] | list[str],
                               x_range: tuple[float, float], y_range: tuple[float, float],
                               min_gap: float = 0.02, tries: int = 16) -> dict[str, torch.Tensor]:
        """Random xy for each object with their bounding circles at least ``min_gap`` apart.

        Rejection sampling in batch: each object is drawn ``tries`` times per env and the first
        draw clear of the objects already placed is kept (the last draw if none is).
        """
        placed: list[tuple[torch.Tensor, torch.Tensor]] = []
        out: dict[str, torch.Tensor] = {}
        n = len(env_ids)
        for name in names:
            radius = torch.linalg.vector_norm(self.object_size(name, env_ids)[:, :2], dim=-1)[:, None] / 2
            xs = self.random_uniform(env_ids, tries, low=x_range[0], high=x_range[1])
            ys = self.random_uniform(env_ids, tries, low=y_range[0], high=y_range[1])
            candidates = torch.stack((xs, ys), dim=-1)  # (n, tries, 2)
            ok = torch.ones(n, tries, dtype=torch.bool, device=self.device)
            for other_xy, other_radius in placed:
                dist = torch.linalg.vector_norm(candidates - other_xy[:, None, :], dim=-1)
                ok &= dist > radius + other_radius + min_gap
            ok[:, -1] = True
            first = ok.to(torch.int8).argmax(dim=1)
            chosen = candidates[torch.arange(n, device=self.device), first]
            placed.append((chosen, radius))
            out[name] = chosen
        return out
