"""SceneSpec: the scene JSON that flows from reconstruction to the env builder.

The format follows the paper (Sec. 3.2, "scene information"): a task title, the video path, a
description, and per object its name, metric size, mesh/URDF path and tracked 6D poses. Loading
validates every field and names the file and field on error, because this file is written by
other programs (the reconstruction pipeline, the code generator) and edited by hand.
"""
from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import V2PError

__all__ = ["SceneSpecError", "ObjectSpec", "SceneSpec", "load_scene_spec", "POSE_LENGTH"]

#: A pose is [x, y, z, qw, qx, qy, qz] (metres, unit quaternion, MuJoCo's w-first order).
POSE_LENGTH = 7
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*\Z")
_CLASS_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*\Z")  # \Z: "$" would let a trailing newline through
_IDENTIFIER_EXPECTED = "expected a snake_case identifier (it prefixes state keys), got {!r}"
_CLASS_NAME_EXPECTED = "expected a CamelCase Python class name, got {!r}"


class SceneSpecError(V2PError, ValueError):
    """A scene.json that cannot be used; the message names the file and the field."""

    def __init__(self, source: Path | str, field_path: str, problem: str) -> None:
        self.source = str(source)
        self.field_path = field_path
        super().__init__(f"{source}: field '{field_path}': {problem}")


@dataclass(frozen=True)
class ObjectSpec:
    """One manipulated object.

    ``size`` is the metric extent (l, w, h) of the object's axis-aligned box in its own frame;
    the scene builder scales the mesh so that its extents equal ``size``. ``poses`` is the
    tracked 6D pose per video frame in the scene's ``pose_frame``.
    """

    name: str
    size: tuple[float, float, float]
    mesh_path: str
    urdf_path: str | None = None
    density: float = 500.0
    friction: float = 1.0
    fixed: bool = False
    poses: tuple[tuple[float, ...], ...] = ()
    #: display colour (r, g, b, a in 0..1); None: a stable colour from the name
    rgba: tuple[float, float, float, float] | None = None

    @property
    def first_pose(self) -> tuple[float, ...] | None:
        return self.poses[0] if self.poses else None

    @property
    def last_pose(self) -> tuple[float, ...] | None:
        return self.poses[-1] if self.poses else None

    @property
    def pose_delta(self) -> tuple[float, ...] | None:
        """Last minus first pose: position difference and the relative rotation quaternion."""
        if not self.poses:
            return None
        first, last = self.poses[0], self.poses[-1]
        dpos = [b - a for a, b in zip(first[:3], last[:3])]
        return tuple(dpos) + _quat_mul(last[3:], _quat_conj(first[3:]))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "size": list(self.size),
            "mesh_path": self.mesh_path,
            "urdf_path": self.urdf_path,
            "density": self.density,
            "friction": self.friction,
            "fixed": self.fixed,
            "poses": [list(p) for p in self.poses],
        }
        if self.rgba is not None:
            out["rgba"] = list(self.rgba)
        if self.poses:
            # What the paper feeds the LLM: first/last poses and their difference.
            out["pose_first"] = list(self.first_pose)
            out["pose_last"] = list(self.last_pose)
            out["pose_delta"] = list(self.pose_delta)
        return out


