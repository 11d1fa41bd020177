"""Emit a task folder: the last arrow before ``gym.make``.

A folder is self-contained: scene.json with mesh paths relative to it, meshes/ (visual mesh
plus the cached convex collision parts), urdf/ (when the scene had URDFs: written anew for the
emitted meshes, so no path points outside the folder), task.py, ppo.yaml, provenance.json and,
for a task of a known family, goal.json (the family goal the evaluator scores it by, derived from
the caption and the video, never from the task code).
A scene must be in the table frame (``pose_frame: table``): tasks read poses in that frame.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import re
import shutil
from pathlib import Path
from typing import Any, Literal

import yaml

from v2p_envs.convex import collision_parts, load_mesh
from v2p_envs.ground_truth.family_goal import GOAL_FILE, FamilyGoal, load_goal
from v2p_envs.registration import GENERATED_DIR
from v2p_envs.scene_spec import SceneSpec, SceneSpecError

from .reconstruct.export import urdf_text

__all__ = ["emit_task", "default_ppo_config", "task_folder_name", "INHERIT_GOAL"]

log = logging.getLogger(__name__)
PPO_TEMPLATE = Path(__file__).parent / "templates" / "ppo.yaml"
#: ``emit_task(goal=INHERIT_GOAL)``: keep the goal.json of the folder the scene was loaded from.
INHERIT_GOAL: Literal["inherit"] = "inherit"


def default_ppo_config() -> dict[str, Any]:
    return yaml.safe_load(PPO_TEMPLATE.read_text())


def task_folder_name(task_class_name: str) -> str:
    """CamelCase class name -> snake_case folder name (ThrowGarlic -> throw_garlic)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", task_class_name).lower()


def emit_task(scene: SceneSpec, task_code: str, provenance: dict[str, Any],
              ppo_config: dict[str, Any] | None = None, out_root: Path = GENERATED_DIR,
              overwrite: bool = False, folder_name: str | None = None,
              goal: FamilyGoal | None | Literal["inherit"] = INHERIT_GOAL) -> Path:
    """Write the task folder for ``scene`` (``out_root/<folder_name>``, by default the class
    name in snake_case) and return its path.

    ``goal``: the family goal to write as goal.json; None writes none; ``INHERIT_GOAL`` (the
    default) copies the goal.json of the folder ``scene`` was loaded from, if it has one, so
    that a task re-emitted from a task folder (reward reflection) keeps its goal.

    Meshes named in ``scene`` (relative to its source folder) are copied into ``meshes/`` with
    their cached convex parts (decomposed once if there are none), so that loading the task
    never runs CoACD.
    """
    if scene.pose_frame != "table":
        raise SceneSpecError(scene.source_dir or "scene", "pose_frame",
                             f"is {scene.pose_frame!r}; tasks read poses in the table frame: reconstruct the scene "
                             "again (v2p reconstruct writes the table frame)")
    folder = Path(out_root) / (folder_name or task_folder_name(scene.task_class_name))
    if folder.exists() and not overwrite and any(folder.iterdir()):
        raise FileExistsError(f"{folder} exists; pass overwrite=True to replace it")
    if goal == INHERIT_GOAL:
        inherited = scene.source_dir / GOAL_FILE if scene.source_dir is not None else None
        goal = load_goal(inherited) if inherited is not None and inherited.is_file() else None
    if goal is not None:
        goal.check_objects([o.name for o in scene.objects], folder / GOAL_FILE)
    meshes = folder / "meshes"
    meshes.mkdir(parents=True, exist_ok=True)
    objects = []
    for obj in scene.objects:
        source = scene.resolve(obj.mesh_path)
        target = meshes / f"{obj.name}{source.suffix}"
        if source.resolve() != target.resolve():
            shutil.copyfile(source, target)
            cached = source.with_name(source.name + ".collision")
            if cached.is_dir():  # the parts are keyed by the mesh's hash: still valid for the copy
                shutil.copytree(cached, target.with_name(target.name + ".collision"), dirs_exist_ok=True)
        parts = collision_parts(target)
        urdf_path = None
        if obj.urdf_path is not None:
            urdf_path = f"urdf/{obj.name}.urdf"
            (folder / "urdf").mkdir(exist_ok=True)
            (folder / urdf_path).write_text(urdf_text(obj.name, f"meshes/{target.name}",
                                                      tuple(p.relative_to(folder).as_posix() for p in parts),
                                                      load_mesh(target), obj.density))
        objects.append(dataclasses.replace(obj, mesh_path=f"meshes/{target.name}", urdf_path=urdf_path))
    emitted = dataclasses.replace(scene, objects=tuple(objects), source_dir=folder)
    emitted.save(folder / "scene.json")
    (folder / "task.py").write_text(task_code)
    if ppo_config is None:
        shutil.copyfile(PPO_TEMPLATE, folder / "ppo.yaml")  # keeps the template's comments
    else:
        (folder / "ppo.yaml").write_text(yaml.safe_dump(ppo_config, sort_keys=False))
    (folder / "provenance.json").write_text(json.dumps(provenance, indent=2) + "\n")
    if goal is not None:
        goal.save(folder / GOAL_FILE)
    elif (folder / GOAL_FILE).exists():  # an overwritten folder's old goal is not this task's
        (folder / GOAL_FILE).unlink()
    log.info("emitted %s -> %s", scene.env_id, folder)
    return folder
