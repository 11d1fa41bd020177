"""Learning curves of training runs: when ground-truth success first reached a target, and a PNG.

Shared by the time-to-success runner (one line per seed, over env steps) and the GPU check (one
run, over env steps and over training wall time, since its target is a time budget).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from baselines.rl import read_training_log

__all__ = ["run_metrics", "first_crossing", "plot_curves"]

#: x axes a curve can be drawn over: the metrics.jsonl field and its axis label
X_AXES = {"env_steps": ("env steps (M)", 1e-6), "wall_time_s": ("training wall time (s)", 1.0)}


def run_metrics(run_dir: Path) -> list[dict[str, Any]]:
    """A run's ``metrics.jsonl`` rows; [] where the run wrote none (it failed before its first period)."""
    try:
        return read_training_log(run_dir)
    except (FileNotFoundError, ValueError):
        return []


def first_crossing(rows: list[dict[str, Any]], target: float, window: int = 3) -> dict[str, float] | None:
    """The first period at which the rolling mean of ground-truth success (periods with finished
    episodes) reached ``target``: its env steps and wall time."""
    recent: list[float] = []
    for row in rows:
        if not row.get("episodes"):
            continue
        recent = (recent + [row["success_rate"]])[-window:]
        if len(recent) == window and sum(recent) / window >= target:
            return {"env_steps": row["env_steps"], "wall_time_s": row["wall_time_s"]}
    return None


def plot_curves(runs: dict[str, list[dict[str, Any]]], title: str, path: Path, x: str = "env_steps",
                target: float | None = None) -> Path:
    """Ground-truth success and episode return of each run (label -> metrics rows) over ``x``
    (``env_steps`` or ``wall_time_s``), side by side; ``target`` draws a dashed line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if x not in X_AXES:
        raise ValueError(f"x={x!r}: expected one of {sorted(X_AXES)}")
    xlabel, scale = X_AXES[x]
    fig, (ax_s, ax_r) = plt.subplots(1, 2, figsize=(10, 3.6))
    for label, rows in runs.items():
        rows = [m for m in rows if m.get("episodes")]
        xs = [m[x] * scale for m in rows]
        ax_s.plot(xs, [m["success_rate"] for m in rows], label=label)
        ax_r.plot(xs, [m["episode_return"] for m in rows], label=label)
    if target is not None:
        ax_s.axhline(target, color="grey", linestyle="--", linewidth=0.8)
    ax_s.set(xlabel=xlabel, ylabel="ground-truth success (training episodes)", ylim=(-0.02, 1.02),
             title=f"{title}: success")
    ax_r.set(xlabel=xlabel, ylabel="episode return", title=f"{title}: return")
    ax_s.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
