"""`v2p pipeline` on a shipped video at the smoke-test budget (the README's first command at
its real budget takes minutes): a task, reward reflection, a trained and evaluated policy, an mp4."""
from __future__ import annotations

import json

import imageio.v2 as imageio

from generator.reconstruct.testvideos import DATA_DIR
from v2p.cli import main


def test_pipeline_from_a_shipped_video(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["pipeline", str(DATA_DIR / "lift_mouse" / "video.mp4"), "--caption", "lift mouse from the table",
                 "--objects", "mouse", "--budget", "tiny", "--episodes", "2", "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "4/4 policy" in printed and "policy.mp4" in printed
    record = json.loads((out / "method.json").read_text())
    assert record["method"] == "v2p" and record["backend"] == "template"
    # no hand-written ground truth for this task: its caption's family (lift) scores it, from goal.json
    assert record["metric"] == "family_ground_truth" and "family ground truth success" in printed
    assert (out / "reflect" / "best" / "lift_mouse_from_the_table" / "goal.json").is_file()
    assert len(record["reflection"]["best_score_per_iteration"]) == 2
    reader = imageio.get_reader(str(out / "policy.mp4"))
    assert reader.count_frames() == 150  # every second step of one 300-step episode
    assert (out / "reflect" / "reflection.png").is_file()
