"""The family goal of a caption and its video (goal.json): derived by rule, written into every
generated task folder of a known family, carried through re-emission, and what the env scores
a task without a hand-written ground truth by."""
from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from generator.codegen.generate import GenerateConfig, generate_task
from generator.codegen.task_goal import expected_metric, task_goal
from generator.codegen.template_writer import write_template_task
from generator.emit import emit_task
from generator.reference_tasks import REFERENCE_TASKS, build_reference_scene
from v2p_envs.ground_truth import TABLE1_TASKS
from v2p_envs.ground_truth.families import family_success
from v2p_envs.ground_truth.family_goal import FamilyGoal, FamilyGoalError, load_goal
from v2p_envs.scene_spec import load_scene_spec
from v2p_envs.task_loader import load_task_dir
from v2p_envs.untrusted.trial import TrialConfig
from v2p_envs.vector_env import V2PVectorEnv

from .test_template import EXPECTED

TRIAL = TrialConfig(num_envs=1, steps=2, call_timeout_s=8.0, timeout_s=120.0)


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    root = tmp_path_factory.mktemp("scenes")
    return {t.class_name: build_reference_scene(t, root / t.class_name) for t in REFERENCE_TASKS}


def _with_poses(scene, *poses):
    """``scene`` with its first object tracked through ``poses`` (x, y, z; upright)."""
    obj = dataclasses.replace(scene.objects[0], poses=tuple((*p, 1.0, 0.0, 0.0, 0.0) for p in poses))
    return dataclasses.replace(scene, objects=(obj,) + scene.objects[1:])


def test_every_table1_caption_has_its_family_goal(scenes):
    for task in REFERENCE_TASKS:
        goal = task_goal(scenes[task.class_name], task.title)
        if task.class_name not in TABLE1_TASKS:
            assert goal is None, task.class_name  # "reach a block", "grasp a block": no family
            continue
        assert (goal.family, goal.x, goal.y) == EXPECTED[task.class_name]
        assert goal.derived_from["caption"] == task.title and goal.derived_from["video"] is False
        assert "rule" in goal.derived_from["by"] and "not a model" in goal.derived_from["by"]
    assert task_goal(scenes["LiftUp"], "fold the sponge") is None  # no known verb: no goal


def test_caption_only_defaults(scenes):
    push = task_goal(scenes["PushLeft"], "push the snack box left")
    assert push.params == {"direction": (0.0, 1.0), "distance": 0.15}
    assert task_goal(scenes["LiftUp"], "lift the sponge").params == {"height": 0.10}
    slide = task_goal(scenes["SlideRemoteToMouse"])
    assert (slide.family, slide.params) == ("next_to", {"gap": 0.02, "how": "pushed"})


def test_goal_from_the_tracked_poses(scenes):
    pushed = _with_poses(scenes["PushLeft"], (0.0, 0.0, 0.43), (0.05, -0.05, 0.43), (0.1, -0.1, 0.43))
    goal = task_goal(pushed, "push the snack box")  # no direction in the caption: the video's
    assert goal.params["direction"] == pytest.approx((0.7071, -0.7071), abs=1e-4)
    assert goal.params["distance"] == pytest.approx(0.1214)  # the tracked 14.1 cm less 2 cm
    assert goal.derived_from["video"] is True
    # the task code uses the same distance (one rule, in task_goal)
    assert "along >= 0.1214" in write_template_task(pushed, "push the snack box").code
    # without the video: the caption's default distance
    assert task_goal(pushed, "push the snack box right", use_video=False).params["distance"] == 0.15
    assert task_goal(pushed, "push the snack box right").params["distance"] == pytest.approx(0.08)  # 10 cm, floored
    lifted = _with_poses(scenes["LiftUp"], (0.0, 0.0, 0.415), (0.0, 0.0, 0.615), (0.0, 0.0, 0.5))
    assert task_goal(lifted, "lift the sponge").params["height"] == pytest.approx(0.16)  # 0.8 x the 20 cm rise
    assert task_goal(lifted, "lift the sponge", use_video=False).params["height"] == 0.10
    little = _with_poses(scenes["LiftUp"], (0.0, 0.0, 0.415), (0.0, 0.0, 0.44))
    assert task_goal(little, "lift the sponge").params["height"] == 0.10  # a 2.5 cm rise: the default


def test_expected_metric(scenes):
    assert expected_metric(scenes["PushLeft"]) == "ground_truth"  # hand-written
    renamed = dataclasses.replace(scenes["PushLeft"], task_class_name="PushSnackBox")
    assert expected_metric(renamed) == "family_ground_truth"
    assert expected_metric(renamed, "fold the snack box") == "generated"


def test_emit_writes_and_carries_the_goal(scenes, tmp_path):
    scene = scenes["ThrowGarlic"]
    goal = task_goal(scene)
    code = write_template_task(scene).code
    base = emit_task(scene, code, {"test": True}, out_root=tmp_path, folder_name="base", goal=goal)
    assert load_goal(base / "goal.json", ["garlic", "bowl"]) == goal
    # re-emitted from the folder (as reward reflection does): the goal comes along
    again = emit_task(load_scene_spec(base / "scene.json"), code, {"test": True}, out_root=tmp_path,
                      folder_name="again")
    assert load_goal(again / "goal.json") == goal
    # goal=None writes none, and removes an overwritten folder's old one
    emit_task(scene, code, {"test": True}, out_root=tmp_path, folder_name="again", overwrite=True, goal=None)
    assert not (again / "goal.json").exists()
    with pytest.raises(FamilyGoalError, match="field 'x': names object 'sponge'"):
        emit_task(scene, code, {}, out_root=tmp_path, folder_name="bad", goal=FamilyGoal("lift", "sponge"))


def test_a_malformed_goal_json_stops_loading_with_its_name(scenes, tmp_path):
    scene = scenes["LiftUp"]
    folder = emit_task(scene, write_template_task(scene).code, {}, out_root=tmp_path, goal=task_goal(scene))
    (folder / "goal.json").write_text(json.dumps({"family": "lift", "x": "sponge", "params": {"height": 9}}))
    with pytest.raises(FamilyGoalError, match=r"goal.json: field 'params.height': 9 is out of the sane range"):
        load_task_dir(folder, trust_task_code=True)


def test_a_generated_task_of_a_known_family_is_scored_by_its_family(scenes, tmp_path):
    """A template task whose class has no hand-written ground truth: goal.json in the folder, and
    the env's info["success"] is the family ground truth, named so."""
    scene = dataclasses.replace(scenes["PushLeft"], task_class_name="PushSnackBoxLeft",
                                task_title="push snack box left")
    result = generate_task(scene, tmp_path / "run", GenerateConfig(trial=TRIAL, progress=False))
    assert result.task_dir is not None and (result.task_dir / "goal.json").is_file()
    goal = load_goal(result.task_dir / "goal.json")
    assert (goal.family, goal.x, goal.params["direction"]) == ("displace", "snack_box", (0.0, 1.0))
    provenance = json.loads((result.task_dir / "provenance.json").read_text())
    assert provenance["family_goal"]["family"] == "displace" and "rule" in provenance["family_goal"]["by"]
    assert result.record["family_goal"]["family"] == "displace"
    env = V2PVectorEnv(result.task_dir, num_envs=2, trust_task_code=True)  # its trial passed above
    try:
        assert env.success_metric == "family_ground_truth" and env.definition.goal == goal
        env.reset(seed=0)
        for _ in range(3):
            _, _, _, _, info = env.step(torch.zeros(2, 7))
        assert torch.equal(info["success"], family_success(goal)(env.sim.states))
    finally:
        env.close()