@dataclass(frozen=True)
class SceneSpec:
    """A task scene: what the video shows, independent of any simulator."""

    task_title: str
    task_class_name: str
    description: str
    objects: tuple[ObjectSpec, ...]
    video_path: str | None = None
    pose_frame: str = "table"
    source_dir: Path | None = field(default=None, compare=False)

    @property
    def env_id(self) -> str:
        return f"V2P-{self.task_class_name}-v0"

    def object(self, name: str) -> ObjectSpec:
        for obj in self.objects:
            if obj.name == name:
                return obj
        raise KeyError(f"scene '{self.task_class_name}' has no object '{name}'")

    def resolve(self, relative: str, field_path: str = "<path>") -> Path:
        """Path of a file named in the JSON, relative to the scene.json folder, symlinks resolved.

        Raises SceneSpecError (naming ``field_path``) where the file lies outside that folder:
        a task folder's files are the folder's own (a scene built in code may name an absolute
        path, as long as it is inside ``source_dir``)."""
        base = self.source_dir if self.source_dir is not None else Path.cwd()
        source = base / "scene.json" if self.source_dir is not None else "<scene>"
        return _inside_folder(relative, base, source, field_path, allow_absolute=True)

    def check_names(self) -> None:
        """Raise SceneSpecError unless the class name is CamelCase and each object name snake_case.

        Loading checks this; code writers call it again because a scene built in code skips
        loading, and these names are written into generated code as a class name and as state
        keys (``states["<name>_pos"]``), where other text could become code."""
        source = self.source_dir / "scene.json" if self.source_dir is not None else "<scene>"
        if not _CLASS_NAME.match(self.task_class_name):
            raise SceneSpecError(source, "task_class_name", _CLASS_NAME_EXPECTED.format(self.task_class_name))
        for i, obj in enumerate(self.objects):
            if not _IDENTIFIER.match(obj.name):
                raise SceneSpecError(source, f"objects[{i}].name", _IDENTIFIER_EXPECTED.format(obj.name))

    def to_dict(self) -> dict[str, Any]:
        return {
            "task_title": self.task_title,
            "task_class_name": self.task_class_name,
            "description": self.description,
            "video_path": self.video_path,
            "pose_frame": self.pose_frame,
            "objects": [o.to_dict() for o in self.objects],
        }

    def save(self, path: Path | str) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    @classmethod
    def from_dict(
        cls, data: Any, source: Path | str = "<scene>", base_dir: Path | None = None,
        check_files: bool = True,
    ) -> "SceneSpec":
        """Validate ``data`` field by field; ``check_files`` also requires the meshes to exist."""
        r = _Reader(source)
        if not isinstance(data, dict):
            raise SceneSpecError(source, "<root>", f"expected a JSON object, got {type(data).__name__}")
        title = r.string(data, "task_title")
        class_name = r.string(data, "task_class_name")
        if not _CLASS_NAME.match(class_name):
            raise SceneSpecError(source, "task_class_name", _CLASS_NAME_EXPECTED.format(class_name))
        description = r.string(data, "description")
        video = r.optional_string(data, "video_path")
        pose_frame = r.optional_string(data, "pose_frame") or "table"
        if pose_frame not in ("table", "camera"):
            raise SceneSpecError(source, "pose_frame", f"expected 'table' or 'camera', got {pose_frame!r}")
        raw_objects = r.require(data, "objects", list, "a non-empty list of objects")
        if not raw_objects:
            raise SceneSpecError(source, "objects", "expected a non-empty list of objects, got []")
        objects = []
        for i, raw in enumerate(raw_objects):
            objects.append(r.object_spec(raw, f"objects[{i}]", base_dir, check_files))
        names = [o.name for o in objects]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise SceneSpecError(source, "objects", f"object names must be unique, repeated: {dupes}")
        return cls(title, class_name, description, tuple(objects), video, pose_frame, base_dir)


def load_scene_spec(path: Path | str, check_files: bool = True) -> SceneSpec:
    """Read and validate a scene.json; errors name the file and the field."""
    path = Path(path)
    if not path.is_file():
        raise SceneSpecError(path, "<file>", "no such file")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise SceneSpecError(path, "<file>", f"not valid JSON ({exc})") from None
    return SceneSpec.from_dict(data, source=path, base_dir=path.parent.resolve(), check_files=check_files)


