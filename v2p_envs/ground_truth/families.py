"""Ground truth per task family, for generated tasks that have no hand-written success.

A task generated from a new video has no function in ``GROUND_TRUTH``; without this module
the pipeline could only score it with the task's own (generated) success code. The functions
here are written from what each family means physically, apart from the code generator's
building blocks, and are parameterised by the object names and the goal the caption and the
video show (``FamilyGoal``, stored as ``goal.json`` in the task folder: ``family_goal``). They read the
simulator's ``states`` (the env passes ``sim.states``, never the task's copy).

Conventions (v2p_envs.state_keys): world frame with z up, the table top at ``table_height``,
the robot at x = -0.55 facing +x (its side of an object is -x), quaternions w-first, ``size``
is the object's (length, width, height) in its own frame. Footprints on the table: objects
whose names contain a word of ``ROUND_WORDS`` are circles of diameter max(length, width),
others rectangles rotated by the object's heading; both assume the object stands on the face
it started on, which is what the families that compare footprints check for.
"""
from __future__ import annotations

import math
from typing import Callable

import torch

from ..math3d import quat_conj, quat_rotate, up_z
from .family_goal import FAMILIES, FamilyGoal

__all__ = ["ROUND_WORDS", "family_success", "is_round"]

SuccessFn = Callable[[dict[str, torch.Tensor]], torch.Tensor]

#: Names containing one of these words have a circular footprint (bowls, cups, bottles, fruit).
ROUND_WORDS = ("bowl", "cup", "mug", "glass", "jar", "pot", "pan", "can", "tin", "bottle", "bucket", "vase",
               "plate", "dish", "ball", "orange", "apple", "lemon", "garlic", "onion", "tomato", "egg", "coin")

# Physical tolerances, named once. Speeds in m/s, distances in metres.
TABLE_HALF_EXTENT = 0.6      # the table top spans [-0.6, 0.6] in x and y
REST_SPEED = 0.05            # slower than this: at rest
REST_SPIN = 1.0              # rad/s
HEIGHT_TOL = 0.01            # "at its start height" / "resting on the table" tolerance
NOT_LIFTED = 0.02            # a push never raises the object more than this above its start
DROPPED_LIFT = 0.04          # a drop raised it at least this much first
HAND_MARGIN = 0.015          # the grasp point within the object's box grown by this: the hand is on it
OPEN_WIDTH = 0.075           # finger opening below this: the hand is closed (fully open: 0.08)
HELD_SPEED = 0.05            # relative speed of object and hand below this: it moves with the hand
CONTACT_TOL = 0.005          # footprints may interpenetrate this much in contact
TOUCH_TOL = 0.015            # resting on another object: within this of its top
WALL = 0.005                 # "inside" means this far within the container's footprint
UPRIGHT_COS = math.cos(math.radians(15))
ON_SIDE_SIN = math.sin(math.radians(15))
MIN_TRAVEL = 0.10            # next_to, push_with: x moved at least this far
STAY_RADIUS = 0.05           # next_to: y moved less than this
UNCOVER_STAY = 0.10          # uncover: x still within this of where it started
UNCOVER_CLEAR = 0.01         # uncover: footprints at least this far apart
FRONT_MIN, FRONT_MAX = 0.05, 0.15  # in_front_of: distance from y's rim
THROW_RELEASE = 0.10         # inside (thrown): the hand at least this far from x


# -- geometry on the table ------------------------------------------------------------------------
def is_round(name: str) -> bool:
    """Whether ``name`` reads as a round object: a word of it is, or ends in, a round word
    ("bowl", "coffee_mug", "teacup", "cups")."""
    return any(part.endswith((word, word + "s", word + "es")) for part in name.split("_") for word in ROUND_WORDS)


