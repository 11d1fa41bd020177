"""The code generator's prompts: text files with named placeholders, filled from code.

The files live in ``generator/prompts/*.txt``. The parts that describe the package (the task
contract, the ``states`` keys, the Task helpers, the code policy) are generated from the code
that defines them, never typed twice; the scene part is written from the SceneSpec (first and
last tracked pose and their difference, in the table frame). ``render`` refuses a missing or an
unknown placeholder, so a prompt cannot silently lose a field.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import math
import string
from dataclasses import dataclass
from pathlib import Path

from v2p_envs.scene_spec import SceneSpec
from v2p_envs.state_keys import states_markdown_table
from v2p_envs.task import Task, contract_markdown_table
from v2p_envs.untrusted import code_policy
from v2p_envs.vector_env import DEFAULT_EPISODE_LENGTH, SUCCESS_BONUS

__all__ = ["PROMPTS_DIR", "render", "prompt_file_hashes", "system_prompt", "user_prompt", "scene_info_text",
           "Example", "example_prompt", "PromptError"]

PROMPTS_DIR = Path(__file__).resolve().parents[1] / "prompts"
#: The Task methods task code calls, in the order the system prompt lists them.
_TASK_API = ("random_uniform", "random_yaw", "object_size", "place_on_table", "sample_table_positions")


class PromptError(ValueError):
    """A prompt template and the values given to it disagree (a bug, or an edited template)."""


def _template(name: str) -> str:
    return (PROMPTS_DIR / f"{name}.txt").read_text()


def render(name: str, **values: object) -> str:
    """``generator/prompts/<name>.txt`` with its placeholders filled; every placeholder needs a
    value and every value a placeholder."""
    text = _template(name)
    fields = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    missing, unknown = fields - set(values), set(values) - fields
    if missing or unknown:
        raise PromptError(f"prompt {name}.txt: missing values for {sorted(missing)}, no placeholder for "
                          f"{sorted(unknown)}")
    return text.format(**values)


def prompt_file_hashes() -> dict[str, str]:
    """sha256 of every prompt template (provenance names which prompts wrote a task)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(PROMPTS_DIR.glob("*.txt"))}


def _task_api_text() -> str:
    lines = ["- attributes: `self.num_envs`, `self.device`, `self.object_names`, `self.table_height` (a float); "
             "keep your own per-env tensors on `self.device`"]
    for name in _TASK_API:
        method = getattr(Task, name)
        signature = str(inspect.signature(method)).replace("self, ", "")
        doc = " ".join((inspect.getdoc(method) or "").split())
        lines.append(f"- `self.{name}{signature}`: {doc}")
    lines.append("- the base class's `compute_observation_key` / `get_observation_space` give the default "
                 "observation (hand pose and gripper, each object's pose and linear velocity): extend them with "
                 "`super()`; the base `reset_objects_states` places every object upright at random")
    return "\n".join(lines)


def _code_policy_text() -> str:
    allowed = sorted(code_policy.ALLOWED_IMPORTS - {"__future__"})
    return "\n".join([
        f"- import only {', '.join(allowed)} and `from v2p_envs import Task`",
        f"- do not use {', '.join(sorted(n for n in code_policy.FORBIDDEN_NAMES if not n.startswith('__')))}, "
        "`__import__` or any dunder name, except `super().__init__(context)` in your own `__init__(self, context)`",
        "- no private attributes (`x._y`), no file or network I/O, no `torch.load` / `save`, no `set_*` or "
        "`manual_seed` calls, no `global` statements",
        "- use modules only through their attributes (`torch.nn.functional.relu(x)`, not `F = torch.nn.functional`), "
        "never rebind an imported name (no parameter or variable called `np`, `torch`, `math`), and stay in the "
        f"tensor-math modules ({', '.join(sorted(code_policy.ALLOWED_MODULES))})",
        "- objects can be moved only in `reset_objects_states`; the other methods read `states` (a copy)",
        "- every tensor you return has shape (N,): success boolean, reward and each component float",
    ])


def system_prompt(num_envs_hint: int = 4096) -> str:
    return render("system", num_envs_hint=num_envs_hint, contract_table=contract_markdown_table(),
                  success_bonus=f"{SUCCESS_BONUS:g}", episode_length=DEFAULT_EPISODE_LENGTH,
                  states_table=states_markdown_table(), task_api=_task_api_text(), code_policy=_code_policy_text())


def _quat_axis_angle(q: tuple[float, ...]) -> tuple[list[float], float]:
    w, x, y, z = q
    norm = math.sqrt(x * x + y * y + z * z)
    angle = 2 * math.degrees(math.atan2(norm, w))
    axis = [x / norm, y / norm, z / norm] if norm > 1e-9 else [0.0, 0.0, 1.0]
    return [round(a, 3) for a in axis], round(angle, 1)


def scene_info_text(scene: SceneSpec) -> str:
    """The scene as the model sees it: title, objects with sizes (no file paths)."""
    return json.dumps({"task_title": scene.task_title, "task_class_name": scene.task_class_name,
                       "objects": [{"name": o.name, "size_lwh_m": [round(v, 4) for v in o.size]}
                                   for o in scene.objects]}, indent=1)


def _poses_text(scene: SceneSpec) -> str:
    lines = []
    for o in scene.objects:
        if not o.poses:
            lines.append(f"- {o.name}: not tracked")
            continue
        first, last, delta = o.first_pose, o.last_pose, o.pose_delta
        axis, angle = _quat_axis_angle(delta[3:])
        r = lambda v: [round(float(a), 3) for a in v]  # noqa: E731
        lines.append(f"- {o.name}: first position {r(first[:3])} quat {r(first[3:])}; last position {r(last[:3])} "
                     f"quat {r(last[3:])}; change: position {r(delta[:3])}, rotation {angle} deg about {axis}")
    return "\n".join(lines)


def user_prompt(scene: SceneSpec, caption: str, use_video: bool = True) -> str:
    """The task: caption, scene, and (``use_video``) the tracked motion in the table frame."""
    has_poses = use_video and scene.pose_frame == "table" and any(o.poses for o in scene.objects)
    motion = render("motion_from_video", poses=_poses_text(scene)) if has_poses else render("motion_none")
    return render("user", task_title=scene.task_title, caption=caption, task_class_name=scene.task_class_name,
                  scene_info=scene_info_text(scene), motion=motion.strip())


@dataclass(frozen=True)
class Example:
    """A curriculum example: an accepted task module shown to the model."""

    title: str
    caption: str
    code: str


def example_prompt(example: Example) -> str:
    return render("curriculum_example", example_title=example.title, example_caption=example.caption,
                  example_code=example.code.strip())
