"""Edit only the reward of a task module: what reward reflection changes between iterations.

Reflection keeps the picked module's scene info, reset, success and observation, and changes
its reward (paper, App. A.1). Task modules route ``compute_reward`` to a module-level
``reward_function(actions, states)`` (the format the prompts ask for), so:

- ``splice_reward(base, reply_code)`` puts a model's new ``reward_function`` (and any new helper
  functions it defines) into the base module, replacing the old definitions by name;
- ``edit_reward(base, edit)`` is the template backend's rule-based reflection (``RewardEdit``): it
  keeps the reward, adds ``(w - 1) x component`` for each reweighted component and any shaping
  terms the diagnosis called for (a gate on the reach terms until the objects move, a bonus on
  the first centimetres of motion, a hold bonus, a bonus past a plateau, a coarse reach term).
  The reward's own components are logged unchanged, so they stay comparable across iterations;
  each added term is logged too, as ``edit_<name>``. ``weight_reward`` is the weights-only edit.

An edit always replaces the previous one (the edit block is stripped first), so a ``RewardEdit``
is the whole change from the unedited reward: the reflection loop carries it forward.
"""
from __future__ import annotations

import ast
import json
import pprint
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from v2p_envs.errors import V2PError

__all__ = ["RewardEditError", "reward_function_source", "splice_reward", "weight_reward", "edit_reward",
           "strip_edits", "current_edit", "reward_objects", "RewardEdit", "ReachGate", "MoveBonus", "HoldBonus",
           "BeyondBonus", "ReachBonus", "REWARD_FUNCTION", "EDIT_PREFIX", "EDIT_MARK"]

REWARD_FUNCTION = "reward_function"
#: Components an edit adds are logged under this prefix (diagnosis gives them the role "edit").
EDIT_PREFIX = "edit_"
EDIT_MARK = "# -- reward edits written by the rule-based reflection (template backend, not a model) --"
#: The mark of earlier versions (weights only); still stripped, so old modules can be edited again.
_OLD_MARKS = ("# -- reward weights written by the template reflection (rule-based, not a model) --",)
#: Weights stay in this range, however often an edit compounds.
WEIGHT_RANGE = (0.05, 20.0)


class RewardEditError(V2PError, ValueError):
    """A module or a reply without the module-level reward function the edit needs."""


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}


def _segment(source: str, node: ast.AST) -> str:
    lines = source.splitlines(keepends=True)
    start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
    return "".join(lines[start:node.end_lineno])


def reward_function_source(code: str) -> str:
    """The source of ``code``'s module-level ``reward_function`` (what the reflection prompt shows)."""
    tree = ast.parse(code)
    node = _functions(tree).get(REWARD_FUNCTION)
    if node is None:
        raise RewardEditError(f"the module defines no module-level `{REWARD_FUNCTION}(actions, states)`")
    return _segment(code, node)


def splice_reward(base: str, reply_code: str) -> str:
    """``base`` with the reply's ``reward_function`` and helper functions in place of its own."""
    try:
        reply_tree, base_tree = ast.parse(reply_code), ast.parse(base)
    except SyntaxError as exc:
        raise RewardEditError(f"cannot parse: line {exc.lineno}: {exc.msg}") from None
    new = _functions(reply_tree)
    if REWARD_FUNCTION not in new:
        raise RewardEditError(f"the reply defines no module-level `{REWARD_FUNCTION}(actions, states)`")
    old = _functions(base_tree)
    lines = base.splitlines(keepends=True)
    # replace defined-again functions from the bottom up, so that earlier line numbers stay valid
    for name in sorted((n for n in new if n in old), key=lambda n: old[n].lineno, reverse=True):
        node = old[name]
        start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
        lines[start:node.end_lineno] = [_segment(reply_code, new[name])]
    added = [_segment(reply_code, new[n]) for n in new if n not in old]
    out = "".join(lines)
    if added:
        out = out.rstrip("\n") + "\n\n\n" + "\n\n".join(a.rstrip("\n") + "\n" for a in added)
    return out


def _strip_at(code: str) -> int | None:
    found = [code.index(m) for m in (EDIT_MARK, *_OLD_MARKS) if m in code]
    return min(found) if found else None


def strip_edits(code: str) -> str:
    """``code`` without the edit block a previous ``edit_reward`` appended (the unedited module)."""
    at = _strip_at(code)
    return code if at is None else code[:at].rstrip("\n") + "\n"


def _assigns(node: ast.stmt, name: str) -> bool:
    return isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)


