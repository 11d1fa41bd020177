"""The one list of ``states`` keys: name, shape and meaning, exported for docs and prompts.

Task code reads these keys (batched torch tensors, leading env dimension N, float32 on the
backend's device). README, the architecture document and the code generator's prompts are
written from this list, and a test checks that the simulator produces exactly these keys.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["StateKey", "ROBOT_STATE_KEYS", "OBJECT_STATE_KEYS", "state_key_names", "state_shapes",
           "states_markdown_table"]


@dataclass(frozen=True)
class StateKey:
    """One entry of ``states``; ``name`` is the full key, or the suffix after ``<object>_``."""

    name: str
    shape: tuple[int, ...]  # trailing shape after the env dimension; () is (N,)
    meaning: str

    def shape_text(self) -> str:
        return "(N)" if not self.shape else f"(N, {', '.join(map(str, self.shape))})"


ROBOT_STATE_KEYS: tuple[StateKey, ...] = (
    StateKey("eef_pos", (3,), "grasp point between the fingertips, world frame, metres"),
    StateKey("eef_quat", (4,), "hand orientation, world frame, quaternion w-first (home: pointing down)"),
    StateKey("eef_vel_linear", (3,), "linear velocity of the grasp point, m/s"),
    StateKey("gripper_width", (), "finger opening, metres (0 closed, 0.08 fully open)"),
    StateKey("joint_pos", (7,), "the arm's 7 joint angles, radians"),
    StateKey("table_height", (), "height of the table top, metres (0.40)"),
    StateKey("episode_step", (), "env steps since the episode's reset (0 at reset)"),
)

OBJECT_STATE_KEYS: tuple[StateKey, ...] = (
    StateKey("pos", (3,), "centre of the object's bounding box, world frame, metres"),
    StateKey("quat", (4,), "orientation, world frame, quaternion w-first"),
    StateKey("vel_linear", (3,), "linear velocity, world frame, m/s"),
    StateKey("vel_angular", (3,), "angular velocity, world frame, rad/s"),
    StateKey("size", (3,), "extent (length, width, height) in the object's own frame, metres, this env's size"),
    StateKey("init_pos", (3,), "position at the episode's reset"),
    StateKey("init_quat", (4,), "orientation at the episode's reset"),
    StateKey("max_height", (), "highest centre height (z) since the episode's reset, metres"),
)


def state_key_names(object_names: tuple[str, ...] | list[str]) -> list[str]:
    """Every key of ``states`` for a scene with these objects, in the simulator's order."""
    return [k.name for k in ROBOT_STATE_KEYS] + [f"{o}_{k.name}" for o in object_names for k in OBJECT_STATE_KEYS]


def state_shapes(object_names: tuple[str, ...] | list[str]) -> dict[str, tuple[int, ...]]:
    """Trailing shape (after N) of every key."""
    shapes = {k.name: k.shape for k in ROBOT_STATE_KEYS}
    shapes.update({f"{o}_{k.name}": k.shape for o in object_names for k in OBJECT_STATE_KEYS})
    return shapes


def states_markdown_table() -> str:
    """The keys as a Markdown table (README and the architecture document embed this text)."""
    rows = ["| key | shape | meaning |", "|---|---|---|"]
    rows += [f"| `{k.name}` | {k.shape_text()} | {k.meaning} |" for k in ROBOT_STATE_KEYS]
    rows += [f"| `<object>_{k.name}` | {k.shape_text()} | {k.meaning} |" for k in OBJECT_STATE_KEYS]
    return "\n".join(rows)