class _Reader:
    """Typed field access that turns every mismatch into a SceneSpecError."""

    def __init__(self, source: Path | str) -> None:
        self.source = source

    def fail(self, field_path: str, problem: str) -> SceneSpecError:
        return SceneSpecError(self.source, field_path, problem)

    def require(self, data: dict, key: str, typ: type | tuple, expected: str, prefix: str = "") -> Any:
        where = f"{prefix}{key}"
        if key not in data:
            raise self.fail(where, f"missing; expected {expected}")
        value = data[key]
        if not isinstance(value, typ) or isinstance(value, bool) and typ is not bool:
            raise self.fail(where, f"expected {expected}, got {type(value).__name__} {value!r:.60}")
        return value

    def string(self, data: dict, key: str, prefix: str = "") -> str:
        value = self.require(data, key, str, "a non-empty string", prefix)
        if not value.strip():
            raise self.fail(f"{prefix}{key}", "expected a non-empty string, got ''")
        return value

    def optional_string(self, data: dict, key: str, prefix: str = "") -> str | None:
        if data.get(key) is None:
            return None
        return self.require(data, key, str, "a string or null", prefix)

    def number(self, data: dict, key: str, default: float, prefix: str = "", positive: bool = True) -> float:
        if data.get(key) is None:
            return default
        value = float(self.require(data, key, (int, float), "a number", prefix))
        if positive and not (value > 0 and math.isfinite(value)):
            raise self.fail(f"{prefix}{key}", f"expected a positive finite number, got {value}")
        return value

    def vector(self, value: Any, where: str, length: int, positive: bool = False) -> tuple[float, ...]:
        ok = isinstance(value, list) and len(value) == length and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)
        if ok and positive:
            ok = all(v > 0 for v in value)
        if not ok:
            kind = "positive numbers" if positive else "finite numbers"
            raise self.fail(where, f"expected a list of {length} {kind}, got {value!r:.80}")
        return tuple(float(v) for v in value)

    def object_spec(self, raw: Any, where: str, base_dir: Path | None, check_files: bool) -> ObjectSpec:
        if not isinstance(raw, dict):
            raise self.fail(where, f"expected an object, got {type(raw).__name__}")
        p = f"{where}."
        name = self.string(raw, "name", p)
        if not _IDENTIFIER.match(name):
            raise self.fail(f"{p}name", _IDENTIFIER_EXPECTED.format(name))
        size = self.vector(self.require(raw, "size", list, "a list of 3 positive numbers (metres)", p),
                           f"{p}size", 3, positive=True)
        mesh_path = self.string(raw, "mesh_path", p)
        urdf_path = self.optional_string(raw, "urdf_path", p)
        for key, rel in (("mesh_path", mesh_path), ("urdf_path", urdf_path)):
            if rel is None:
                continue
            # before anything is read: a task folder names only files of its own
            resolved = _inside_folder(rel, base_dir or Path.cwd(), self.source, f"{p}{key}", allow_absolute=False,
                                      object_name=name)
            if check_files and not resolved.is_file():
                raise self.fail(f"{p}{key}", f"file not found: {(base_dir or Path.cwd()) / rel}")
        density = self.number(raw, "density", 500.0, p)
        friction = self.number(raw, "friction", 1.0, p)
        fixed = raw.get("fixed", False)
        if not isinstance(fixed, bool):
            raise self.fail(f"{p}fixed", f"expected true or false, got {fixed!r}")
        raw_poses = raw.get("poses") or []
        if not isinstance(raw_poses, list):
            raise self.fail(f"{p}poses", f"expected a list of [x, y, z, qw, qx, qy, qz], got {raw_poses!r:.60}")
        poses = tuple(self.vector(pose, f"{p}poses[{k}]", POSE_LENGTH) for k, pose in enumerate(raw_poses))
        rgba = None
        if raw.get("rgba") is not None:
            rgba = self.vector(raw["rgba"], f"{p}rgba", 4)
            if not all(0.0 <= v <= 1.0 for v in rgba):
                raise self.fail(f"{p}rgba", f"expected 4 numbers in [0, 1] (r, g, b, alpha), got {list(rgba)}")
        return ObjectSpec(name, size, mesh_path, urdf_path, density, friction, fixed, poses, rgba)


def _inside_folder(relative: str, base: Path, source: Path | str, field_path: str, allow_absolute: bool,
                   object_name: str | None = None) -> Path:
    """``base / relative`` with symlinks resolved, or SceneSpecError naming ``source`` and
    ``field_path`` where it is absolute (``allow_absolute=False``: a scene.json names files
    relative to its folder) or lands outside ``base`` (``../x``, or a link inside the folder that
    points out): a task folder from elsewhere must not make the loader read ``/etc/passwd``."""
    of = f"object {object_name!r}: " if object_name else ""
    if "\x00" in relative:
        raise SceneSpecError(source, field_path, f"{of}path {relative!r} contains a NUL character")
    if Path(relative).is_absolute() and not allow_absolute:
        raise SceneSpecError(source, field_path, f"{of}absolute path refused: {relative!r}; expected a path relative "
                                                 "to the task folder, e.g. 'meshes/<name>.obj'")
    folder = Path(base).resolve()
    resolved = (Path(base) / relative).resolve()
    if not resolved.is_relative_to(folder):
        lexical = Path(os.path.normpath(folder / relative))  # where it would be without following links
        via = " (through a symbolic link)" if lexical.is_relative_to(folder) else ""
        raise SceneSpecError(source, field_path, f"{of}path {relative!r} resolves to {resolved}{via}, outside the "
                                                 f"task folder {folder}: a task may name only files inside its folder")
    return resolved


def _quat_conj(q: tuple[float, ...] | list[float]) -> tuple[float, ...]:
    return (q[0], -q[1], -q[2], -q[3])


def _quat_mul(a: tuple[float, ...] | list[float], b: tuple[float, ...] | list[float]) -> tuple[float, ...]:
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return (
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    )
