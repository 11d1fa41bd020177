"""Register task folders with Gymnasium, and make envs from a folder without registering.

One ``register`` call per task with both entry points. Registering never silently replaces
an id: a folder whose class name is taken (a user's ``PushLeft`` beside the shipped one, eight
samples of one task) registers under an ``env_id`` of its own, or replaces only when asked.
``make`` / ``make_vec`` take an id or a folder, so samples can be built side by side with no
registry at all.
"""
from __future__ import annotations

import difflib
import json
import logging
from pathlib import Path
from typing import Any

import gymnasium as gym
from gymnasium.envs.registration import EnvSpec

from .errors import TaskRegistrationError, V2PError
from .scene_spec import SceneSpecError
from .task_loader import GENERATED_DIR
from .vector_env import DEFAULT_EPISODE_LENGTH

__all__ = ["register_task_dir", "register_generated_tasks", "GENERATED_DIR", "registered_task_ids",
           "task_env_spec", "make", "make_vec", "resolve_task", "UnknownTaskError"]

log = logging.getLogger(__name__)
_REGISTERED: dict[str, Path] = {}
_ENTRY_POINT = "v2p_envs.env:V2PEnv"
_VECTOR_ENTRY_POINT = "v2p_envs.vector_env:V2PVectorEnv"


class UnknownTaskError(V2PError, KeyError):
    """Neither a registered id nor a task folder."""

    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return str(self.args[0])


def _class_name(folder: Path) -> str:
    scene_file = folder / "scene.json"
    try:
        return json.loads(scene_file.read_text())["task_class_name"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise SceneSpecError(scene_file, "task_class_name", f"cannot read it to register the task ({exc})") from None


def task_env_spec(folder: Path | str, env_id: str | None = None,
                  max_episode_steps: int = DEFAULT_EPISODE_LENGTH) -> EnvSpec:
    """The Gymnasium spec of ``folder`` (not registered): ``gym.make(spec)`` builds it."""
    folder = Path(folder).resolve()
    return EnvSpec(id=env_id or f"V2P-{_class_name(folder)}-v0", entry_point=_ENTRY_POINT,
                   vector_entry_point=_VECTOR_ENTRY_POINT, max_episode_steps=max_episode_steps,
                   kwargs={"task_dir": str(folder)})


def register_task_dir(folder: Path | str, env_id: str | None = None, replace: bool = False,
                      max_episode_steps: int = DEFAULT_EPISODE_LENGTH) -> str:
    """Register ``folder`` as ``env_id`` (default ``V2P-<TaskClass>-v0``) and return the id.

    Reads only scene.json now; the task code loads (and, for a non-shipped folder, passes its
    trial) when an env is made. An id already taken by another folder is an error unless
    ``replace``: pass ``env_id`` to register a second folder of the same task class."""
    spec = task_env_spec(folder, env_id, max_episode_steps)
    folder = Path(spec.kwargs["task_dir"])
    if spec.id in gym.registry:
        owner = _REGISTERED.get(spec.id)
        if owner == folder:
            return spec.id
        if not replace:
            raise TaskRegistrationError(
                f"{spec.id} is already registered from {owner or 'another package'}; register {folder} under "
                f"another id (register_task_dir(folder, env_id='V2P-My{_class_name(folder)}-v0')), build it "
                "without registering (v2p_envs.make(folder)), or pass replace=True")
        log.warning("%s: replacing the registration from %s with %s", spec.id, owner, folder)
        del gym.registry[spec.id]
    gym.register(id=spec.id, entry_point=spec.entry_point, vector_entry_point=spec.vector_entry_point,
                 max_episode_steps=spec.max_episode_steps, kwargs=spec.kwargs)
    _REGISTERED[spec.id] = folder
    return spec.id


def register_generated_tasks(root: Path = GENERATED_DIR) -> list[str]:
    """Register every folder in ``root`` that holds a scene.json."""
    ids = []
    for folder in sorted(p for p in root.iterdir() if (p / "scene.json").is_file()) if root.is_dir() else []:
        ids.append(register_task_dir(folder))
    return ids


def registered_task_ids() -> list[str]:
    """The ids this package registered that Gymnasium still holds (one removed with
    ``del gym.registry[id]`` is gone for both)."""
    return sorted(i for i in _REGISTERED if i in gym.registry)


def resolve_task(task: str | Path | EnvSpec) -> EnvSpec:
    """The spec of a registered id, a task folder, or a spec; an unknown id names its near misses."""
    if isinstance(task, EnvSpec):
        return task
    if Path(task).is_dir() and (Path(task) / "scene.json").is_file():
        return task_env_spec(task)
    task = str(task)
    if task in gym.registry:
        return gym.registry[task]
    close = difflib.get_close_matches(task, registered_task_ids(), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(close)}?" if close else f"; `v2p list` shows the {len(_REGISTERED)} tasks"
    raise UnknownTaskError(f"unknown task {task!r}: not a registered id nor a task folder{hint}")


def make(task: str | Path | EnvSpec, **kwargs: Any) -> gym.Env:
    """``gym.make`` for an id or a folder (no registration): TimeLimit and checkers included."""
    return gym.make(resolve_task(task), **kwargs)


def make_vec(task: str | Path | EnvSpec, num_envs: int = 1, **kwargs: Any) -> gym.vector.VectorEnv:
    """The native vector env (V2PVectorEnv) of an id or a folder."""
    return gym.make_vec(resolve_task(task), num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)
