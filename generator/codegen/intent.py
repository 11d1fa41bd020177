"""What a caption asks for: a verb family, which scene object plays which role, and a direction.

The ``template`` backend (a rule-based writer, not a model) composes task code from a small
library of building blocks; this module chooses the block from the caption's verb phrase
("push something left", "throw garlic into bowl", "sliding remoter to mouse") and the tracked
poses (the direction of a push the caption does not name). Object mentions are matched to the
scene's object names (plurals, "remoter" ~ "remote", multi-word names); generic nouns
("something", "container", "it") take the scene's remaining objects in order.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from v2p_envs.errors import V2PError
from v2p_envs.scene_spec import SceneSpec

__all__ = ["TaskIntent", "IntentError", "parse_intent", "KNOWN_VERBS", "DIRECTIONS"]

#: Directions in the table frame (x forward from the robot / away from the camera, y to the left).
DIRECTIONS = {
    "left": (0.0, 1.0), "right": (0.0, -1.0), "forward": (1.0, 0.0), "forwards": (1.0, 0.0), "away": (1.0, 0.0),
    "backward": (-1.0, 0.0), "backwards": (-1.0, 0.0), "back": (-1.0, 0.0), "closer": (-1.0, 0.0),
}
_DIRECTION = "(?P<dir>" + "|".join(sorted(DIRECTIONS, key=len, reverse=True)) + ")"
_ARTICLES = {"the", "a", "an", "some", "its", "his", "her", "their", "my", "your"}
_GENERIC = {"something", "sth", "it", "object", "thing", "container", "item", "one"}


def _verb(*forms: str) -> str:
    """A verb in its base form and the -s / -ing / -ed forms a caption uses."""
    words = []
    for base in forms:
        stem = base[:-1] if base.endswith("e") else base
        double = base + base[-1] if re.search(r"[^aeiou][aeiou][bdgmnprt]$", base) else stem
        words += [base, base + "s", base + "es", stem + "ing", double + "ing", stem + "ed", double + "ed",
                  base + "d"]
    return "(?:" + "|".join(sorted(set(words), key=len, reverse=True)) + ")"


X, Y = r"(?P<x>\S+)", r"(?P<y>\S+)"
#: (family, pattern, params); the first match wins, so specific phrases come before general ones.
_RULES: list[tuple[str, str, dict]] = [
    ("uncover", rf"^{_verb('uncover', 'reveal')} {X} (?:from|under) {Y}", {}),
    ("uncover", rf"^{_verb('uncover', 'reveal')} {X}$", {}),
    ("uncover", rf"^{_verb('take', 'lift', 'remove', 'move')} {Y} (?:off|away from) (?:of )?{X}", {}),
    ("cover", rf"^{_verb('cover')} {X} with {Y}", {}),
    ("cover", rf"^{_verb('put', 'place', 'move')} {Y} (?:over|on top of) {X}", {"upside_down": True}),
    ("push_with", rf"^{_verb('push', 'poke', 'move', 'shove', 'nudge')} {X} with {Y}", {}),
    ("push_with", rf"^{_verb('use')} {Y} to {_verb('push', 'move', 'poke')} {X}", {}),
    ("displace", rf"^{_verb('push', 'move', 'slide', 'shove', 'nudge', 'pull', 'drag')} {X} (?:to |towards |toward )?"
     rf"{_DIRECTION}\b", {}),
    ("next_to", rf"^{_verb('push', 'slide', 'shove', 'pull', 'drag', 'nudge')} {X} (?:next to|beside|near) {Y}",
     {"gap": 0.05, "how": "pushed"}),
    ("next_to", rf"^{_verb('put', 'place', 'move', 'set')} {X} (?:next to|beside|near) {Y}",
     {"gap": 0.05, "how": "placed"}),
    ("next_to", rf"^{_verb('drop')} {X} (?:next to|beside|near) {Y}", {"gap": 0.05, "how": "dropped"}),
    ("next_to", rf"^{_verb('push', 'slide', 'move', 'shove', 'pull', 'drag', 'nudge')} {X} "
                rf"(?:to|towards|toward|against|until it touches) {Y}", {"gap": 0.02, "how": "pushed"}),
    ("in_front_of", rf"^{_verb('drop')} {X} in front of {Y}", {"dropped": True}),
    ("in_front_of", rf"^{_verb('put', 'place', 'move', 'push')} {X} in front of {Y}", {"dropped": False}),
    ("inside", rf"^{_verb('throw', 'toss', 'flick', 'fling')} {X} (?:into|in|inside) {Y}", {"thrown": True}),
    ("inside", rf"^{_verb('insert', 'put', 'place', 'drop', 'stick', 'move')} {X} (?:into|in|inside) {Y}",
     {"thrown": False}),
    ("on_top", rf"^{_verb('put', 'place', 'stack', 'move', 'set')} {X} (?:on top of|onto|on) {Y}", {}),
    ("tip_over", rf"^{_verb('tip', 'knock', 'topple', 'push', 'turn')} {X} over", {}),
    ("tip_over", rf"^{_verb('tip', 'knock', 'topple', 'push', 'turn')} over {X}", {}),
    ("tip_over", rf"^{_verb('topple')} {X}", {}),
    ("lift", rf"^{_verb('lift', 'pick', 'raise', 'hold')} (?:up )?{X}(?: up)?(?: (?:from|off|above) .*)?$", {}),
    ("displace", rf"^{_verb('push', 'move', 'slide', 'shove', 'nudge', 'pull', 'drag')} {X}$", {}),
]
#: The verb phrases the template knows, for the error message.
KNOWN_VERBS = (
    "push/move/slide/pull X left|right|forward|backward (or X alone: direction from the video)",
    "lift (up) / pick up / raise X", "tip / knock / topple X over", "cover X with Y", "put Y over X",
    "uncover X (from Y)", "take Y off X", "push X with Y", "push/slide X next to / to Y",
    "put/place/drop X next to Y",
    "drop / put X in front of Y", "insert / put / place X into Y", "throw / toss X into Y", "put / stack X on Y",
)
_TWO_OBJECT = {"uncover", "cover", "push_with", "next_to", "in_front_of", "inside", "on_top"}


class IntentError(V2PError, ValueError):
    """A caption the template cannot write code for; the message lists what it knows."""


@dataclass(frozen=True)
class TaskIntent:
    """The template's reading of a caption: ``family`` with the object ``x`` it acts on, the
    other object ``y`` where the family has one, and family parameters."""

    family: str
    x: str
    y: str | None
    params: dict = field(default_factory=dict)
    caption: str = ""

    @property
    def objects(self) -> tuple[str, ...]:
        return (self.x,) if self.y is None else (self.x, self.y)


def _normalise(caption: str, scene: SceneSpec) -> tuple[str, dict[str, str]]:
    """Lower-case words with articles dropped and scene objects replaced by tokens ``obj0`` ..."""
    words = [w for w in re.findall(r"[a-z0-9]+", caption.lower()) if w not in _ARTICLES]
    names = {f"obj{k}": o.name for k, o in enumerate(scene.objects)}
    out: list[str] = []
    i = 0
    while i < len(words):
        for token, name in names.items():
            parts = name.split("_")
            window = words[i:i + len(parts)]
            if len(window) == len(parts) and all(_same(w, p) for w, p in zip(window, parts)):
                out.append(token)
                i += len(parts)
                break
            if _same(words[i], parts[-1]) and len(parts) > 1:  # "box" for storage_box, "mouse" for computer_mouse
                out.append(token)
                i += 1
                break
        else:
            out.append(words[i])
            i += 1
    return " ".join(out), names


def _same(word: str, name: str) -> bool:
    return (word == name or word in (name + "s", name + "es") or name in (word + "s", word + "es")
            or (len(name) >= 4 and word.startswith(name) and len(word) - len(name) <= 2))


def parse_intent(caption: str, scene: SceneSpec) -> TaskIntent:
    """The template's intent for ``caption`` over ``scene``'s objects (see the module doc)."""
    text, names = _normalise(caption, scene)
    for family, pattern, params in _RULES:
        match = re.search(pattern, text)
        if not match:
            continue
        slots = match.groupdict()
        need = ("x", "y") if family in _TWO_OBJECT else ("x",)
        if family in _TWO_OBJECT and len(scene.objects) < 2:
            raise IntentError(f"caption {caption!r} ({family}) needs two objects; the scene has "
                              f"{[o.name for o in scene.objects]}")
        roles = _assign_roles({k: slots.get(k) for k in need}, names, caption)
        if family == "push_with" and all(slots.get(k) not in names for k in need):
            roles = _tool_is_the_longer(roles, scene)
        params = dict(params)
        if family == "displace":
            params["direction"] = _direction(slots.get("dir"), roles["x"], scene, caption)
        return TaskIntent(family, roles["x"], roles.get("y"), params, caption)
    raise IntentError(f"the template backend does not know the verb phrase of {caption!r}. It knows: "
                      + "; ".join(KNOWN_VERBS) + ". Rephrase the caption, or use a model backend (--backend openai).")


def _assign_roles(slots: dict[str, str | None], names: dict[str, str], caption: str) -> dict[str, str]:
    """Named tokens first; generic words and missing slots take the remaining objects in order."""
    roles: dict[str, str] = {}
    for role, word in slots.items():
        if word in names:
            roles[role] = names[word]
    remaining = [n for n in names.values() if n not in roles.values()]
    for role, word in slots.items():
        if role in roles:
            continue
        if not remaining:  # an unknown noun ("plate" in a scene without one) with no object left for it
            problem = (f"{word!r} is none of the scene's objects" if word and word not in _GENERIC
                       else "names more objects than the scene has")
            raise IntentError(f"caption {caption!r}: {problem} ({list(names.values())})")
        roles[role] = remaining.pop(0)  # generic or unmatched nouns take the remaining objects in order
    return roles


def _tool_is_the_longer(roles: dict[str, str], scene: SceneSpec) -> dict[str, str]:
    """"push something with something": the tool (y) is the more elongated of the two objects."""
    def elongation(name: str) -> float:
        size = sorted(scene.object(name).size)
        return size[2] / max(size[1], 1e-6)
    x, y = roles["x"], roles["y"]
    return {"x": y, "y": x} if elongation(x) > elongation(y) else roles


def _direction(word: str | None, obj: str, scene: SceneSpec, caption: str) -> tuple[float, float]:
    """The caption's direction, else the tracked xy motion of ``obj`` from first to last frame."""
    if word:
        return DIRECTIONS[word]
    spec = scene.object(obj)
    if spec.poses and scene.pose_frame == "table":
        dx, dy = (spec.last_pose[i] - spec.first_pose[i] for i in (0, 1))
        length = math.hypot(dx, dy)
        if length >= 0.02:
            return (round(dx / length, 4), round(dy / length, 4))
    raise IntentError(f"caption {caption!r} says to move {obj} but not where, and the scene has no tracked motion of "
                      f"it (>= 2 cm in the table frame); add a direction (left, right, forward, backward)")
