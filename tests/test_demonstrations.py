"""The simulated demonstrations that stand in for the benchmark tasks' videos."""
from __future__ import annotations

import json

import pytest

from generator.reference_tasks import DEMONSTRATIONS_DIR, REFERENCE_TASKS, build_reference_scene, load_demonstration
from v2p_envs.errors import V2PError
from v2p_envs.ground_truth import TABLE1_TASKS


@pytest.mark.parametrize("name", TABLE1_TASKS)
def test_every_table1_task_has_a_labelled_demonstration_of_its_objects(name, tmp_path):
    demo = load_demonstration(name)
    assert "simulated demonstration" in demo["source"] and "not a real video" in demo["source"]
    task = next(t for t in REFERENCE_TASKS if t.class_name == name)
    scene = build_reference_scene(task, tmp_path, demonstration=True)
    assert set(demo["objects"]) == {o.name for o in scene.objects}
    frames = {len(o.poses) for o in scene.objects}
    assert len(frames) == 1 and frames.pop() > demo["success_frame"] >= 1
    assert all(len(p) == 7 for o in scene.objects for p in o.poses)
    assert all(not o.poses for o in build_reference_scene(task, tmp_path / "plain").objects)


def test_a_missing_or_broken_demonstration_says_how_to_make_one(tmp_path):
    with pytest.raises(V2PError, match="python -m baselines.oracles.demonstrations --tasks Nothing"):
        load_demonstration("Nothing", tmp_path)
    (tmp_path / "Bad.json").write_text(json.dumps({"objects": [1, 2]}))
    with pytest.raises(V2PError, match="Bad.json: field 'objects'"):
        load_demonstration("Bad", tmp_path)


def test_recording_a_demonstration_keeps_a_successful_oracle_episode():
    from baselines.oracles.demonstrations import FRAME_EVERY_STEPS, record_demonstration

    demo = record_demonstration("PushLeft", seeds=2)
    track = demo["objects"]["snack_box"]
    assert demo["frame_rate_hz"] == pytest.approx(50 / FRAME_EVERY_STEPS)
    assert track[-1][1] - track[0][1] > 0.15  # pushed left past the task's 15 cm
    assert abs(track[0][2] - 0.03) < 0.005  # table frame: the 6 cm box's centre 3 cm above the top
    assert DEMONSTRATIONS_DIR.is_dir()