def current_edit(code: str) -> RewardEdit:
    """The edit a module carries (its ``REWARD_EDIT`` record), the empty edit for an unedited one:
    reflection that starts from an edited module goes on from its edit instead of dropping it."""
    at = _strip_at(code)
    if at is None:
        return RewardEdit()
    for node in ast.parse(code[at:]).body:
        if _assigns(node, "REWARD_EDIT"):
            try:
                return RewardEdit.from_json(ast.literal_eval(node.value))
            except (ValueError, TypeError, KeyError, SyntaxError) as exc:
                raise RewardEditError(f"the module's REWARD_EDIT record cannot be read: {exc}") from None
        if _assigns(node, "REWARD_WEIGHTS"):
            try:  # an edit of an earlier version: weights only
                return RewardEdit(weights={str(k): float(v) for k, v in ast.literal_eval(node.value).items()})
            except (ValueError, TypeError, AttributeError, SyntaxError):
                return RewardEdit()
    return RewardEdit()


def reward_objects(code: str) -> tuple[str, ...]:
    """The scene objects the unedited ``reward_function`` reads (``states["<name>_..."]`` or a
    helper called with the name), in ``scene_info`` order; all of them if it names none; ()
    without a literal ``scene_info``. The edit's gate and bonuses read these objects' motion."""
    tree = ast.parse(strip_edits(code))
    names: list[str] = []
    for node in tree.body:
        if _assigns(node, "scene_info"):
            try:
                info = ast.literal_eval(node.value)
                names = [str(o["name"]) for o in info["objects"]]
            except (ValueError, TypeError, KeyError, SyntaxError):
                return ()
    reward = _functions(tree).get(REWARD_FUNCTION)
    if reward is None or not names:
        return tuple(names)
    used: set[str] = set()
    for node in ast.walk(reward):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            matches = [n for n in names if node.value == n or node.value.startswith(n + "_")]
            if matches:
                used.add(max(matches, key=len))  # "cup_lid_pos" is the lid's, not the cup's
    return tuple(n for n in names if n in used) or tuple(names)


def _num(x: float) -> str:
    value = round(float(x), 4)
    if value != value or value in (float("inf"), float("-inf")):
        raise RewardEditError(f"an edit parameter is not finite: {x!r}")
    return repr(value)


def _clamp_weight(w: float) -> float:
    lo, hi = WEIGHT_RANGE
    return round(min(max(float(w), lo), hi), 4)


@dataclass(frozen=True)
class ReachGate:
    """Pays the reach (and hand-pose) ``terms`` only ``floor`` of themselves until the objects
    have moved ``move_m``: waiting at the object stops paying as much as moving it."""

    terms: tuple[str, ...]
    floor: float
    move_m: float = 0.02

    def describe(self) -> str:
        return (f"gate on {', '.join(self.terms)}: paid at {self.floor:.0%} until the objects have moved "
                f"{self.move_m * 100:g} cm")


@dataclass(frozen=True)
class MoveBonus:
    """Pays up to ``weight`` for the first ``first_m`` metres the objects move: the first
    centimetres of progress, so that touching the object is found."""

    weight: float
    first_m: float = 0.03

    def describe(self) -> str:
        return f"bonus up to {self.weight:g} for the first {self.first_m * 100:g} cm the objects move"


@dataclass(frozen=True)
class HoldBonus:
    """Pays ``weight`` x the grasp term x how far the objects are raised (full at ``lift_m``):
    closing the hand only pays more while the object comes up with it."""

    grasp_term: str
    weight: float
    lift_m: float = 0.03

    def describe(self) -> str:
        return (f"hold bonus {self.weight:g} x {self.grasp_term} while the objects are raised "
                f"(full at {self.lift_m * 100:g} cm)")


@dataclass(frozen=True)
class BeyondBonus:
    """Pays ``weight`` x how far the component ``term`` is above ``level``, the plateau where
    training stopped: the steps past it pay more than the ones before."""

    term: str
    level: float
    weight: float

    def describe(self) -> str:
        return f"bonus {self.weight:g} x ({self.term} above {self.level:.3g})"


@dataclass(frozen=True)
class ReachBonus:
    """A coarse reach term, ``weight * (1 - tanh(sharpness * d))`` with ``d`` the hand's
    distance to the nearest of the objects: a slope where the reward's own reach term is flat."""

    weight: float
    sharpness: float = 3.0

    def describe(self) -> str:
        return f"coarse reach term {self.weight:g} x (1 - tanh({self.sharpness:g} x hand-object distance))"


