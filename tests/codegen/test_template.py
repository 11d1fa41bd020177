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
    assert "along >= 0.1214" in code  # the tracked 14.1 cm less 2 cm
    with pytest.raises(IntentError, match="add a direction"):
        parse_intent("push the snack box", scenes["PushLeft"])  # no poses, no direction


def _module(code: str, tmp_path, name: str):
    import importlib.util

    path = tmp_path / f"{name}.py"
    path.write_text(code)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_video_path_term_follows_the_demonstration(tmp_path):
    import torch

    from generator.codegen.template_writer import PATH_POINTS, video_path, without_poses

    task = next(t for t in REFERENCE_TASKS if t.class_name == "Cover")
    scene = build_reference_scene(task, tmp_path / "cover", demonstration=True)
    path = video_path(scene, ("dice", "cup"))
    # the cup moved in the video (lifted over the dice and lowered), the dice did not: the path is
    # the cup's, ending where the video put it relative to the dice (on it, 3 cm higher)
    assert path.moved == "cup" and path.ref == "dice" and len(path.points) == PATH_POINTS
    assert path.points[0] == (0.0, 0.0, 0.0) and max(p[2] for p in path.points) > 0.08
    assert abs(path.end[0]) < 0.01 and abs(path.end[1]) < 0.01 and 0.02 < path.end[2] < 0.04
    code = write_template_task(scene).code
    assert check_source(code) == [] and "_VIDEO_PATH = [[0.0, 0.0, 0.0]" in code and '"path_reward": path_reward' in code
    assert "_VIDEO_PATH" not in write_template_task(without_poses(scene)).code  # no video: no path term

    progress = _module(code, tmp_path, "cover_task")._path_progress
    rel = [list(p) for p in path.points]
    start = torch.tensor([[0.1, 0.2, 0.45]] * 4)
    end = start + torch.tensor(rel[-1])  # this episode's end where the video's was: no bending
    pos = torch.stack((start[0], start[0] + torch.tensor(rel[6]), start[0] + torch.tensor(rel[-1]),
                       start[0] + torch.tensor(rel[6]) + torch.tensor([0.0, 0.0, 0.10])))
    value = progress(pos, start, end, rel)
    # at the start 0, on the path's 7th of 12 points 6/11, at its end 1, 10 cm off the path ~0
    assert value[0] < 0.05 and value[1] == pytest.approx(6 / 11, abs=0.02) and value[2] == pytest.approx(1.0, abs=0.01)
    assert value[3] < 0.15
    moved_end = end + torch.tensor([0.05, 0.0, 0.0])  # the other object elsewhere: the path bends to it
    assert float(progress(start + torch.tensor(rel[-1]) + torch.tensor([0.05, 0.0, 0.0]), start, moved_end, rel)[0]) > 0.99


def test_without_video_information_the_writer_sees_no_poses(tmp_path):
    from generator.codegen.generate import GenerateConfig, generate_task

    task = next(t for t in REFERENCE_TASKS if t.class_name == "PushRight")
    scene = build_reference_scene(task, tmp_path / "scene", demonstration=True)
    with_video = generate_task(scene, tmp_path / "v2p", GenerateConfig(backend="template", progress=False))
    without = generate_task(scene, tmp_path / "eureka", GenerateConfig(backend="template", progress=False,
                                                                        use_video=False))
    code_v, code_c = ((r.task_dir / "task.py").read_text() for r in (with_video, without))
    # the video's 18.1 cm push less 2 cm, and its path; the caption alone: the 15 cm default, no path
    assert "along >= 0.1608" in code_v and "_VIDEO_PATH" in code_v
    assert "along >= 0.15" in code_c and "_VIDEO_PATH" not in code_c