def _speed(states: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    return torch.linalg.vector_norm(states[f"{name}_vel_linear"], dim=-1)


def _at_rest(states: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    spin = torch.linalg.vector_norm(states[f"{name}_vel_angular"], dim=-1)
    return (_speed(states, name) < REST_SPEED) & (spin < REST_SPIN)


def _over_table(pos: torch.Tensor) -> torch.Tensor:
    return (pos[:, 0].abs() < TABLE_HALF_EXTENT) & (pos[:, 1].abs() < TABLE_HALF_EXTENT)


def _planar(states: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    return states[f"{name}_pos"][:, :2]


def _travel(states: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    """xy distance from where ``name`` started the episode."""
    return torch.linalg.vector_norm(_planar(states, name) - states[f"{name}_init_pos"][:, :2], dim=-1)


def _rise(states: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    """Highest centre height this episode above the start height: how far it was ever raised."""
    return states[f"{name}_max_height"] - states[f"{name}_init_pos"][:, 2]


def _at_start_height(states: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    """Back at the height it started at: on the table, on the same face (starts rest on the table)."""
    return (states[f"{name}_pos"][:, 2] - states[f"{name}_init_pos"][:, 2]).abs() < HEIGHT_TOL


def _on_table(states: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    """Lying on the table top on any face: its centre above the table and no higher than half its
    largest extent (plus a tolerance), over the table's area."""
    pos = states[f"{name}_pos"]
    height = pos[:, 2] - states["table_height"]
    largest_half = states[f"{name}_size"].max(dim=-1).values / 2
    return (height > 0) & (height < largest_half + HEIGHT_TOL) & _over_table(pos)


def _local(states: dict[str, torch.Tensor], name: str, point: torch.Tensor) -> torch.Tensor:
    """``point`` (N, 3, world) in ``name``'s own frame."""
    return quat_rotate(quat_conj(states[f"{name}_quat"]), point - states[f"{name}_pos"])


def _hand_on(states: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    """The grasp point is within ``name``'s box (grown by a margin): the hand is at the object."""
    local = _local(states, name, states["eef_pos"])
    return (local.abs() <= states[f"{name}_size"] / 2 + HAND_MARGIN).all(dim=-1)


def _held(states: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    """In the closed hand and moving with it."""
    closed = states["gripper_width"] < OPEN_WIDTH
    relative = torch.linalg.vector_norm(states[f"{name}_vel_linear"] - states["eef_vel_linear"], dim=-1)
    return _hand_on(states, name) & closed & (relative < HELD_SPEED)


def _released(states: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    return ~_hand_on(states, name)


def _heading_axes(quat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Unit xy directions (N, 2) of the body's x axis projected on the table, and its normal."""
    w, x, y, z = quat.unbind(-1)
    ax = torch.stack((1 - 2 * (y * y + z * z), 2 * (x * y + w * z)), dim=-1)
    norm = torch.linalg.vector_norm(ax, dim=-1, keepdim=True)
    fallback = torch.tensor([1.0, 0.0], dtype=ax.dtype, device=ax.device).expand_as(ax)
    ax = torch.where(norm > 1e-6, ax / norm.clamp_min(1e-6), fallback)
    return ax, torch.stack((-ax[:, 1], ax[:, 0]), dim=-1)


def _radius(states: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    return states[f"{name}_size"][:, :2].max(dim=-1).values / 2


def _signed_distance(states: dict[str, torch.Tensor], name: str, point: torch.Tensor) -> torch.Tensor:
    """Signed xy distance of ``point`` (N, 2) from ``name``'s footprint: < 0 inside, > 0 outside."""
    rel = point - _planar(states, name)
    if is_round(name):
        return torch.linalg.vector_norm(rel, dim=-1) - _radius(states, name)
    ax, ay = _heading_axes(states[f"{name}_quat"])
    local = torch.stack(((rel * ax).sum(-1), (rel * ay).sum(-1)), dim=-1)
    q = local.abs() - states[f"{name}_size"][:, :2] / 2
    outside = torch.linalg.vector_norm(q.clamp_min(0.0), dim=-1)
    inside = q.max(dim=-1).values.clamp_max(0.0)
    return outside + inside


def _corners(states: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    """The footprint rectangle's corners (N, 4, 2), in order round the rectangle."""
    ax, ay = _heading_axes(states[f"{name}_quat"])
    half = states[f"{name}_size"][:, :2] / 2
    ex, ey = ax * half[:, :1], ay * half[:, 1:]
    centre = _planar(states, name)
    return torch.stack((centre + ex + ey, centre - ex + ey, centre - ex - ey, centre + ex - ey), dim=1)


def _point_segment(p: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Distance from points p to segments ab (broadcast over leading dims, xy last)."""
    ab = b - a
    t = ((p - a) * ab).sum(-1) / (ab * ab).sum(-1).clamp_min(1e-12)
    closest = a + t.clamp(0.0, 1.0)[..., None] * ab
    return torch.linalg.vector_norm(p - closest, dim=-1)


def _rect_gap(ca: torch.Tensor, cb: torch.Tensor) -> torch.Tensor:
    """Gap between two convex quadrilaterals (N, 4, 2): the true distance when apart, minus the
    least overlap along an edge normal when they overlap."""
    separation = None
    for corners in (ca, cb):
        for k in range(2):
            edge = corners[:, k + 1] - corners[:, k]
            normal = torch.stack((-edge[:, 1], edge[:, 0]), dim=-1)
            normal = normal / torch.linalg.vector_norm(normal, dim=-1, keepdim=True).clamp_min(1e-12)
            pa, pb = (ca * normal[:, None]).sum(-1), (cb * normal[:, None]).sum(-1)
            sep = torch.maximum(pb.min(-1).values - pa.max(-1).values, pa.min(-1).values - pb.max(-1).values)
            separation = sep if separation is None else torch.maximum(separation, sep)
    # when apart, the closest pair is a corner of one and an edge of the other
    def corner_to_edges(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
        a, b = q, q.roll(-1, dims=1)                         # edges of q (N, 4, 2)
        d = _point_segment(p[:, :, None], a[:, None], b[:, None])  # (N, 4 corners, 4 edges)
        return d.flatten(1).min(-1).values
    apart = torch.minimum(corner_to_edges(ca, cb), corner_to_edges(cb, ca))
    return torch.where(separation > 0, apart, separation)


def _footprint_gap(states: dict[str, torch.Tensor], a: str, b: str) -> torch.Tensor:
    """Gap between the table footprints of ``a`` and ``b``: > 0 apart, <= 0 touching or overlapping."""
    round_a, round_b = is_round(a), is_round(b)
    if round_a and round_b:
        return (torch.linalg.vector_norm(_planar(states, a) - _planar(states, b), dim=-1)
                - _radius(states, a) - _radius(states, b))
    if round_a or round_b:
        circle, rect = (a, b) if round_a else (b, a)
        return _signed_distance(states, rect, _planar(states, circle)) - _radius(states, circle)
    return _rect_gap(_corners(states, a), _corners(states, b))


def _top(states: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    """Height of ``name``'s top face (its rim, for a container), standing as it started."""
    return states[f"{name}_pos"][:, 2] + states[f"{name}_size"][:, 2] / 2


# -- the families -----------------------------------------------------------------------------------
def _displace(goal: FamilyGoal) -> SuccessFn:
    dx, dy = goal.params["direction"]
    length = math.hypot(dx, dy)
    dx, dy, distance, x = dx / length, dy / length, goal.params["distance"], goal.x

    def success(states: dict[str, torch.Tensor]) -> torch.Tensor:
        delta = _planar(states, x) - states[f"{x}_init_pos"][:, :2]
        along = delta[:, 0] * dx + delta[:, 1] * dy
        across = (delta[:, 1] * dx - delta[:, 0] * dy).abs()
        return ((along >= distance) & (across < along) & (_rise(states, x) < NOT_LIFTED)
                & _at_start_height(states, x) & _over_table(states[f"{x}_pos"]) & _at_rest(states, x))
    return success


def _lift(goal: FamilyGoal) -> SuccessFn:
    height, x = goal.params["height"], goal.x

    def success(states: dict[str, torch.Tensor]) -> torch.Tensor:
        raised = states[f"{x}_pos"][:, 2] - states[f"{x}_init_pos"][:, 2] >= height
        return raised & _held(states, x)
    return success


def _tip_over(goal: FamilyGoal) -> SuccessFn:
    x = goal.x

    def success(states: dict[str, torch.Tensor]) -> torch.Tensor:
        on_side = up_z(states[f"{x}_quat"]).abs() < ON_SIDE_SIN  # its own up axis lies (nearly) flat
        return on_side & _on_table(states, x) & _at_rest(states, x)
    return success


def _next_to(goal: FamilyGoal) -> SuccessFn:
    x, y, gap_limit, how = goal.x, goal.y, goal.params["gap"], goal.params["how"]

    def success(states: dict[str, torch.Tensor]) -> torch.Tensor:
        gap = _footprint_gap(states, x, y)
        beside = (gap > -CONTACT_TOL) & (gap < gap_limit)
        y_stayed = (_travel(states, y) < STAY_RADIUS) & _at_start_height(states, y)
        if how == "pushed":
            manner = (_rise(states, x) < NOT_LIFTED) & _at_start_height(states, x)
        elif how == "dropped":
            manner = (_rise(states, x) > DROPPED_LIFT) & _released(states, x)
        else:  # placed
            manner = _released(states, x)
        return (beside & (_travel(states, x) >= MIN_TRAVEL) & y_stayed & manner & _on_table(states, x)
                & _at_rest(states, x))
    return success


def _in_front_of(goal: FamilyGoal) -> SuccessFn:
    x, y, dropped = goal.x, goal.y, goal.params["dropped"]

    def success(states: dict[str, torch.Tensor]) -> torch.Tensor:
        rel = _planar(states, x) - _planar(states, y)
        toward_robot = -rel[:, 0]  # the robot sits at -x, facing +x
        robot_side = (toward_robot > 0) & (rel[:, 1].abs() < toward_robot)  # a 45 degree cone
        from_rim = _signed_distance(states, y, _planar(states, x))
        near = (from_rim >= FRONT_MIN) & (from_rim <= FRONT_MAX)
        ok = robot_side & near & _released(states, x) & _on_table(states, x) & _at_rest(states, x)
        return ok & (_rise(states, x) > DROPPED_LIFT) if dropped else ok
    return success


def _inside(goal: FamilyGoal) -> SuccessFn:
    x, y, thrown = goal.x, goal.y, goal.params["thrown"]

    def success(states: dict[str, torch.Tensor]) -> torch.Tensor:
        pos = states[f"{x}_pos"]
        within = _signed_distance(states, y, pos[:, :2]) < -WALL
        below_rim = (pos[:, 2] < _top(states, y)) & (pos[:, 2] > states["table_height"])
        if thrown:
            let_go = torch.linalg.vector_norm(states["eef_pos"] - pos, dim=-1) >= THROW_RELEASE
        else:
            let_go = _released(states, x)
        y_upright = up_z(states[f"{y}_quat"]) > UPRIGHT_COS
        return within & below_rim & let_go & _at_rest(states, x) & y_upright
    return success


def _on_top(goal: FamilyGoal) -> SuccessFn:
    x, y = goal.x, goal.y

    def success(states: dict[str, torch.Tensor]) -> torch.Tensor:
        pos = states[f"{x}_pos"]
        above = pos[:, 2] - _top(states, y)
        largest_half = states[f"{x}_size"].max(dim=-1).values / 2
        resting_on_y = (above > 0) & (above < largest_half + TOUCH_TOL)
        over_y = _signed_distance(states, y, pos[:, :2]) < 0
        return resting_on_y & over_y & _released(states, x) & _at_rest(states, x) & _at_rest(states, y)
    return success


def _cover(goal: FamilyGoal) -> SuccessFn:
    x, y, upside_down = goal.x, goal.y, goal.params["upside_down"]

    def success(states: dict[str, torch.Tensor]) -> torch.Tensor:
        y_height = states[f"{y}_pos"][:, 2] - states["table_height"]
        y_down = (y_height - states[f"{y}_size"][:, 2] / 2).abs() < HEIGHT_TOL  # its rim on the table
        x_under = _signed_distance(states, y, _planar(states, x)) < -WALL
        ok = y_down & x_under & _on_table(states, x) & _at_rest(states, y) & _over_table(states[f"{y}_pos"])
        return ok & (up_z(states[f"{y}_quat"]) < -UPRIGHT_COS) if upside_down else ok
    return success


def _uncover(goal: FamilyGoal) -> SuccessFn:
    x, y = goal.x, goal.y

    def success(states: dict[str, torch.Tensor]) -> torch.Tensor:
        clear = _footprint_gap(states, x, y) > UNCOVER_CLEAR
        return clear & (_travel(states, x) < UNCOVER_STAY) & _on_table(states, x) & _at_rest(states, x)
    return success


def _push_with(goal: FamilyGoal) -> SuccessFn:
    x, y = goal.x, goal.y

    def success(states: dict[str, torch.Tensor]) -> torch.Tensor:
        pushed = ((_travel(states, x) >= MIN_TRAVEL) & (_rise(states, x) < NOT_LIFTED)
                  & _at_start_height(states, x) & _over_table(states[f"{x}_pos"]))
        tool_in_hand = _hand_on(states, y) & (states["gripper_width"] < OPEN_WIDTH)
        tool_raised = states[f"{y}_pos"][:, 2] - states[f"{y}_init_pos"][:, 2] > CONTACT_TOL
        return pushed & tool_in_hand & tool_raised & ~_hand_on(states, x)
    return success


_BUILDERS: dict[str, Callable[[FamilyGoal], SuccessFn]] = {
    "displace": _displace, "lift": _lift, "tip_over": _tip_over, "next_to": _next_to,
    "in_front_of": _in_front_of, "inside": _inside, "on_top": _on_top, "cover": _cover,
    "uncover": _uncover, "push_with": _push_with,
}
assert set(_BUILDERS) == set(FAMILIES)


def family_success(goal: FamilyGoal) -> SuccessFn:
    """The family's success for ``goal``'s objects and parameters: ``states`` -> bool (N,)."""
    return _BUILDERS[goal.family](goal)