@dataclass(frozen=True)
class RewardEdit:
    """The whole rule-based change to an unedited reward: component weights (1 = unchanged)
    and the shaping terms a diagnosis called for; ``objects`` are the scene objects whose
    motion the gate and bonuses read."""

    weights: dict[str, float] = field(default_factory=dict)
    objects: tuple[str, ...] = ()
    reach_gate: ReachGate | None = None
    move_bonus: MoveBonus | None = None
    hold_bonus: HoldBonus | None = None
    beyond: tuple[BeyondBonus, ...] = ()
    reach_bonus: ReachBonus | None = None

    @property
    def shaping(self) -> bool:
        return any((self.reach_gate, self.move_bonus, self.hold_bonus, self.beyond, self.reach_bonus))

    @property
    def is_empty(self) -> bool:
        return not self.shaping and all(w == 1.0 for w in self.weights.values())

    def then(self, delta: RewardEdit) -> RewardEdit:
        """This edit followed by ``delta``: weights multiply (kept in ``WEIGHT_RANGE``), a shaping
        term of ``delta`` replaces the same kind of term of this one."""
        weights = dict(self.weights)
        for name, w in delta.weights.items():
            weights[name] = _clamp_weight(weights.get(name, 1.0) * w)
        beyond = {b.term: b for b in self.beyond}
        beyond.update({b.term: b for b in delta.beyond})
        return RewardEdit(weights={k: v for k, v in sorted(weights.items()) if v != 1.0},
                          objects=delta.objects or self.objects,
                          reach_gate=delta.reach_gate or self.reach_gate,
                          move_bonus=delta.move_bonus or self.move_bonus,
                          hold_bonus=delta.hold_bonus or self.hold_bonus, beyond=tuple(beyond.values()),
                          reach_bonus=delta.reach_bonus or self.reach_bonus)

    def describe(self) -> str:
        parts = [f"{n} x{w:g}" for n, w in sorted(self.weights.items()) if w != 1.0]
        parts += [t.describe() for t in (self.reach_gate, self.move_bonus, self.hold_bonus, *self.beyond,
                                         self.reach_bonus) if t is not None]
        return "; ".join(parts) if parts else "none (the reward as it is)"

    def to_json(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> RewardEdit:
        if not data:
            return cls()
        gate = data.get("reach_gate")
        gate = ReachGate(tuple(gate["terms"]), gate["floor"], gate.get("move_m", 0.02)) if gate else None
        return cls(weights={str(k): float(v) for k, v in (data.get("weights") or {}).items()},
                   objects=tuple(data.get("objects") or ()),
                   reach_gate=gate,
                   move_bonus=MoveBonus(**data["move_bonus"]) if data.get("move_bonus") else None,
                   hold_bonus=HoldBonus(**data["hold_bonus"]) if data.get("hold_bonus") else None,
                   beyond=tuple(BeyondBonus(**b) for b in data.get("beyond") or ()),
                   reach_bonus=ReachBonus(**data["reach_bonus"]) if data.get("reach_bonus") else None)

    def with_objects(self, objects: tuple[str, ...]) -> RewardEdit:
        return replace(self, objects=tuple(objects))


#: Module-level names the edit block defines; a module that defines them itself cannot be edited.
_BLOCK_NAMES = ("REWARD_EDIT", "REWARD_WEIGHTS", "EDIT_OBJECTS", "unedited_reward_function", "reflection_moved",
                "reflection_lifted", "reflection_hand_distance")

_MOVED = '''def reflection_moved(states):
    """The largest displacement of the task's objects since the reset, metres."""
    moved = torch.zeros_like(states["table_height"])
    for name in EDIT_OBJECTS:
        moved = torch.maximum(moved, torch.norm(states[name + "_pos"] - states[name + "_init_pos"], dim=-1))
    return moved
'''
_LIFTED = '''def reflection_lifted(states):
    """How far the highest-raised of the task's objects is above where it started, metres."""
    lifted = torch.zeros_like(states["table_height"])
    for name in EDIT_OBJECTS:
        lifted = torch.maximum(lifted, states[name + "_pos"][:, 2] - states[name + "_init_pos"][:, 2])
    return lifted
'''
_HAND = '''def reflection_hand_distance(states):
    """The hand's distance to the nearest of the task's objects, metres."""
    dist = torch.full_like(states["table_height"], 1000.0)
    for name in EDIT_OBJECTS:
        dist = torch.minimum(dist, torch.norm(states[name + "_pos"] - states["eef_pos"], dim=-1))
    return dist
'''


def _comment(text: str, width: int = 100) -> str:
    lines, line = [], "#"
    for word in text.split():
        if len(line) + 1 + len(word) > width and line != "#":
            lines.append(line)
            line = "#"
        line += " " + word
    lines.append(line)
    return "\n".join(lines)


def _imports_torch(tree: ast.Module) -> bool:
    return any(isinstance(n, ast.Import) and any(a.name == "torch" and a.asname is None for a in n.names)
               for n in tree.body)


def edit_reward(base: str, edit: RewardEdit, note: str = "") -> str:
    """``base`` (any earlier edit stripped) with ``edit`` applied after its ``reward_function``;
    ``note`` (the diagnosis) goes into the block's comment. An empty edit gives the unedited module."""
    base = strip_edits(base)
    tree = ast.parse(base)
    if REWARD_FUNCTION not in _functions(tree):
        raise RewardEditError(f"the module defines no module-level `{REWARD_FUNCTION}(actions, states)`")
    if edit.is_empty:
        return base
    defined = set(_functions(tree)) | {t.id for n in tree.body if isinstance(n, ast.Assign)
                                        for t in n.targets if isinstance(t, ast.Name)}
    if clash := sorted(defined & set(_BLOCK_NAMES)):
        raise RewardEditError(f"the module already defines {clash}, which the reward edit writes")
    needs_objects = any((edit.reach_gate, edit.move_bonus, edit.hold_bonus, edit.reach_bonus))
    if needs_objects and not edit.objects:
        raise RewardEditError("the edit reads the objects' motion but names no objects")
    table = json.dumps({k: _clamp_weight(v) for k, v in sorted(edit.weights.items()) if v != 1.0})
    head = [EDIT_MARK]
    if note:
        head.append(_comment(f"diagnosis: {note}"))
    head.append(_comment(f"edit: {edit.describe()}"))
    if edit.shaping and not _imports_torch(tree):
        head.append("import torch")
    record = pprint.pformat(edit.to_json(), width=100, sort_dicts=False)  # a literal current_edit reads back
    head.append("REWARD_EDIT = " + record.replace("\n", "\n" + " " * len("REWARD_EDIT = ")))
    head.append(f"REWARD_WEIGHTS = {table}")
    if needs_objects:
        head.append(f"EDIT_OBJECTS = {json.dumps(list(edit.objects))}")
    head.append(f"unedited_reward_function = {REWARD_FUNCTION}")
    helpers = []
    if edit.reach_gate or edit.move_bonus:
        helpers.append(_MOVED)
    if edit.hold_bonus:
        helpers.append(_LIFTED)
    if edit.reach_bonus:
        helpers.append(_HAND)
    body = [f"def {REWARD_FUNCTION}(actions, states):",
            "    reward, components = unedited_reward_function(actions, states)",
            "    for name, value in components.items():",
            "        reward = reward + (REWARD_WEIGHTS.get(name, 1.0) - 1.0) * value"]
    if edit.shaping:
        body += ["    zero = torch.zeros_like(reward)", "    edits = {}"]
        if edit.reach_gate or edit.move_bonus:
            body.append("    moved = reflection_moved(states)")
        if g := edit.reach_gate:
            for i, t in enumerate(g.terms):  # what the reach terms pay now, weights included
                term = f"REWARD_WEIGHTS.get({json.dumps(t)}, 1.0) * components.get({json.dumps(t)}, zero)"
                body.append(f"    paid = {term}" if i == 0 else f"    paid = paid + {term}")
            body += [f"    gate = {_num(g.floor)} + {_num(1.0 - g.floor)} * torch.clamp(moved / {_num(g.move_m)}, "
                     "0.0, 1.0)",
                     f'    edits["{EDIT_PREFIX}reach_gate"] = (gate - 1.0) * paid']
        if m := edit.move_bonus:
            body.append(f'    edits["{EDIT_PREFIX}move_bonus"] = {_num(m.weight)} * torch.clamp('
                        f"moved / {_num(m.first_m)}, 0.0, 1.0)")
        if h := edit.hold_bonus:
            body += [f"    raised = torch.clamp(reflection_lifted(states) / {_num(h.lift_m)}, 0.0, 1.0)",
                     f'    edits["{EDIT_PREFIX}hold_bonus"] = {_num(h.weight)} * '
                     f"components.get({json.dumps(h.grasp_term)}, zero) * raised"]
        for b in edit.beyond:
            body.append(f"    edits[{json.dumps(EDIT_PREFIX + 'beyond_' + b.term)}] = {_num(b.weight)} * torch.clamp("
                        f"components.get({json.dumps(b.term)}, zero) - {_num(b.level)}, min=0.0)")
        if r := edit.reach_bonus:
            body.append(f'    edits["{EDIT_PREFIX}reach_bonus"] = {_num(r.weight)} * (1.0 - torch.tanh('
                        f"{_num(r.sharpness)} * reflection_hand_distance(states)))")
        body += ["    for value in edits.values():", "        reward = reward + value",
                 "    return reward, {**components, **edits}"]
    else:
        body.append("    return reward, components")
    block = "\n".join(head) + "\n\n\n" + "".join(h + "\n\n" for h in helpers) + "\n".join(body) + "\n"
    return base.rstrip("\n") + "\n\n\n" + block


def weight_reward(base: str, weights: dict[str, float]) -> str:
    """``base`` whose reward adds ``(w - 1) * component`` for each weight (earlier edits replaced)."""
    return edit_reward(base, RewardEdit(weights={str(k): float(v) for k, v in weights.items()}))
