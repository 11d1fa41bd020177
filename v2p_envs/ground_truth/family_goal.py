"""The family goal of a generated task (``goal.json``): which family, which objects, which
parameters, and how it was derived; validated, with errors that name the file and the field.

The generator writes it from the caption and the video (``generator.codegen.task_goal``); the
env reads it to score a task without a hand-written ground truth (``families.family_success``).
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import V2PError

__all__ = ["FamilyGoal", "FamilyGoalError", "FAMILIES", "TWO_OBJECT_FAMILIES", "GOAL_FILE", "GOAL_FORMAT", "load_goal"]

#: The file a task folder holds its family goal in.
GOAL_FILE = "goal.json"
#: The format tag written into every goal file.
GOAL_FORMAT = "v2p-family-goal/1"


class FamilyGoalError(V2PError, ValueError):
    """A family goal (goal.json) that cannot be used; the message names the file and the field."""

    def __init__(self, source: Path | str, field_path: str, problem: str) -> None:
        self.source = str(source)
        self.field_path = field_path
        super().__init__(f"{source}: field '{field_path}': {problem}")


# -- the goal ---------------------------------------------------------------------------------
_REQUIRED = object()


@dataclass(frozen=True)
class _Param:
    kind: str                      # "float", "bool", "choice", "direction"
    default: Any = _REQUIRED
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    meaning: str = ""


#: Every family's parameters: kind, default (none: required), sane range, meaning.
FAMILIES: dict[str, dict[str, _Param]] = {
    "displace": {"direction": _Param("direction", meaning="unit (dx, dy) in the table plane"),
                 "distance": _Param("float", 0.15, 0.02, 0.5, meaning="metres moved along the direction")},
    "lift": {"height": _Param("float", 0.10, 0.02, 0.5, meaning="metres above its start")},
    "tip_over": {},
    "next_to": {"gap": _Param("float", 0.05, 0.0, 0.2, meaning="largest footprint gap, metres"),
                "how": _Param("choice", "pushed", choices=("pushed", "dropped", "placed"))},
    "in_front_of": {"dropped": _Param("bool", False, meaning="x was lifted 4 cm+ and let fall")},
    "inside": {"thrown": _Param("bool", False, meaning="the hand ends 10 cm+ away from x")},
    "on_top": {},
    "cover": {"upside_down": _Param("bool", True, meaning="y covers x upside down")},
    "uncover": {},
    "push_with": {},
}
#: Families about two objects: ``x`` acts on or relative to ``y``.
TWO_OBJECT_FAMILIES = frozenset({"next_to", "in_front_of", "inside", "on_top", "cover", "uncover", "push_with"})
_TOP_KEYS = ("format", "family", "x", "y", "params", "derived_from")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def _check_params(family: str, params: Any, source: str) -> dict[str, Any]:
    """The family's parameters, checked and with defaults filled in (floats as float, a tuple direction)."""
    if not isinstance(params, dict):
        raise FamilyGoalError(source, "params", f"expected an object (dict), got {type(params).__name__}")
    schema = FAMILIES[family]
    unknown = sorted(set(params) - set(schema))
    if unknown:
        raise FamilyGoalError(source, f"params.{unknown[0]}", f"is not a parameter of family {family!r}; it has "
                              f"{sorted(schema) or 'none'}")
    out: dict[str, Any] = {}
    for name, spec in schema.items():
        where = f"params.{name}"
        if name not in params:
            if spec.default is _REQUIRED:
                raise FamilyGoalError(source, where, f"missing; family {family!r} needs it ({spec.meaning})")
            out[name] = spec.default
            continue
        value = params[name]
        if spec.kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise FamilyGoalError(source, where, f"expected a number in metres, got {value!r}")
            if not spec.low <= value <= spec.high:
                raise FamilyGoalError(source, where, f"{value!r} is out of the sane range [{spec.low}, {spec.high}]")
            out[name] = float(value)
        elif spec.kind == "bool":
            if not isinstance(value, bool):
                raise FamilyGoalError(source, where, f"expected true or false, got {value!r}")
            out[name] = value
        elif spec.kind == "choice":
            if value not in spec.choices:
                raise FamilyGoalError(source, where, f"expected one of {list(spec.choices)}, got {value!r}")
            out[name] = value
        else:  # direction
            ok = (isinstance(value, (list, tuple)) and len(value) == 2
                  and all(not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v) for v in value))
            if not ok:
                raise FamilyGoalError(source, where, f"expected [dx, dy], two numbers, got {value!r}")
            length = math.hypot(*value)
            if abs(length - 1.0) > 0.01:
                raise FamilyGoalError(source, where, f"expected a unit vector, got {list(value)} (length {length:.3f})")
            out[name] = (float(value[0]), float(value[1]))
    return out


