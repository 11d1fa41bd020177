"""Hand-written ground-truth success functions, for evaluation only.

The code generator never sees these (as in the paper, training does not access the metric).
Each function maps the batched ``states`` dict to a bool tensor (N,). They are keyed by the
task's ``task_class_name``. A generated task of a known family without one of these is scored by
its family's ground truth (``families``: parameterised by the task folder's ``goal.json``).
"""
from __future__ import annotations

from typing import Callable

import torch

from . import curriculum, hard_motions, multi_object, single_object

__all__ = ["GROUND_TRUTH", "get_ground_truth", "SuccessFn", "TABLE1_TASKS", "CURRICULUM_TASKS", "SUCCESS_METRICS",
           "metric_label"]

SuccessFn = Callable[[dict[str, torch.Tensor]], torch.Tensor]

GROUND_TRUTH: dict[str, SuccessFn] = {
    **curriculum.SUCCESS,
    **single_object.SUCCESS,
    **multi_object.SUCCESS,
    **hard_motions.SUCCESS,
}


#: The paper's Table 1, in its order: the benchmark's 12 tasks (task class names).
TABLE1_TASKS = ("PushLeft", "PushRight", "LiftUp", "TipOver", "Cover", "Uncover", "PushWith", "PushNextTo",
                "DropInFrontOf", "InsertFork", "SlideRemoteToMouse", "ThrowGarlic")
#: The curriculum seeds the code generator starts from (not in Table 1).
CURRICULUM_TASKS = ("ReachBlock", "GraspBlock")


def get_ground_truth(task_class_name: str) -> SuccessFn | None:
    """The hand-written success of a task class, or None for a task without one."""
    return GROUND_TRUTH.get(task_class_name)


#: What ``info["success"]`` (and so every record's ``metric``) can measure, and its name in
#: printed lines: the hand-written ground truth, the family ground truth of the task's goal.json,
#: or the task's own generated success.
SUCCESS_METRICS = {
    "ground_truth": "ground truth",
    "family_ground_truth": "family ground truth",
    "generated": "generated: no ground truth",
}


def metric_label(metric: str) -> str:
    """How printed lines name ``metric`` (a key of ``SUCCESS_METRICS``; anything else as it is)."""
    return SUCCESS_METRICS.get(metric, metric)
