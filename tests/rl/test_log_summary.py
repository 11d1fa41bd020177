"""The reward-reflection summary, on the logs of a real short rl-games run."""
from __future__ import annotations

import json
import math

import pytest

from baselines.rl import format_summary, summarize_training_log


def test_summary_of_a_real_run(rl_games_run):
    s = summarize_training_log(rl_games_run.run_dir)
    rows = [json.loads(line) for line in (rl_games_run.run_dir / "metrics.jsonl").read_text().splitlines()]
    assert len(s.checkpoints) == 10 and s.checkpoints[-1] == rl_games_run.env_steps == rows[-1]["env_steps"]
    assert s.checkpoints == sorted(s.checkpoints)
    assert set(s.components) == {"reach_reward", "action_penalty", "reward"}
    assert s.episodes == sum(r["episodes"] for r in rows) >= 8
    for c in s.components.values():
        assert len(c.trajectory) == 10
        assert c.min <= c.mean <= c.max
        assert c.success.episodes + c.failure.episodes == s.episodes
        for g in (c.success, c.failure):
            if g.episodes:
                assert g.min <= g.mean <= g.max
    # the reach reward is 1 - tanh(10 d) in [0, 1]; the action penalty is <= 0
    reach = s.components["reach_reward"]
    assert 0.0 <= reach.min and reach.max <= 1.0
    assert s.components["action_penalty"].max <= 0.0
    # the overall per-step mean of a component matches the rows it came from
    per_row = [r["components_step_mean"]["reach_reward"] for r in rows]
    assert reach.mean == pytest.approx(sum(per_row) / len(per_row))
    text = format_summary(s)
    assert "reach_reward: [" in text and "successful episodes" in text and "failed episodes" in text


def test_summary_splits_by_ground_truth_on_request(rl_games_run):
    s = summarize_training_log(rl_games_run.run_dir, points=3, split_by="ground_truth")
    assert len(s.checkpoints) == 3 and s.split_by == "ground_truth"
    with pytest.raises(ValueError, match="split_by"):
        summarize_training_log(rl_games_run.run_dir, split_by="oracle")


def test_summary_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="metrics.jsonl"):
        summarize_training_log(tmp_path)
    (tmp_path / "metrics.jsonl").write_text("{not json\n")
    with pytest.raises(ValueError, match="metrics.jsonl:1"):
        summarize_training_log(tmp_path)


def test_summary_groups_success_and_failure():
    """Episode groups merge exactly across rows (count-weighted means, min of mins, max of maxes)."""
    from baselines.rl.log_summary import _merge

    groups = [{"count": 2, "components": {"r": {"mean": 1.0, "min": 0.5, "max": 1.5}}},
              {"count": 0, "components": {}},
              {"count": 1, "components": {"r": {"mean": 4.0, "min": 4.0, "max": 4.0}}}]
    g = _merge(groups, "r")
    assert g.episodes == 3 and g.mean == pytest.approx(2.0) and (g.min, g.max) == (0.5, 4.0)
    assert _merge([], "r").mean is None and not math.isnan(_merge(groups, "r").mean)
