"""The ``template`` backend: a deterministic, rule-based writer of task code (not a model).

For people without a model endpoint and for CI. It reads the caption's verb phrase and the
tracked poses (``intent.parse_intent``), picks the verb family's building block
(``template_blocks``) and writes a whole task module in the generated format: scene info,
reset, observation keys, observation space, success and reward. The same scene and caption
always give the same bytes. Everything it writes says that a rule-based writer wrote it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from string import Template

from v2p_envs.scene_spec import SceneSpec
from v2p_envs.untrusted.code_policy import check_source

from .intent import TaskIntent, parse_intent
from .template_blocks import BLOCKS, HELPER_NEEDS, HELPERS, INSIDE_RESETS, ROUND_WORDS

__all__ = ["TemplateResult", "write_template_task", "TEMPLATE_WRITER_VERSION"]

#: Part of provenance: the writer's output changes only with this version.
TEMPLATE_WRITER_VERSION = 1
_DEFAULT_PUSH_DISTANCE = 0.15
_DEFAULT_LIFT_HEIGHT = 0.10

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


def _number(value: float) -> str:
    return repr(round(float(value), 4))


def _is_round(name: str) -> bool:
    return any(word in name.split("_") or name.endswith(word) for word in ROUND_WORDS)


def _params(intent: TaskIntent, scene: SceneSpec) -> dict[str, str]:
    """Every placeholder of the family's block, from the intent and the tracked poses."""
    p: dict[str, str] = {"x": intent.x, "y": intent.y or ""}
    if intent.y is not None:
        p["y_round"] = str(_is_round(intent.y))
    motion = _tracked_motion(scene, intent.x)
    if intent.family == "displace":
        dx, dy = intent.params["direction"]
        along = None if motion is None else motion[0] * dx + motion[1] * dy
        distance = _DEFAULT_PUSH_DISTANCE if not along or along < 0.04 else min(max(0.8 * along, 0.08), 0.25)
        centre = (0.05 - 0.125 * dx, -0.125 * dy)
        half = (0.07, 0.1) if abs(dx) > abs(dy) else (0.1, 0.075)
        p.update(dx=_number(dx), dy=_number(dy), distance=_number(distance),
                 spawn_x=f"({_number(centre[0] - half[0])}, {_number(centre[0] + half[0])})",
                 spawn_y=f"({_number(centre[1] - half[1])}, {_number(centre[1] + half[1])})")
    elif intent.family == "lift":
        rise = None if motion is None else motion[2]
        height = _DEFAULT_LIFT_HEIGHT if not rise or rise < 0.04 else min(max(0.8 * rise, 0.05), 0.2)
        p["height"] = _number(height)
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


def _tracked_motion(scene: SceneSpec, name: str) -> tuple[float, float, float] | None:
    """Last minus first tracked position of ``name`` in the table frame, if the scene has poses."""
    obj = scene.object(name)
    if not obj.poses or scene.pose_frame != "table":
        return None
    first, last = obj.first_pose, obj.last_pose
    rise = max(p[2] for p in obj.poses) - first[2]
    return (last[0] - first[0], last[1] - first[1], rise)


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


def write_template_task(scene: SceneSpec, caption: str | None = None) -> TemplateResult:
    """Task code for ``scene`` from its caption (default: the scene's title); raises
    ``IntentError`` listing the verbs it knows when it cannot."""
    caption = (caption or scene.task_title).strip()
    intent = parse_intent(caption, scene)
    block = BLOCKS[intent.family]
    params = _params(intent, scene)
    fill = lambda text: Template(text).substitute(params)  # noqa: E731
    observation = f'        states["eef_to_{intent.x}"] = states["{intent.x}_pos"] - states["eef_pos"]\n'
    keys = [f"eef_to_{intent.x}"]
    if intent.y is not None:
        observation += f'        states["{intent.x}_to_{intent.y}"] = states["{intent.y}_pos"] - states["{intent.x}_pos"]\n'
        keys.append(f"{intent.x}_to_{intent.y}")
    observation += f"        obs_keys += {keys!r}\n"
    body = fill(block.reset) + fill(block.success) + fill(block.reward)
    helpers = _helpers(block.helpers)
    imports = ("import math\n\n" if "math." in body + helpers else "") + "import torch\n"
    code = _MODULE.substitute(
        title=scene.task_title[:1].upper() + scene.task_title[1:], caption=caption, caption_repr=json.dumps(caption),
        randomization=fill(block.randomization), success_text=fill(block.success_text),
        reward_text=fill(block.reward_text), family=intent.family, imports=imports, scene_info=_scene_info(scene),
        helpers=helpers, cls=scene.task_class_name, reset=fill(block.reset), observation=observation,
        extra_obs=3 * len(keys), success=fill(block.success), reward=fill(block.reward),
        components=_components(block.terms))
    violations = check_source(code)
    if violations:  # a bug of the writer, not of the user's input
        raise AssertionError(f"the template wrote code its own policy refuses: {violations}")
    return TemplateResult(code, intent)
