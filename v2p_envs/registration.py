"""Register task folders with Gymnasium: one ``register`` call per task, both entry points."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import gymnasium as gym

from .scene_spec import SceneSpecError
from .vector_env import DEFAULT_EPISODE_LENGTH

__all__ = ["register_task_dir", "register_generated_tasks", "GENERATED_DIR", "registered_task_ids"]

log = logging.getLogger(__name__)
GENERATED_DIR = Path(__file__).parent / "generated"
_REGISTERED: dict[str, Path] = {}


def register_task_dir(folder: Path | str, max_episode_steps: int = DEFAULT_EPISODE_LENGTH) -> str:
    """Register the task in ``folder`` (reads only its scene.json now; the rest loads on make)."""
    folder = Path(folder).resolve()
    scene_file = folder / "scene.json"
    try:
        class_name = json.loads(scene_file.read_text())["task_class_name"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise SceneSpecError(scene_file, "task_class_name", f"cannot read it to register the task ({exc})") from None
    env_id = f"V2P-{class_name}-v0"
    if env_id in gym.registry:
        if _REGISTERED.get(env_id) == folder:
            return env_id
        del gym.registry[env_id]  # a user folder of the same name replaces the shipped one
    gym.register(
        id=env_id,
        entry_point="v2p_envs.env:V2PEnv",
        vector_entry_point="v2p_envs.vector_env:V2PVectorEnv",
        max_episode_steps=max_episode_steps,
        kwargs={"task_dir": str(folder)},
    )
    _REGISTERED[env_id] = folder
    return env_id


def register_generated_tasks(root: Path = GENERATED_DIR) -> list[str]:
    """Register every folder in ``root`` that holds a scene.json."""
    ids = []
    for folder in sorted(p for p in root.iterdir() if (p / "scene.json").is_file()) if root.is_dir() else []:
        ids.append(register_task_dir(folder))
    return ids


def registered_task_ids() -> list[str]:
    return sorted(_REGISTERED)
