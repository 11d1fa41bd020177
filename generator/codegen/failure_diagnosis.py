"""Read a training run's log summary the way a person watching the runs would, and say what fails.

The template backend's reward reflection is rule-based: it cannot write a new reward, but it
can see, from the per-component statistics of ``baselines.rl.log_summary`` (as a JSON dict:
``TrainingSummary.to_json()``, which is what reaches the reflection loop), *how* the policy
fails, and edit the reward for that failure (``plan_edits``: small ``RewardEdit`` s, several
plausible strengths). With a model backend the same diagnosis text goes into the reflection
prompt, next to the logs.

Component roles come from their names (``component_role``), by pattern, so that a term renamed
or added later still gets a role: reach, pose (hand orientation before contact), grasp,
release, lift, progress (terms that need the object to move), penalty, regularizer (the action
penalty), edit (terms a previous edit added), total, or unknown.

Failure modes, in the order they are reported (the first is the primary one; the rules and
their thresholds are in ``diagnose``): already succeeding; success found but rare; never
reaches; moves it the wrong way / a penalty dominates; grasps but drops (or never lifts);
reaches but never moves the object; moves it but stops short; and, when none of these fits,
"unclear", answered by the old coefficient search.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .reward_edit import EDIT_PREFIX, BeyondBonus, HoldBonus, MoveBonus, ReachBonus, ReachGate, RewardEdit

__all__ = ["ROLES", "component_role", "Finding", "Diagnosis", "diagnose", "plan_edits", "PlannedEdit",
           "RULE_BASED", "MODES"]

#: How the template backend's reflection names itself in records and provenance.
RULE_BASED = "rule-based reflection (template backend, not a model)"

ROLES = ("reach", "pose", "grasp", "release", "lift", "progress", "penalty", "regularizer", "edit", "total",
         "unknown")
#: Checked in this order; the first pattern that matches gives the role (so "lift_penalty" is a
#: penalty, not a lift term). Word parts are matched anywhere in the name.
_ROLE_PATTERNS: tuple[tuple[str, str], ...] = (
    ("regularizer", r"action|energy|effort|smooth|jerk|torque|ctrl|control"),
    ("penalty", r"penalt|cost|punish"),
    ("reach", r"reach|hand|eef|finger_dist|gripper_dist"),
    ("grasp", r"grasp|grip|hold|pinch|clos"),
    ("release", r"releas|let_go|ungrasp|open"),
    ("lift", r"lift|rais|height|elevat"),
    ("pose", r"turn|orient|align|yaw|wrist|pregrasp|pre_grasp|narrow|lean"),
    ("progress", r"progress|push|pull|approach|tool|carry|place|clear|away|tilt|tip|toward|inside|lower|move|path|"
                 r"slide|displac|drop|throw|toss|insert|stack|cover|settle|rest|goal|target|dist|pour|rotat|flip|"
                 r"success|put|reward_task|task"),
)

MODES = ("succeeding", "rare_success", "never_reaches", "wrong_way", "drops", "no_move", "stops_short", "unclear")
_TITLES = {
    "succeeding": "already succeeding",
    "rare_success": "success found but rare",
    "never_reaches": "never reaches the object",
    "wrong_way": "moves it the wrong way",
    "drops": "grasps but drops it",
    "no_move": "reaches but never moves the object",
    "stops_short": "moves it but stops short",
    "unclear": "no failure mode stands out",
}

# -- thresholds (per-step means; a term's "scale" is max(1, the largest magnitude it showed)) --
SUCCEEDING_RATE = 0.8     # final generated success rate at or above: keep the reward
REACH_LOW = 0.2           # reach term in failed episodes below this share of its scale: never reaches ...
REACH_LOW_LATE = 0.25     # ... and its last trajectory point too
REACH_HIGH = 0.35         # reach term in failed episodes at or above this share (or its last point): it reaches
STALLED = 0.05            # a task term within this share of its scale of zero, or gaining less: stalled
PENALTY_SHARE = 0.5       # a penalty at least this share of the positive terms in failed episodes dominates
PENALTY_MIN = 0.05        # ... and at least this large per step
WRONG_WAY = 0.05          # a progress term below minus this share of its scale: moved the wrong way
FALL = 0.6                # a grasp or lift trajectory ending below this share of its peak: it fell
PEAK_MIN = 0.05           # ... after a peak of at least this share of its scale
GRASP_HELD = 0.1          # grasp term in failed episodes at or above this share: it closes on the object
ROSE = 0.1                # a task term that gained this share of its scale rose
FLAT = 0.1                # ... and flattened: its last three points within this share of its peak
SHORT_RATE = 0.5          # stops short only while the success rate is below this
SHORT_OF_SUCCESS = 0.8    # ... and the failed episodes' mean below this share of the successful ones'


def component_role(name: str) -> str:
    """The role of a reward component from its name (see the module doc); "unknown" if no pattern fits."""
    if name == "reward":
        return "total"
    if name.startswith(EDIT_PREFIX):
        return "edit"
    low = name.lower()
    for role, pattern in _ROLE_PATTERNS:
        if re.search(pattern, low):
            return role
    return "unknown"


def _finite(values: Any) -> list[float]:
    out = []
    for v in values or []:
        if isinstance(v, (int, float)) and math.isfinite(v):
            out.append(float(v))
    return out


@dataclass(frozen=True)
class _Stats:
    """One component as the rules read it."""

    name: str
    role: str
    trajectory: list[float]
    fail: float              # per-step mean in failed episodes (overall mean when none failed)
    succ: float | None       # per-step mean in successful episodes, None when none succeeded
    scale: float             # max(1, the largest magnitude it showed)

    @property
    def first(self) -> float:
        return self.trajectory[0] if self.trajectory else self.fail

    @property
    def last(self) -> float:
        return self.trajectory[-1] if self.trajectory else self.fail

    @property
    def gain(self) -> float:
        return self.last - self.first

    def share(self, value: float) -> float:
        return value / self.scale

    def stalled(self) -> bool:
        """Near zero, or no better than where training started (but not negative: that moved it)."""
        near_zero = abs(self.fail) < STALLED * self.scale
        flat = self.gain < STALLED * self.scale and self.fail <= self.first + STALLED * self.scale
        return near_zero or (flat and self.fail > -WRONG_WAY * self.scale)

    def rose_then_fell(self) -> bool:
        if len(self.trajectory) < 3:
            return False
        peak_at = max(range(len(self.trajectory)), key=lambda i: self.trajectory[i])
        peak = self.trajectory[peak_at]
        return (0 < peak_at < len(self.trajectory) - 1 and peak >= PEAK_MIN * self.scale
                and self.last < FALL * peak)


def _stats(name: str, c: Mapping[str, Any]) -> _Stats:
    failure, success = c.get("failure") or {}, c.get("success") or {}
    fail = failure.get("mean") if failure.get("episodes") and failure.get("mean") is not None else c.get("mean")
    fail = float(fail) if isinstance(fail, (int, float)) and math.isfinite(fail) else 0.0
    succ = success.get("mean") if success.get("episodes") else None
    succ = float(succ) if isinstance(succ, (int, float)) and math.isfinite(succ) else None
    trajectory = _finite(c.get("trajectory"))
    seen = trajectory + _finite([c.get("max"), c.get("min"), failure.get("max"), failure.get("min"),
                                 success.get("max"), success.get("min")])
    scale = max([1.0] + [abs(v) for v in seen])
    return _Stats(name, component_role(name), trajectory, fail, succ, scale)


@dataclass(frozen=True)
class Finding:
    """One failure mode: ``terms`` maps the roles it involves to the components, ``levels``
    holds values the edit needs (a plateau level), ``evidence`` the numbers that triggered it."""

    mode: str
    evidence: str
    terms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    levels: dict[str, float] = field(default_factory=dict)
    title: str = ""

    def __post_init__(self) -> None:
        if not self.title:
            object.__setattr__(self, "title", _TITLES[self.mode])

    def text(self) -> str:
        return f"{self.title}: {self.evidence}"


@dataclass(frozen=True)
class Diagnosis:
    """What the rules read from one training summary; ``findings[0]`` is the primary one."""

    findings: tuple[Finding, ...]
    roles: dict[str, str]
    success_rate: float | None

    @property
    def primary(self) -> Finding:
        return self.findings[0]

    @property
    def headline(self) -> str:
        return " + ".join(f.title for f in self.findings)

    def text(self) -> str:
        """The diagnosis as the reflection prompt and the records show it."""
        roles = ", ".join(f"{n}={r}" for n, r in self.roles.items())
        lines = [f"Rule-based reading of the training logs (component roles from their names: {roles or 'none'}):"]
        lines += [f"- {f.text()}" for f in self.findings]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {"headline": self.headline, "text": self.text(), "success_rate": self.success_rate,
                "roles": dict(self.roles),
                "findings": [{"mode": f.mode, "title": f.title, "evidence": f.evidence,
                              "terms": {k: list(v) for k, v in f.terms.items()}, "levels": dict(f.levels)}
                             for f in self.findings]}


def _f(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3g}"


def _rising(rates: list[float]) -> bool:
    if len(rates) < 2:
        return False
    half = len(rates) // 2
    return rates[-1] > rates[0] + 0.01 or max(rates[half:]) > max(rates[:half]) + 0.01


def diagnose(summary: Mapping[str, Any] | None) -> Diagnosis:
    """The failure modes in ``summary`` (a ``TrainingSummary.to_json()`` dict), primary first.

    Rules (per-step means of failed episodes, each term relative to its scale):
    - succeeding: final success rate >= ``SUCCEEDING_RATE``;
    - rare_success: some episode succeeded, the rate (final < ``SUCCEEDING_RATE``) is rising;
    - never_reaches: reach < ``REACH_LOW`` of its scale and its last point < ``REACH_LOW_LATE``;
    - wrong_way: a progress term < -``WRONG_WAY``, or a penalty >= ``PENALTY_SHARE`` x the
      positive terms (and >= ``PENALTY_MIN``, and larger than in successful episodes);
    - drops: a grasp (or lift) trajectory peaks inside training and ends < ``FALL`` x its peak
      while lift stays stalled, or grasp >= ``GRASP_HELD`` while every lift term is stalled;
    - no_move: reach >= ``REACH_HIGH`` (or its last point) while every progress term (lift
      terms when there is none) is stalled (``STALLED``: near zero, or no gain over training);
    - stops_short: a progress or lift term gained >= ``ROSE`` of its scale, its last three
      points lie within ``FLAT`` of its peak, the success rate < ``SHORT_RATE`` and failed
      episodes reach < ``SHORT_OF_SUCCESS`` of what successful ones do;
    - unclear: none of these.
    """
    summary = summary or {}
    components = summary.get("components") or {}
    stats = {n: _stats(n, c) for n, c in components.items() if isinstance(c, Mapping)}
    roles = {n: s.role for n, s in stats.items() if s.role != "total"}
    rates = _finite(summary.get("success_rate"))
    final = rates[-1] if rates else None
    by_role: dict[str, list[_Stats]] = {}
    for s in stats.values():
        by_role.setdefault(s.role, []).append(s)
    reach, grasp, lift = by_role.get("reach", []), by_role.get("grasp", []), by_role.get("lift", [])
    progress, penalties = by_role.get("progress", []), by_role.get("penalty", [])
    positive = [s for s in stats.values() if s.role in ("reach", "pose", "grasp", "release", "lift", "progress",
                                                        "unknown")]
    findings: list[Finding] = []

    if not stats:
        return Diagnosis((Finding("unclear", "no training log summary to read (the training failed?)"),), roles, final)

    if final is not None and final >= SUCCEEDING_RATE:
        findings.append(Finding("succeeding", f"the success rate ends at {final:.2f} (>= {SUCCEEDING_RATE}): "
                                "keep the reward", terms={"contrast": _contrast(positive)}))
    elif summary.get("successful_episodes") and final is not None and _rising(rates):
        contrast = _contrast(positive)
        title = "success found but rare" if final < 0.3 else "success found, not yet reliable"
        what = (f"; the successful episodes have more {', '.join(contrast)}" if contrast else "")
        findings.append(Finding("rare_success", f"{summary.get('successful_episodes')} successful episodes, the "
                                f"success rate rises from {rates[0]:.2f} to {final:.2f}{what}",
                                terms={"contrast": contrast}, title=title))

    reach_level = max((s.share(s.fail) for s in reach), default=None)
    reach_late = max((s.share(s.last) for s in reach), default=None)
    if reach and reach_level < REACH_LOW and reach_late < REACH_LOW_LATE:
        dominant = [s.name for s in positive if s.role not in ("reach", "pose")
                    and s.fail > 0.5 * sum(max(p.fail, 0.0) for p in positive)]
        findings.append(Finding("never_reaches", f"in failed episodes {_names(reach)} averages {reach_level:.2f} of "
                                f"its scale per step (ending at {reach_late:.2f}; below {REACH_LOW})",
                                terms={"reach": _names_t(reach), "dominant": tuple(dominant)}))

    backwards = [s for s in progress if s.fail < -WRONG_WAY * s.scale]
    if backwards:
        findings.append(Finding("wrong_way", f"{_names(backwards)} is negative in failed episodes "
                                f"({', '.join(_f(s.fail) for s in backwards)} per step)",
                                terms={"progress": _names_t(backwards), "penalty": ()}))
    pos_total = sum(max(s.fail, 0.0) for s in positive)
    heavy = [s for s in penalties if abs(s.fail) >= PENALTY_MIN and abs(s.fail) >= PENALTY_SHARE * max(pos_total, 1e-9)
             and (s.succ is None or abs(s.fail) > 1.2 * abs(s.succ))]
    if heavy:
        worst = max(heavy, key=lambda s: abs(s.fail))
        in_success = "" if worst.succ is None else f"; {_f(abs(worst.succ))} in successful ones"
        findings.append(Finding("wrong_way", f"{worst.name} is {abs(worst.fail):.3g} per step in failed episodes, "
                                f"{abs(worst.fail) / max(pos_total, 1e-9):.2f} x the positive terms "
                                f"({_f(pos_total)}){in_success}",
                                terms={"penalty": (worst.name,), "progress": _names_t(progress)},
                                title=_penalty_title(worst.name)))

    lift_stalled = all(s.stalled() for s in lift)
    falling = [s for s in grasp if s.rose_then_fell()]
    lift_falling = [s for s in lift if s.rose_then_fell()]
    held = [s for s in grasp if s.share(s.fail) >= GRASP_HELD]
    if falling and lift_stalled:
        s = falling[0]
        findings.append(Finding("drops", f"{s.name} rises to {max(s.trajectory):.3g} and falls to {s.last:.3g} over "
                                f"training while {_names(lift) or 'no lift term'} stays small",
                                terms={"grasp": _names_t(grasp), "lift": _names_t(lift)}))
    elif lift_falling:
        s = lift_falling[0]
        findings.append(Finding("drops", f"{s.name} rises to {max(s.trajectory):.3g} and falls to {s.last:.3g} over "
                                "training", terms={"grasp": _names_t(grasp), "lift": _names_t(lift)},
                                title="lifts but does not hold it"))
    elif held and lift and lift_stalled:
        findings.append(Finding("drops", f"{_names(held)} averages {max(s.share(s.fail) for s in held):.2f} of its "
                                f"scale in failed episodes but {_names(lift)} stays at "
                                f"{', '.join(_f(s.fail) for s in lift)}",
                                terms={"grasp": _names_t(grasp), "lift": _names_t(lift)},
                                title="closes on it but never lifts it"))

    task = progress or lift
    reaches = reach and (reach_level >= REACH_HIGH or reach_late >= REACH_HIGH)
    if reaches and task and all(s.stalled() for s in task):
        findings.append(Finding("no_move", f"in failed episodes {_names(reach)} averages {reach_level:.2f} of its "
                                f"scale (the hand gets there) while {_names(task)} stays at "
                                f"{', '.join(_f(s.fail) for s in task)} (gaining "
                                f"{', '.join(_f(s.gain) for s in task)} over training)",
                                terms={"reach": _names_t(reach) + _names_t(by_role.get("pose", [])),
                                       "task": _names_t(task), "grasp": _names_t(grasp)}))

    if final is None or final < SHORT_RATE:
        short = []
        for s in progress + lift:
            recent = s.trajectory[-3:]
            peak = max(s.trajectory, default=s.fail)
            flat = bool(recent) and max(recent) - min(recent) <= FLAT * max(abs(peak), PEAK_MIN)
            below = s.succ is None or s.fail < SHORT_OF_SUCCESS * s.succ
            if s.gain >= ROSE * s.scale and flat and below and not s.rose_then_fell():
                short.append(s)
        if short:
            s = max(short, key=lambda x: x.gain / x.scale)
            target = "" if s.succ is None else f", short of the {s.succ:.3g} of successful episodes"
            findings.append(Finding("stops_short", f"{s.name} rises from {s.first:.3g} to {s.last:.3g} and flattens; "
                                    f"failed episodes average {s.fail:.3g}{target}",
                                    terms={"task": (s.name,), "reach": _names_t(reach)}, levels={s.name: s.fail}))

    if not findings:
        findings.append(Finding("unclear", f"success rate {_f(final)}; "
                                + ("no component has a role the rules read" if not (reach or task)
                                   else "the components show no failure pattern")
                                + ": coefficient search (raise terms near zero in failed episodes, lower a "
                                  "dominant one)"))
    order = {m: i for i, m in enumerate(MODES)}
    findings.sort(key=lambda f: order[f.mode])
    return Diagnosis(tuple(findings), roles, final)


def _names(stats: list[_Stats]) -> str:
    return ", ".join(s.name for s in stats)


def _names_t(stats: list[_Stats]) -> tuple[str, ...]:
    return tuple(s.name for s in stats)


def _contrast(positive: list[_Stats]) -> tuple[str, ...]:
    """Terms the successful episodes have clearly more of than the failed ones, largest gap first."""
    gaps = [((s.succ - s.fail) / s.scale, s.name) for s in positive if s.succ is not None]
    return tuple(name for gap, name in sorted(gaps, key=lambda t: -t[0]) if gap > 0.02)


def _penalty_title(name: str) -> str:
    low = name.lower()
    for pattern, title in ((r"lift|carry|height", "lifts it when it should push"),
                           (r"drift|side|across", "drifts sideways"),
                           (r"tilt|tip|flip|topple|upright", "tips it over"),
                           (r"disturb|other|target|knock", "disturbs the other object"),
                           (r"drop|fall", "drops it"), (r"speed|vel|fast", "moves it too fast"),
                           (r"collis|contact|hit", "collides")):
        if re.search(pattern, low):
            return f"{title} ({name} dominates)"
    return f"{name} dominates"


# -- the edits ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlannedEdit:
    """One reward sample's edit: the finding it answers, the change (``delta``) and the whole
    edit from the unedited reward (``edit`` = current, then delta)."""

    finding: Finding
    delta: RewardEdit
    edit: RewardEdit

    def proposal(self) -> str:
        return f"{RULE_BASED}: {self.finding.title}; edit: {self.delta.describe()}"


def _w(names: tuple[str, ...] | list[str], factor: float) -> dict[str, float]:
    return {n: factor for n in names}


def _variant(finding: Finding, k: int, objects: tuple[str, ...]) -> RewardEdit | None:
    """The ``k``-th plausible edit for ``finding`` (alternatives, then again stronger); None when
    the finding has no recipes ("unclear": the caller's coefficient search)."""
    recipes = _RECIPES.get(finding.mode)
    if not recipes:
        return None
    strength = 1.0 + 0.5 * (k // len(recipes))  # a second round of the recipes is stronger
    edit = recipes[k % len(recipes)](finding.terms, finding.levels, strength)
    needs_objects = any((edit.reach_gate, edit.move_bonus, edit.hold_bonus, edit.reach_bonus))
    if needs_objects and not objects:  # the module names no objects: keep the reweighting only
        edit = RewardEdit(weights=edit.weights, beyond=edit.beyond)
    return edit.with_objects(objects) if needs_objects and objects else edit


def _t(terms: dict[str, tuple[str, ...]], role: str) -> tuple[str, ...]:
    return tuple(terms.get(role, ()))


Terms = dict[str, tuple[str, ...]]
Levels = dict[str, float]


def _keep(t: Terms, lv: Levels, s: float) -> RewardEdit:
    return RewardEdit()


def _contrast_up(factor: float, count: int = 1):  # noqa: ANN202 - a recipe factory
    """Raise what the successful episodes have more of (the paper's "what do failed episodes lack")."""
    def recipe(t: Terms, lv: Levels, s: float) -> RewardEdit:
        return RewardEdit(weights=_w(_t(t, "contrast")[:count], factor ** s))
    return recipe


def _reach_up(factor: float, coarse: float = 0.0, sharpness: float = 3.0, dominant: float = 1.0):  # noqa: ANN202
    """Never reaches: pay the reach term more, add a coarse reach slope, lower a term that pays anyway."""
    def recipe(t: Terms, lv: Levels, s: float) -> RewardEdit:
        weights = {**_w(_t(t, "dominant"), dominant / s if dominant != 1.0 else 1.0), **_w(_t(t, "reach"), factor * s)}
        return RewardEdit(weights=weights, reach_bonus=ReachBonus(coarse * s, sharpness) if coarse else None)
    return recipe


def _penalty_progress(penalty: float, progress: float, alone: float):  # noqa: ANN202
    """Wrong way: make the wrong move cost more (``penalty`` > 1), or soften a penalty that drowns
    the progress signal (< 1), with progress paid ``progress`` x; when progress itself is
    negative (no penalty in the finding), progress is raised ``alone`` x (going backwards costs more)."""
    def recipe(t: Terms, lv: Levels, s: float) -> RewardEdit:
        pen = _t(t, "penalty")
        if not pen:
            return RewardEdit(weights=_w(_t(t, "progress"), alone * s))
        return RewardEdit(weights={**_w(pen, penalty * s if penalty >= 1 else penalty / s),
                                   **_w(_t(t, "progress"), progress * s if progress != 1.0 else 1.0)})
    return recipe


def _hold_up(grasp: float, lift: float, hold: float):  # noqa: ANN202
    """Drops: pay closing the hand more, and pay it again while the object comes up with it."""
    def recipe(t: Terms, lv: Levels, s: float) -> RewardEdit:
        return RewardEdit(weights={**_w(_t(t, "grasp"), grasp * s if grasp != 1.0 else 1.0),
                                   **_w(_t(t, "lift"), lift * s if lift != 1.0 else 1.0)},
                          hold_bonus=_hold(t, hold * s) if hold else None)
    return recipe


def _move_first(floor: float | None, bonus: float, task: float = 1.0, grasp: float = 1.0):  # noqa: ANN202
    """No move: gate the reach terms until the objects move (``floor``), pay the first centimetres
    of motion (``bonus``), raise the task terms and, in a pick-up task, the grasp term."""
    def recipe(t: Terms, lv: Levels, s: float) -> RewardEdit:
        weights = {**_w(_t(t, "task"), task * s if task != 1.0 else 1.0),
                   **_w(_t(t, "grasp"), grasp * s if grasp != 1.0 else 1.0)}
        return RewardEdit(weights=weights, reach_gate=_gate(t, floor / s) if floor else None,
                          move_bonus=MoveBonus(bonus * s) if bonus else None)
    return recipe


def _push_on(task: float, beyond: float = 0.0, reach: float = 1.0):  # noqa: ANN202
    """Stops short: pay the stalled task term more, pay past its plateau, pay hovering less."""
    def recipe(t: Terms, lv: Levels, s: float) -> RewardEdit:
        weights = {**_w(_t(t, "reach"), reach / s if reach != 1.0 else 1.0), **_w(_t(t, "task"), task * s)}
        return RewardEdit(weights=weights, beyond=_beyond(t, lv, beyond * s) if beyond else ())
    return recipe


#: Per mode, the plausible edits in the order samples get them (then again, stronger).
_RECIPES: dict[str, list[Any]] = {
    "succeeding": [_keep, _contrast_up(1.25), _contrast_up(1.5)],
    "rare_success": [_contrast_up(1.5), _contrast_up(2.0), _contrast_up(1.5, count=2), _contrast_up(2.5)],
    "never_reaches": [_reach_up(2.0), _reach_up(2.0, coarse=0.5), _reach_up(3.0, dominant=0.5),
                      _reach_up(3.0, coarse=1.0, sharpness=2.0)],
    "wrong_way": [_penalty_progress(2.0, 1.0, 2.0), _penalty_progress(1.5, 1.5, 1.5),
                  _penalty_progress(0.5, 2.0, 2.5), _penalty_progress(3.0, 1.0, 3.0)],
    "drops": [_hold_up(2.0, 1.0, 1.0), _hold_up(1.0, 2.0, 2.0), _hold_up(1.5, 1.5, 0.0), _hold_up(3.0, 1.0, 3.0)],
    "no_move": [_move_first(0.5, 0.5), _move_first(None, 1.0, task=2.0, grasp=2.0),
                _move_first(0.25, 1.0, task=1.5), _move_first(0.5, 0.0, task=3.0, grasp=2.0)],
    "stops_short": [_push_on(1.5, beyond=1.0), _push_on(2.0), _push_on(2.0, reach=0.5), _push_on(3.0, beyond=2.0)],
}


def _gate(terms: dict[str, tuple[str, ...]], floor: float) -> ReachGate | None:
    names = _t(terms, "reach")
    return ReachGate(names, round(floor, 4)) if names else None


def _hold(terms: dict[str, tuple[str, ...]], weight: float) -> HoldBonus | None:
    names = _t(terms, "grasp")
    return HoldBonus(names[0], round(weight, 4)) if names else None


def _beyond(terms: dict[str, tuple[str, ...]], levels: dict[str, float], weight: float) -> tuple[BeyondBonus, ...]:
    return tuple(BeyondBonus(n, round(levels[n], 4), round(weight, 4)) for n in _t(terms, "task") if n in levels)


def _silent_grasp(terms: dict[str, tuple[str, ...]], factor: float) -> dict[str, float]:
    """No move with a grasp term (a pick-up task): closing the hand is the missing step, raise it too."""
    return _w(_t(terms, "grasp"), factor)


def plan_edits(diagnosis: Diagnosis, current: RewardEdit, objects: tuple[str, ...], count: int) -> list[PlannedEdit]:
    """``count`` edits for the diagnosis, each on top of ``current``: the primary finding's
    recipes in turn (two samples of every three), the other findings' on every third sample;
    a finding without recipes ("unclear") gives no edit here (the caller's coefficient search)."""
    findings = [f for f in diagnosis.findings if f.mode in _RECIPES]
    if not findings:
        return []
    used = {id(f): 0 for f in findings}
    out = []
    for i in range(count):
        f = findings[0] if len(findings) == 1 or i % 3 != 2 else findings[1 + (i // 3) % (len(findings) - 1)]
        for _ in range(2 * len(_RECIPES[f.mode])):  # skip recipes that have nothing to change here
            delta = _variant(f, used[id(f)], objects)
            used[id(f)] += 1
            if delta is not None and (not delta.is_empty or f.mode == "succeeding"):
                out.append(PlannedEdit(f, delta, current.then(delta)))
                break
    return out
