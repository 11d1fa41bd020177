"""The template backend: caption -> verb family and roles; deterministic, policy-clean code."""
from __future__ import annotations

import dataclasses

import pytest

from generator.codegen.intent import IntentError, parse_intent
from generator.codegen.template_writer import write_template_task
from generator.reference_tasks import REFERENCE_TASKS, build_reference_scene
from v2p_envs.ground_truth import TABLE1_TASKS
from v2p_envs.untrusted.code_policy import check_source

TABLE1 = [t for t in REFERENCE_TASKS if t.class_name in TABLE1_TASKS]
EXPECTED = {
    "PushLeft": ("displace", "snack_box", None), "PushRight": ("displace", "cup", None),
    "LiftUp": ("lift", "sponge", None), "TipOver": ("tip_over", "bottle", None), "Cover": ("cover", "dice", "cup"),
    "Uncover": ("uncover", "dice", "cup"), "PushWith": ("push_with", "block", "ruler"),
    "PushNextTo": ("next_to", "sponge", "cup"), "DropInFrontOf": ("in_front_of", "block", "bowl"),
    "InsertFork": ("inside", "fork", "storage_box"), "SlideRemoteToMouse": ("next_to", "remote", "mouse"),
    "ThrowGarlic": ("inside", "garlic", "bowl"),
}


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    root = tmp_path_factory.mktemp("scenes")
    return {t.class_name: build_reference_scene(t, root / t.class_name) for t in REFERENCE_TASKS}


@pytest.mark.parametrize("task", TABLE1, ids=lambda t: t.class_name)
def test_the_twelve_table1_captions(scenes, task):
    intent = parse_intent(task.title, scenes[task.class_name])
    assert (intent.family, intent.x, intent.y) == EXPECTED[task.class_name]
    code = write_template_task(scenes[task.class_name]).code
    assert check_source(code) == [] and "not a language model" in code
    assert code == write_template_task(scenes[task.class_name]).code  # deterministic, byte for byte


@pytest.mark.parametrize("scene_of, caption, expected", [
    ("PushLeft", "Push the snack box forward", ("displace", "snack_box", None)),
    ("PushLeft", "sliding the snack box towards the right", ("displace", "snack_box", None)),
    ("LiftUp", "picking up the sponge", ("lift", "sponge", None)),
    ("TipOver", "knocking the bottle over", ("tip_over", "bottle", None)),
    ("ThrowGarlic", "tossing garlic into the bowl", ("inside", "garlic", "bowl")),
    ("ThrowGarlic", "put the garlic in the bowl", ("inside", "garlic", "bowl")),
    ("Cover", "put the cup over the dice", ("cover", "dice", "cup")),
    ("Uncover", "take the cup off the dice", ("uncover", "dice", "cup")),
    ("PushNextTo", "slide the sponge next to the cup", ("next_to", "sponge", "cup")),
    ("DropInFrontOf", "put the block in front of the bowl", ("in_front_of", "block", "bowl")),
    ("DropInFrontOf", "stack the block on the bowl", ("on_top", "block", "bowl")),
    ("PushWith", "use the ruler to push the block", ("push_with", "block", "ruler")),
])
def test_unseen_captions_with_known_verbs(scenes, scene_of, caption, expected):
    intent = parse_intent(caption, scenes[scene_of])
    assert (intent.family, intent.x, intent.y) == expected
    assert check_source(write_template_task(scenes[scene_of], caption).code) == []


def test_an_unknown_verb_lists_the_known_ones(scenes):
    with pytest.raises(IntentError, match="does not know the verb phrase of 'fold the sponge'.*tip / knock"):
        parse_intent("fold the sponge", scenes["LiftUp"])


def test_a_push_without_direction_takes_it_from_the_tracked_poses(scenes):
    scene = scenes["PushLeft"]
    obj = scene.objects[0]
    moved = dataclasses.replace(obj, poses=((0.0, 0.0, 0.43, 1, 0, 0, 0), (0.1, -0.1, 0.43, 1, 0, 0, 0)))
    scene = dataclasses.replace(scene, objects=(moved,))
    intent = parse_intent("push the snack box", scene)
    assert intent.params["direction"] == pytest.approx((0.7071, -0.7071), abs=1e-3)
    code = write_template_task(scene, "push the snack box").code
    assert "along >= 0.1131" in code  # 0.8 x the tracked 14.1 cm
    with pytest.raises(IntentError, match="add a direction"):
        parse_intent("push the snack box", scenes["PushLeft"])  # no poses, no direction
