"""The ``template`` backend: a deterministic, rule-based writer of task code (not a model).

For people without a model endpoint and for CI. It reads the caption's verb phrase and the
tracked poses (``intent.parse_intent``), picks the verb family's building block
(``template_blocks``) and writes a whole task module in the generated format: scene info,
reset, observation keys, observation space, success and reward. The same scene and caption
always give the same bytes. Everything it writes says that a rule-based writer wrote it.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from string import Template

import numpy as np

from v2p_envs.scene_spec import SceneSpec
from v2p_envs.untrusted.code_policy import check_source

from .intent import TaskIntent, parse_intent
from .task_goal import lift_height, push_distance, tracked_motion
from .template_blocks import BLOCKS, INSIDE_RESETS, ROUND_WORDS
from .template_helpers import HELPER_NEEDS, HELPERS

__all__ = ["TemplateResult", "write_template_task", "without_poses", "video_path", "VideoPath",
           "TEMPLATE_WRITER_VERSION", "docstring_text"]

#: Part of provenance: the writer's output changes only with this version.
TEMPLATE_WRITER_VERSION = 2

_MODULE = Template('''"""${title}.

Task Description: ${caption}.
Randomizations: ${randomization}.
Success Conditions: ${success_text}.
Reward: ${reward_text}.

