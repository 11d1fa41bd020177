"""Leaderboard records: one JSON per (submission, task), with what an auditor needs.

A record names the metric, the package version and git commit, the seeds (the public ones; a
private set is only said to be private), every episode's result, the failures (each a category
and a short message the evaluator cleaned: ``leaderboard.failures``), the wall time, the sha256
of every submitted file, whether the evaluator ran it (``verified``) or the numbers were
reported by the submitter, and whether the policy ran inside the OS sandbox (``isolated``).

The evaluator writes them, never the policy: into a folder the sandboxed worker cannot see, each
file whole or not at all (a temporary file in the same folder, then ``os.replace``), so a reader
never finds half a record, whatever happened to the evaluation.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["TaskRecord", "write_record", "write_records", "read_records", "record_name", "slug"]


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
    #: The policy ran inside the OS sandbox (True), without it by the operator's explicit opt-out
    #: (False: ``--no-sandbox``), or no submitted code ran (None: refused, or a shipped trusted entry).
    isolated: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def slug(text: str) -> str:
    """A file-name-safe form of a method's name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "submission"


def record_name(method: str, task: str) -> str:
    return f"{slug(method)}__{task}.json"


def write_record(record: TaskRecord, out_dir: Path) -> Path:
    """``record`` as ``out_dir/<method>__<task>.json``, atomically (see the module doc)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / record_name(record.submission.get("method", "submission"), record.task)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=out_dir)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps(record.to_json(), indent=1) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a record is public
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def write_records(records: list[TaskRecord], out_dir: Path) -> list[Path]:
    return [write_record(r, out_dir) for r in records]


def read_records(folder: Path) -> list[dict[str, Any]]:
    """Every record in ``folder``. One written before the sandbox existed (``network_isolated``)
    reads as ``isolated: false`` when submitted code ran (it ran without the OS boundary), else
    ``None`` (a refusal; a shipped oracle, which has no submitted files)."""
    records = []
    for path in sorted(Path(folder).glob("*.json")):
        record = json.loads(path.read_text())
        if "network_isolated" in record:
            record.pop("network_isolated")
            ran = record.get("status") == "evaluated" and bool(record.get("submission", {}).get("file_sha256"))
            record.setdefault("isolated", False if ran else None)
        records.append(record)
    return records
