"""Oracle lookup by task class name; each task family lives in its own module."""
from __future__ import annotations

from .base import Oracle

__all__ = ["ORACLES", "get_oracle"]


def _collect() -> dict[str, type[Oracle]]:
    from . import curriculum, hard_motions, multi_object, single_object

    found: dict[str, type[Oracle]] = {}
    for module in (curriculum, single_object, multi_object, hard_motions):
        found.update(module.ORACLES)
    return found


ORACLES: dict[str, type[Oracle]] = {}


def get_oracle(task_class_name: str) -> type[Oracle]:
    if not ORACLES:
        ORACLES.update(_collect())
    if task_class_name not in ORACLES:
        raise KeyError(f"no oracle for task {task_class_name!r}; known: {sorted(ORACLES)}")
    return ORACLES[task_class_name]