Written by video2policy's template backend, a deterministic rule-based writer (verb family
"${family}"), not a language model.
"""
${imports}
from v2p_envs import Task

scene_info = ${scene_info}


${helpers}class ${cls}(Task):
    task_description = ${caption_repr}

    def reset_objects_states(self, env_ids):
${reset}
    def compute_observation_key(self, states):
        obs_keys = super().compute_observation_key(states)
${observation}        return obs_keys

    def get_observation_space(self):
        return super().get_observation_space() + ${extra_obs}

    def compute_success(self, states):
${success}
    def compute_reward(self, actions, states):
        return reward_function(actions, states)


def reward_function(actions, states):
${reward}    action_penalty = 0.01 * torch.sum(actions[:, :6] ** 2, dim=-1)
    components = ${components}
    reward = sum(components.values())
    return reward, components
''')


@dataclass(frozen=True)
class TemplateResult:
    code: str
    intent: TaskIntent


def docstring_text(text: str) -> str:
    """``text`` as it may stand inside a ``\"\"\"`` docstring of generated code: backslashes and
    double quotes escaped, characters that are not printable written as escapes (newlines,
    NUL, line separators, lone surrogates). No caption can close the docstring and become
    module-level code (a caption with ``\"\"\"`` once did, and passed its trial); the docstring's
    value is ``text`` itself, and a caption of words is written as it is."""
    out = []
    for char in text:
        if char in '\\"':
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        else:
            out.append(repr(char)[1:-1])  # \n, \x00, \u2028, \ud800: escapes the string literal reads back
    return "".join(out)


def _number(value: float) -> str:
    return repr(round(float(value), 4))


def _is_round(name: str) -> bool:
    return any(word in name.split("_") or name.endswith(word) for word in ROUND_WORDS)


def _params(intent: TaskIntent, scene: SceneSpec) -> dict[str, str]:
    """Every placeholder of the family's block, from the intent and the tracked poses."""
    p: dict[str, str] = {"x": intent.x, "y": intent.y or "", "x_round": str(_is_round(intent.x))}
    if intent.y is not None:
        p["y_round"] = str(_is_round(intent.y))
    motion = tracked_motion(scene, intent.x)  # the goal's rules (task_goal), so task code and goal.json agree
    if intent.family == "displace":
        dx, dy = intent.params["direction"]
        distance = push_distance((dx, dy), motion)
        centre = (0.05 - 0.125 * dx, -0.125 * dy)
        half = (0.07, 0.1) if abs(dx) > abs(dy) else (0.1, 0.075)
        p.update(dx=_number(dx), dy=_number(dy), distance=_number(distance),
                 spawn_x=f"({_number(centre[0] - half[0])}, {_number(centre[0] + half[0])})",
                 spawn_y=f"({_number(centre[1] - half[1])}, {_number(centre[1] + half[1])})")
    elif intent.family == "lift":
        p["height"] = _number(lift_height(motion))
    elif intent.family == "next_to":
        p["gap"] = _number(intent.params["gap"])
        how = intent.params["how"]
        rise = f'states["{intent.x}_max_height"] - states["{intent.x}_init_pos"][:, 2]'
        p["how"] = {"pushed": "pushed, never lifted 2 cm", "dropped": "dropped: lifted 4 cm+ this episode",
                    "placed": "placed"}[how]
        p["how_condition"] = {"pushed": f"{rise} < 0.02", "dropped": f"{rise} > 0.04",
                              "placed": "torch.ones_like(travelled)"}[how]
    elif intent.family == "in_front_of":
        # dropped: lifted 4 cm+ this episode (the episode's maximum height shows it)
        p["lifted"] = (f'(states["{intent.x}_max_height"] - states["{intent.x}_init_pos"][:, 2] > 0.04) & '
                       if intent.params["dropped"] else "")
        p["lifted_text"] = "lifted 4 cm+ this episode, " if intent.params["dropped"] else ""
    elif intent.family == "inside":
        thrown = intent.params["thrown"]
        reset, randomization = INSIDE_RESETS["throw" if thrown else "reach"]
        p.update(rest_speed=_number(0.05 if thrown else 0.03), release=_number(0.10 if thrown else 0.05),
                 carry_height=_number(0.2 if thrown else 0.15),
                 inside_reset=Template(reset).substitute(x=intent.x, y=intent.y),
                 inside_randomization=Template(randomization).substitute(x=intent.x, y=intent.y))
    return p


def _helpers(names: tuple[str, ...]) -> str:
    wanted: list[str] = []

    def add(name: str) -> None:
        for need in HELPER_NEEDS.get(name, ()):
            add(need)
        if name not in wanted:
            wanted.append(name)

    for name in names:
        add(name)
    return "".join(HELPERS[name] + "\n\n" for name in wanted)


def _components(terms: tuple[str, ...]) -> str:
    """The reward's components dict: rewards as they are, penalties negated, the action penalty last."""
    entries = [f'"{t.lstrip("-")}": {"-" if t.startswith("-") else ""}{t.lstrip("-")}' for t in terms]
    entries.append('"action_penalty": -action_penalty')
    lines, line = [], "{"
    for entry in entries:
        if len(line) + len(entry) > 100:
            lines.append(line.rstrip())
            line = " " * 18
        line += entry + ", "
    lines.append(line.rstrip(", ") + "}")
    return "\n".join(lines)


def _scene_info(scene: SceneSpec) -> str:
    objects = [{"name": o.name, "size": [round(v, 4) for v in o.size]} for o in scene.objects]
    return ("{\n    \"task_class_name\": " + json.dumps(scene.task_class_name) + ",\n    \"task_title\": "
            + json.dumps(scene.task_title) + ",\n    \"objects\": " + json.dumps(objects) + ",\n}")


#: points of the video's path written into the task code, evenly spaced along it
PATH_POINTS = 12
#: an object that moved less than this along its tracked path did not move in the video
_MIN_PATH_M = 0.03


@dataclass(frozen=True)
class VideoPath:
    """The path the video shows ``moved`` taking, for the reward's path term: ``points`` relative
    to its first point, evenly spaced along it; it ends ``end`` from ``ref``'s last tracked
    position (``ref`` is the other object, or None: then the end is relative to the start)."""

    moved: str
    points: tuple[tuple[float, float, float], ...]
    ref: str | None
    end: tuple[float, float, float]


def video_path(scene: SceneSpec, objects: tuple[str, ...], points: int = PATH_POINTS) -> VideoPath | None:
    """The tracked path of whichever of ``objects`` moved furthest in the video (None: no poses,
    or nothing moved ``_MIN_PATH_M``), resampled to ``points`` points evenly spaced along it."""
    if scene.pose_frame != "table":
        return None
    tracks = {n: np.array([p[:3] for p in scene.object(n).poses], dtype=float) for n in objects
              if len(scene.object(n).poses) >= 2}
    lengths = {n: float(np.linalg.norm(np.diff(t, axis=0), axis=1).sum()) for n, t in tracks.items()}
    if not lengths or max(lengths.values()) < _MIN_PATH_M:
        return None
    moved = max(lengths, key=lengths.get)
    track = tracks[moved]
    arc = np.concatenate(([0.0], np.cumsum(np.linalg.norm(np.diff(track, axis=0), axis=1))))
    at = np.linspace(0.0, arc[-1], points)
    resampled = np.stack([np.interp(at, arc, track[:, i]) for i in range(3)], axis=1) - track[0]
    others = [n for n in objects if n != moved and n in tracks]
    ref = others[0] if others else None
    end = track[-1] - tracks[ref][-1] if ref else resampled[-1]
    return VideoPath(moved, tuple(tuple(round(float(v), 4) for v in row) for row in resampled), ref,
                     tuple(round(float(v), 4) for v in end))


def _path_code(path: VideoPath) -> tuple[str, str]:
    """(module constant, reward lines) of the path term."""
    constant = f"#: the video's tracked path of {path.moved}, relative to its start, evenly spaced along it\n"
    constant += "_VIDEO_PATH = [" + ", ".join(f"[{x!r}, {y!r}, {z!r}]" for x, y, z in path.points) + "]\n\n\n"
    anchor = f'states["{path.ref}_pos"]' if path.ref else f'states["{path.moved}_init_pos"]'
    where = f"{path.ref}, as in the video" if path.ref else "its start, as in the video"
    reward = (f"    # Video information: follow the video's path of {path.moved} from where it starts to where it\n"
              f"    # ended relative to {where} (progress along the path, not time).\n"
              f"    path_end = {anchor} + torch.tensor({list(path.end)!r}, device={anchor}.device)\n"
              f'    path_reward = 2.0 * _path_progress(states["{path.moved}_pos"], states["{path.moved}_init_pos"], '
              f"path_end, _VIDEO_PATH)\n")
    return constant, reward


def without_poses(scene: SceneSpec) -> SceneSpec:
    """``scene`` with its objects' tracked poses dropped: what the writer sees without video information."""
    return dataclasses.replace(scene, objects=tuple(dataclasses.replace(o, poses=()) for o in scene.objects))


def write_template_task(scene: SceneSpec, caption: str | None = None) -> TemplateResult:
    """Task code for ``scene`` from its caption (default: the scene's title); raises
    ``IntentError`` listing the verbs it knows when it cannot."""
    caption = (caption or scene.task_title).strip()
    scene.check_names()  # the class and object names become identifiers and keys in the code
    intent = parse_intent(caption, scene)
    block = BLOCKS[intent.family]
    params = _params(intent, scene)
    fill = lambda text: Template(text).substitute(params)  # noqa: E731
    # where the hand is from the object, and how far the object has come (the goal is relative to
    # where it started, which the object's own pose does not show)
    observation = (f'        states["eef_to_{intent.x}"] = states["{intent.x}_pos"] - states["eef_pos"]\n'
                   f'        states["{intent.x}_displacement"] = states["{intent.x}_pos"] - states["{intent.x}_init_pos"]\n')
    keys = [f"eef_to_{intent.x}", f"{intent.x}_displacement"]
    width = 3 * len(keys)
    if intent.y is not None:
        observation += f'        states["{intent.x}_to_{intent.y}"] = states["{intent.y}_pos"] - states["{intent.x}_pos"]\n'
        keys.append(f"{intent.x}_to_{intent.y}")
        width += 3
    extra_helpers: tuple[str, ...] = ()
    if intent.family == "lift" and not _is_round(intent.x):
        # how far to turn the hand before closing across the narrow side, which raw quaternions hide
        observation += f'        states["{intent.x}_grasp_yaw"] = _grasp_yaw(states, "{intent.x}")\n'
        keys.append(f"{intent.x}_grasp_yaw")
        width += 2
        extra_helpers = ("grasp_yaw",)
    observation += f"        obs_keys += {keys!r}\n"
    reward, terms, reward_text = fill(block.reward), block.terms, fill(block.reward_text)
    helper_names = block.helpers + extra_helpers
    path = video_path(scene, intent.objects)
    path_constant = ""
    if path is not None:
        path_constant, path_lines = _path_code(path)
        reward, terms = reward + path_lines, terms + ("path_reward",)
        helper_names = helper_names + ("path_progress",)
        reward_text += f"; the video's path of {path.moved}, followed by progress along it"
    body = fill(block.reset) + fill(block.success) + reward
    helpers = _helpers(helper_names) + path_constant
    imports = ("import math\n\n" if "math." in body + helpers else "") + "import torch\n"
    # Text reaches the code only escaped: in the docstring through docstring_text, as values
    # through json.dumps (a JSON string is a Python string literal: quotes, backslashes and control
    # characters escaped, non-ASCII as \uXXXX); names are checked identifiers.
    title = scene.task_title[:1].upper() + scene.task_title[1:]
    code = _MODULE.substitute(
        title=docstring_text(title), caption=docstring_text(caption), caption_repr=json.dumps(caption),
        randomization=fill(block.randomization), success_text=fill(block.success_text),
        reward_text=reward_text, family=intent.family, imports=imports, scene_info=_scene_info(scene),
        helpers=helpers, cls=scene.task_class_name, reset=fill(block.reset), observation=observation,
        extra_obs=width, success=fill(block.success), reward=reward, components=_components(terms))
    violations = check_source(code)
    if violations:  # a bug of the writer, not of the user's input
        raise AssertionError(f"the template wrote code its own policy refuses: {violations}")
    return TemplateResult(code, intent)
