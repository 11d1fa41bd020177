"""benchmarks.training_curves: when a run's success first reached a target, and its PNG."""
from __future__ import annotations

import json

import pytest

from benchmarks.training_curves import first_crossing, plot_curves, run_metrics


def _row(i: int, success: float, episodes: int = 10) -> dict:
    return {"period": i, "env_steps": 100 * (i + 1), "wall_time_s": 2.0 * (i + 1), "episodes": episodes,
            "success_rate": success, "episode_return": success}


def test_first_crossing_is_a_rolling_mean_over_periods_with_episodes():
    rows = [_row(0, 0.0), _row(1, 1.0), _row(2, 0.0, episodes=0), _row(3, 1.0), _row(4, 1.0), _row(5, 1.0)]
    # windows over periods with episodes: (0, 1, 1) = 0.67 at period 3, (1, 1, 1) at period 4
    assert first_crossing(rows, 0.9) == {"env_steps": 500, "wall_time_s": 10.0}
    assert first_crossing(rows, 0.6) == {"env_steps": 400, "wall_time_s": 8.0}
    assert first_crossing(rows[:3], 0.1) is None  # fewer than 3 periods with episodes


def test_run_metrics_and_plot(tmp_path):
    assert run_metrics(tmp_path / "no_run") == []
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(_row(i, i / 4)) + "\n" for i in range(5)))
    rows = run_metrics(tmp_path)
    assert [r["success_rate"] for r in rows] == [0.0, 0.25, 0.5, 0.75, 1.0]
    png = plot_curves({"seed 0": rows}, "T", tmp_path / "figs" / "c.png", x="wall_time_s", target=0.9)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="x='clock'"):
        plot_curves({"seed 0": rows}, "T", tmp_path / "d.png", x="clock")
