"""Emit a task folder into v2p_envs/generated/: the last arrow before ``gym.make``.

A folder is self-contained: scene.json with mesh paths relative to it, meshes/ (visual mesh
plus the cached convex collision parts), task.py, ppo.yaml and provenance.json.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import re
import shutil
from pathlib import Path
from typing import Any

import yaml

from v2p_envs.convex import collision_parts
from v2p_envs.registration import GENERATED_DIR
from v2p_envs.scene_spec import SceneSpec

__all__ = ["emit_task", "default_ppo_config", "task_folder_name"]

log = logging.getLogger(__name__)
PPO_TEMPLATE = Path(__file__).parent / "templates" / "ppo.yaml"


def default_ppo_config() -> dict[str, Any]:
    return yaml.safe_load(PPO_TEMPLATE.read_text())


def task_folder_name(task_class_name: str) -> str:
    """CamelCase class name -> snake_case folder name (ThrowGarlic -> throw_garlic)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", task_class_name).lower()


def emit_task(scene: SceneSpec, task_code: str, provenance: dict[str, Any],
              ppo_config: dict[str, Any] | None = None, out_root: Path = GENERATED_DIR,
              overwrite: bool = False) -> Path:
    """Write the task folder for ``scene`` and return its path.

    Meshes named in ``scene`` (relative to its source folder) are copied into ``meshes/`` and
    decomposed into convex parts once, so that loading the task never runs CoACD.
    """
    folder = Path(out_root) / task_folder_name(scene.task_class_name)
    if folder.exists() and not overwrite and any(folder.iterdir()):
        raise FileExistsError(f"{folder} exists; pass overwrite=True to replace it")
    meshes = folder / "meshes"
    meshes.mkdir(parents=True, exist_ok=True)
    objects = []
    for obj in scene.objects:
        source = scene.resolve(obj.mesh_path)
        target = meshes / f"{obj.name}{source.suffix}"
        if source.resolve() != target.resolve():
            shutil.copyfile(source, target)
        collision_parts(target)
        objects.append(dataclasses.replace(obj, mesh_path=f"meshes/{target.name}"))
    emitted = dataclasses.replace(scene, objects=tuple(objects), source_dir=folder)
    emitted.save(folder / "scene.json")
    (folder / "task.py").write_text(task_code)
    if ppo_config is None:
        shutil.copyfile(PPO_TEMPLATE, folder / "ppo.yaml")  # keeps the template's comments
    else:
        (folder / "ppo.yaml").write_text(yaml.safe_dump(ppo_config, sort_keys=False))
    (folder / "provenance.json").write_text(json.dumps(provenance, indent=2) + "\n")
    log.info("emitted %s -> %s", scene.env_id, folder)
    return folder