def _check_goal(family: Any, x: Any, y: Any, params: Any, derived_from: Any, source: str) -> dict[str, Any]:
    """Raise ``FamilyGoalError`` naming ``source`` and the field for a bad goal; the checked params."""
    if not isinstance(family, str) or family not in FAMILIES:
        raise FamilyGoalError(source, "family", f"unknown family {family!r}; expected one of {list(FAMILIES)}")
    if not isinstance(x, str) or not _NAME.match(x):
        raise FamilyGoalError(source, "x", f"expected an object name (lower_snake_case), got {x!r}")
    two = family in TWO_OBJECT_FAMILIES
    if two and (not isinstance(y, str) or not _NAME.match(y)):
        raise FamilyGoalError(source, "y", f"family {family!r} relates two objects; expected the second object's "
                              f"name, got {y!r}")
    if not two and y is not None:
        raise FamilyGoalError(source, "y", f"family {family!r} has one object; expected null, got {y!r}")
    if two and y == x:
        raise FamilyGoalError(source, "y", f"is the same object as x ({x!r}); expected another object")
    if not isinstance(derived_from, dict):
        raise FamilyGoalError(source, "derived_from", f"expected an object (dict), got {derived_from!r}")
    return _check_params(family, params, source)


@dataclass(frozen=True)
class FamilyGoal:
    """What a generated task asks for: ``family`` acting on object ``x`` (relative to ``y`` for
    two-object families), with the family's parameters (defaults filled in).

    ``derived_from`` says where the goal came from (caption, video, by rule); it is recorded,
    not compared.
    """

    family: str
    x: str
    y: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    derived_from: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", _check_goal(self.family, self.x, self.y, self.params,
                                                       self.derived_from, "<goal>"))

    @property
    def objects(self) -> tuple[str, ...]:
        return (self.x,) if self.y is None else (self.x, self.y)

    def check_objects(self, object_names: tuple[str, ...] | list[str], source: Path | str = "<goal>") -> None:
        """Raise ``FamilyGoalError`` unless the scene has the goal's objects."""
        for role, name in (("x", self.x), ("y", self.y)):
            if name is not None and name not in object_names:
                raise FamilyGoalError(source, role, f"names object {name!r}, which the scene does not have "
                                      f"(objects: {list(object_names)})")

    def to_dict(self) -> dict[str, Any]:
        params = {k: list(v) if isinstance(v, tuple) else v for k, v in self.params.items()}
        return {"format": GOAL_FORMAT, "family": self.family, "x": self.x, "y": self.y, "params": params,
                "derived_from": dict(self.derived_from)}

    @classmethod
    def from_dict(cls, data: Any, source: Path | str = "<goal>") -> FamilyGoal:
        source = str(source)
        if not isinstance(data, dict):
            raise FamilyGoalError(source, "<root>", f"expected a JSON object, got {type(data).__name__}")
        unknown = sorted(set(data) - set(_TOP_KEYS))
        if unknown:
            raise FamilyGoalError(source, unknown[0], f"unknown field; a goal has {list(_TOP_KEYS)}")
        if data.get("format", GOAL_FORMAT) != GOAL_FORMAT:
            raise FamilyGoalError(source, "format", f"expected {GOAL_FORMAT!r}, got {data.get('format')!r}")
        for key in ("family", "x"):
            if key not in data:
                raise FamilyGoalError(source, key, "missing")
        family, x, y = data["family"], data["x"], data.get("y")
        params, derived = data.get("params", {}), data.get("derived_from", {})
        params = _check_goal(family, x, y, params, derived, source)  # the file's name in any error
        return cls(family, x, y, params, dict(derived))

    def save(self, path: Path | str) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path


def load_goal(path: Path | str, object_names: tuple[str, ...] | list[str] | None = None) -> FamilyGoal:
    """A goal file, validated (and checked against the scene's objects when given)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise FamilyGoalError(path, "<root>", f"not valid JSON: {exc}") from None
    except OSError as exc:
        raise FamilyGoalError(path, "<root>", f"cannot be read: {exc.strerror or exc}") from None
    goal = FamilyGoal.from_dict(data, path)
    if object_names is not None:
        goal.check_objects(object_names, path)
    return goal
