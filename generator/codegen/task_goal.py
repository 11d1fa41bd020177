"""The goal a caption and its video show, as a family goal (``goal.json``) for evaluation.

A generated task has no hand-written success; its family goal lets the evaluator score it with
the family's ground truth (``v2p_envs.ground_truth.families``) instead of the task's own code.
The goal comes from the caption (``intent.parse_intent``) and the scene's tracked poses, by
rule, and never from the task code, so a model cannot move the bar it is measured by. The
template writer takes the push distance and lift height from the same rules, here.
"""
from __future__ import annotations

import logging
from typing import Any

from v2p_envs.ground_truth import get_ground_truth
from v2p_envs.ground_truth.family_goal import FamilyGoal
from v2p_envs.scene_spec import SceneSpec

from .intent import IntentError, TaskIntent, parse_intent

__all__ = ["task_goal", "goal_from_intent", "tracked_motion", "push_distance", "lift_height", "expected_metric",
           "DEFAULT_PUSH_DISTANCE", "DEFAULT_LIFT_HEIGHT", "GOAL_RULE"]

log = logging.getLogger(__name__)
#: Caption-only defaults (no video, or too little motion in it).
DEFAULT_PUSH_DISTANCE = 0.15
DEFAULT_LIFT_HEIGHT = 0.10
#: How goals are derived, as recorded in goal.json.
GOAL_RULE = "rule (generator.codegen.task_goal): caption verb family and the video's tracked poses; not a model"


def tracked_motion(scene: SceneSpec, name: str) -> tuple[float, float, float] | None:
    """Last minus first tracked position of ``name`` in the table frame (x, y) and its highest
    rise above the first frame (z), if the scene has poses."""
    obj = scene.object(name)
    if not obj.poses or scene.pose_frame != "table":
        return None
    first, last = obj.first_pose, obj.last_pose
    rise = max(p[2] for p in obj.poses) - first[2]
    return (last[0] - first[0], last[1] - first[1], rise)


#: what the video's tracked displacement may overstate (tracking error), taken off the push it shows
PUSH_TRACKING_TOLERANCE = 0.02


def push_distance(direction: tuple[float, float], motion: tuple[float, float, float] | None) -> float:
    """The video's displacement along ``direction`` less ``PUSH_TRACKING_TOLERANCE``, within
    [8, 25] cm; the default when the video moved it less than 4 cm that way (or there is no
    video). The task asks for the push the video shows, not a fraction of it."""
    dx, dy = direction
    along = None if motion is None else motion[0] * dx + motion[1] * dy
    if not along or along < 0.04:
        return DEFAULT_PUSH_DISTANCE
    return min(max(along - PUSH_TRACKING_TOLERANCE, 0.08), 0.25)


def lift_height(motion: tuple[float, float, float] | None) -> float:
    """80% of the video's rise, within [5, 20] cm; the default below a 4 cm rise (or no video)."""
    rise = None if motion is None else motion[2]
    return DEFAULT_LIFT_HEIGHT if not rise or rise < 0.04 else min(max(0.8 * rise, 0.05), 0.2)


def goal_from_intent(intent: TaskIntent, scene: SceneSpec, use_video: bool = True) -> FamilyGoal:
    """The family goal of a parsed caption; distances from the tracked poses when ``use_video``."""
    motion = tracked_motion(scene, intent.x) if use_video else None
    params: dict[str, Any] = {}
    if intent.family == "displace":
        direction = tuple(float(v) for v in intent.params["direction"])
        params = {"direction": direction, "distance": round(push_distance(direction, motion), 4)}
    elif intent.family == "lift":
        params = {"height": round(lift_height(motion), 4)}
    elif intent.family == "next_to":
        params = {"gap": intent.params["gap"], "how": intent.params["how"]}
    elif intent.family == "in_front_of":
        params = {"dropped": bool(intent.params["dropped"])}
    elif intent.family == "inside":
        params = {"thrown": bool(intent.params["thrown"])}
    elif intent.family == "cover" and "upside_down" in intent.params:
        params = {"upside_down": bool(intent.params["upside_down"])}
    derived = {"caption": intent.caption, "video": motion is not None, "by": GOAL_RULE}
    return FamilyGoal(intent.family, intent.x, intent.y, params, derived)


def task_goal(scene: SceneSpec, caption: str | None = None, use_video: bool = True) -> FamilyGoal | None:
    """The family goal of ``caption`` (default: the scene's title) over ``scene``; None when the
    caption names no known family (a model backend may still write a task for it)."""
    caption = (caption or scene.task_title).strip()
    try:
        intent = parse_intent(caption, scene)
    except IntentError as exc:
        log.info("%s: no family goal (%s)", scene.task_class_name, exc)
        return None
    return goal_from_intent(intent, scene, use_video)


def expected_metric(scene: SceneSpec, caption: str | None = None) -> str:
    """The metric an evaluation of ``scene``'s generated task would report: "ground_truth" (a
    hand-written one), "family_ground_truth" (the caption's family) or "generated"."""
    if get_ground_truth(scene.task_class_name) is not None:
        return "ground_truth"
    return "family_ground_truth" if task_goal(scene, caption, use_video=False) is not None else "generated"
