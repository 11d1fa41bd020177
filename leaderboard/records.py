"""Leaderboard records: one JSON per (submission, task), with what an auditor needs.

A record names the metric, the package version and git commit, the seeds (the public ones; a
private set is only said to be private), every episode's result, the failures, the wall time,
the sha256 of every submitted file, and whether the evaluator ran it (``verified``) or the
numbers were reported by the submitter.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["TaskRecord", "write_records", "read_records", "record_name", "slug"]


@dataclass
class TaskRecord:
    submission: dict[str, Any]
    task: str
    metric: str
    seeds: list[int] | str
    episodes: int
    per_seed_success: list[float]
    per_episode_success: list[list[bool]]
    mean: float
    std: float
    failures: list[str]
    wall_time_s: float
    package_version: str
    git_commit: str | None
    date: str
    machine: str
    verified: bool
    status: str = "evaluated"  # or "refused"
    network_isolated: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def slug(text: str) -> str:
    """A file-name-safe form of a method's name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "submission"


def record_name(method: str, task: str) -> str:
    return f"{slug(method)}__{task}.json"


def write_records(records: list[TaskRecord], out_dir: Path) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for r in records:
        path = out_dir / record_name(r.submission.get("method", "submission"), r.task)
        path.write_text(json.dumps(r.to_json(), indent=1) + "\n")
        paths.append(path)
    return paths


def read_records(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(Path(folder).glob("*.json"))]
