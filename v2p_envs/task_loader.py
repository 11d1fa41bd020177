"""Load a task folder (scene.json, task.py, ppo.yaml, provenance.json) as a TaskDefinition.

An optional ``goal.json`` (the family goal the generator derived from the caption and the
video) is read and validated too; the env scores a task without a hand-written ground truth
with it (``v2p_envs.ground_truth.families``).

Trust (docs/architecture.md, "Trust model"): the shipped folders in ``v2p_envs/generated/`` are
trusted code of this package and are imported directly. Any other folder's ``task.py`` is
imported only after the code policy accepted it and its trial in a sandboxed child process
passed (``v2p_envs.untrusted``), inside a sandboxed child itself (a training job: the policy
check only), or when the caller says ``trust_task_code=True``.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import V2PError
from .ground_truth.family_goal import GOAL_FILE, FamilyGoal, load_goal
from .scene_spec import SceneSpec, SceneSpecError, load_scene_spec
from .task import Task
from .untrusted.guard import installed as guard_installed

__all__ = ["TaskDefinition", "load_task_dir", "TaskLoadError", "TASK_FILES", "GENERATED_DIR", "is_shipped_task_dir"]

log = logging.getLogger(__name__)
TASK_FILES = ("scene.json", "task.py", "ppo.yaml", "provenance.json")
#: The shipped task folders (trusted by provenance).
GENERATED_DIR = Path(__file__).resolve().parent / "generated"


class TaskLoadError(V2PError, ValueError):
    """A task folder that cannot be used; the message names the file."""


@dataclass(frozen=True)
class TaskDefinition:
    folder: Path
    scene: SceneSpec
    task_class: type[Task]
    ppo_config: dict[str, Any]
    provenance: dict[str, Any]
    trusted_by: str  # "shipped", "trial", "sandbox" (this process is a sandboxed child) or "caller"
    #: the family goal from goal.json, or None for a folder without one
    goal: FamilyGoal | None = None

    @property
    def env_id(self) -> str:
        return self.scene.env_id


def is_shipped_task_dir(folder: Path | str) -> bool:
    """A folder of this package's ``generated/`` (the reference tasks)."""
    return Path(folder).resolve().parent == GENERATED_DIR


def load_task_dir(folder: Path | str, trust_task_code: bool = False) -> TaskDefinition:
    """The folder's task; untrusted code runs here only after its trial passed (module doc)."""
    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise TaskLoadError(f"{folder}: no such task folder")
    missing = [name for name in TASK_FILES if not (folder / name).is_file()]
    if missing:
        raise TaskLoadError(f"{folder}: task folder lacks {missing}; expected {list(TASK_FILES)}")
    scene = load_scene_spec(folder / "scene.json")
    goal_file = folder / GOAL_FILE  # data, checked before any code runs
    goal = load_goal(goal_file, [o.name for o in scene.objects]) if goal_file.is_file() else None
    if is_shipped_task_dir(folder):
        trusted_by = "shipped"
    elif trust_task_code:
        trusted_by = "caller"
        log.warning("%s: running its task code without a trial (trust_task_code=True)", folder)
    elif guard_installed():
        # this process is itself a sandboxed child (a training job): the code runs inside the
        # boundary, so it needs no second child of its own, only the code policy's first filter
        from .untrusted.trial import check_task_code

        refused = check_task_code(folder)
        if refused is not None:
            raise TaskLoadError(f"{folder}: task code refused by the code policy ({refused.category}): "
                                f"{refused.message}")
        trusted_by = "sandbox"
    else:
        from .untrusted.trial import require_trial

        require_trial(folder)
        trusted_by = "trial"
    module = _import_task_module(folder / "task.py")
    task_class = _find_task_class(module, folder / "task.py")
    _check_scene_info(module, scene, folder)
    try:
        ppo = yaml.safe_load((folder / "ppo.yaml").read_text()) or {}
        provenance = json.loads((folder / "provenance.json").read_text())
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise TaskLoadError(f"{folder}: cannot parse ppo.yaml / provenance.json: {exc}") from None
    return TaskDefinition(folder, scene, task_class, ppo, provenance, trusted_by, goal)


def _import_task_module(path: Path):
    """Import task.py under a name unique to its folder (samples of one task sit side by side)."""
    tag = hashlib.sha256(str(path).encode()).hexdigest()[:8]
    name = f"v2p_task_{path.parent.name}_{tag}"
    if name in sys.modules and getattr(sys.modules[name], "__file__", None) == str(path):
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise TaskLoadError(f"{path}: importing the task module failed: {type(exc).__name__}: {exc}") from exc
    sys.modules[name] = module
    return module


def _find_task_class(module, path: Path) -> type[Task]:
    classes = [v for v in vars(module).values()
               if isinstance(v, type) and issubclass(v, Task) and v is not Task and v.__module__ == module.__name__]
    if len(classes) != 1:
        raise TaskLoadError(f"{path}: expected exactly one subclass of v2p_envs.Task, found "
                            f"{[c.__name__ for c in classes]}")
    return classes[0]


def _check_scene_info(module, scene: SceneSpec, folder: Path) -> None:
    """task.py's ``scene_info`` must describe the same scene as scene.json."""
    info = getattr(module, "scene_info", None)
    if not isinstance(info, dict):
        raise TaskLoadError(f"{folder / 'task.py'}: expected a module-level dict 'scene_info'")
    if info.get("task_class_name") != scene.task_class_name:
        raise SceneSpecError(folder / "task.py", "scene_info.task_class_name",
                             f"{info.get('task_class_name')!r} differs from scene.json's {scene.task_class_name!r}")
    names = [o["name"] if isinstance(o, dict) else o for o in info.get("objects", [])]
    if names != [o.name for o in scene.objects]:
        raise SceneSpecError(folder / "task.py", "scene_info.objects",
                             f"{names} differ from scene.json's {[o.name for o in scene.objects]}")
