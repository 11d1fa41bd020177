"""Training logs -> the per-component statistics that reward reflection needs.

``summarize_training_log(run_dir)`` reads ``metrics.jsonl`` (written by ``TrainingRecorder``)
and returns, for every reward component: its per-step mean at ~every 10% of training
(``trajectory``) with max / mean / min over training, and the episode statistics (count, mean,
min, max of the episode's per-step mean) apart for successful and failed episodes. Episodes
are split by the *generated* success function by default: reward reflection must not see the
ground-truth metric (as in the paper). ``format_summary`` renders it as text for a prompt.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .recorder import METRICS_FILE

__all__ = ["ComponentSummary", "TrainingSummary", "read_training_log", "summarize_training_log", "format_summary"]


@dataclass
class GroupStats:
    episodes: int
    mean: float | None
    min: float | None
    max: float | None


@dataclass
class ComponentSummary:
    name: str
    trajectory: list[float]        # per-step mean at each checkpoint (~every 10% of training)
    max: float
    mean: float
    min: float
    success: GroupStats           # episodes that succeeded (by ``split_by``)
    failure: GroupStats


@dataclass
class TrainingSummary:
    env_steps: int
    split_by: str
    checkpoints: list[int]                    # env steps of the trajectory points
    success_rate: list[float | None]          # success rate (by ``split_by``) at the checkpoints
    episode_length: list[float | None]
    episodes: int
    successful_episodes: int
    components: dict[str, ComponentSummary] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def read_training_log(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a run's ``metrics.jsonl`` (``path``: the file or its run folder), one per logging period."""
    path = Path(path)
    if path.is_dir():
        path = path / METRICS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no training log; train with `v2p train` (TrainingRecorder writes it)")
    rows = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: not a JSON row ({exc})") from None
    if not rows:
        raise ValueError(f"{path}: the log is empty (the run took no step)")
    return rows


def _windows(n: int, points: int) -> list[range]:
    """Split ``n`` rows into ``points`` consecutive windows (fewer if there are fewer rows)."""
    points = max(1, min(points, n))
    bounds = [round(i * n / points) for i in range(points + 1)]
    return [range(bounds[i], bounds[i + 1]) for i in range(points)]


def _merge(groups: list[dict[str, Any]], name: str) -> GroupStats:
    count, total, lo, hi = 0, 0.0, math.inf, -math.inf
    for g in groups:
        c = g["components"].get(name)
        if c is None or not g["count"]:
            continue
        count += g["count"]
        total += c["mean"] * g["count"]
        lo, hi = min(lo, c["min"]), max(hi, c["max"])
    if not count:
        return GroupStats(0, None, None, None)
    return GroupStats(count, total / count, lo, hi)


def summarize_training_log(run_dir: str | Path, points: int = 10, split_by: str = "generated") -> TrainingSummary:
    """Summarise a run's ``metrics.jsonl`` into ``points`` checkpoints (see module docstring)."""
    if split_by not in ("generated", "ground_truth"):
        raise ValueError(f"split_by must be 'generated' or 'ground_truth', got {split_by!r}")
    rows = read_training_log(Path(run_dir))
    windows = _windows(len(rows), points)
    rate_key = "generated_success_rate" if split_by == "generated" else "success_rate"
    names = list(rows[-1]["components_step_mean"]) + ["reward"]
    checkpoints, success_rate, lengths, trajectories = [], [], [], {n: [] for n in names}
    for w in windows:
        part = [rows[i] for i in w]
        checkpoints.append(part[-1]["env_steps"])
        eps = sum(r["episodes"] for r in part)
        success_rate.append(sum((r[rate_key] or 0.0) * r["episodes"] for r in part) / eps if eps else None)
        lengths.append(sum((r["episode_length"] or 0.0) * r["episodes"] for r in part) / eps if eps else None)
        for n in names:
            vals = [r["reward_step_mean"] if n == "reward" else r["components_step_mean"].get(n) for r in part]
            vals = [v for v in vals if v is not None]
            trajectories[n].append(sum(vals) / len(vals) if vals else float("nan"))
    groups = [r["episode_components"][split_by] for r in rows]
    episodes = sum(r["episodes"] for r in rows)
    successes = sum(g["success"]["count"] for g in groups)
    components = {}
    for n in names:
        per_row = [r["reward_step_mean"] if n == "reward" else r["components_step_mean"].get(n) for r in rows]
        per_row = [v for v in per_row if v is not None]
        components[n] = ComponentSummary(
            name=n, trajectory=trajectories[n], max=max(per_row), mean=sum(per_row) / len(per_row), min=min(per_row),
            success=_merge([g["success"] for g in groups], n), failure=_merge([g["failure"] for g in groups], n))
    return TrainingSummary(env_steps=rows[-1]["env_steps"], split_by=split_by, checkpoints=checkpoints,
                           success_rate=success_rate, episode_length=lengths, episodes=episodes,
                           successful_episodes=successes, components=components)


def _f(x: float | None) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3g}"


def format_summary(s: TrainingSummary) -> str:
    """Plain-text feedback in Eureka's style, with the success/failure split of Video2Policy."""
    lines = [f"Trained {s.env_steps} env steps; {s.episodes} episodes, {s.successful_episodes} successful "
             f"(by the {s.split_by} success function).",
             f"success_rate: [{', '.join(_f(v) for v in s.success_rate)}]",
             f"episode_length: [{', '.join(_f(v) for v in s.episode_length)}]"]
    for c in s.components.values():
        label = "reward (total, per step)" if c.name == "reward" else c.name
        lines.append(f"{label}: [{', '.join(_f(v) for v in c.trajectory)}], Max: {_f(c.max)}, Mean: {_f(c.mean)}, "
                     f"Min: {_f(c.min)}")
        for g, st in (("successful", c.success), ("failed", c.failure)):
            lines.append(f"    {g} episodes ({st.episodes}): per-step Mean {_f(st.mean)}, Max {_f(st.max)}, "
                         f"Min {_f(st.min)}")
    if not s.successful_episodes:
        lines.append("No episode succeeded: consider redesigning the reward function.")
    return "\n".join(lines)
