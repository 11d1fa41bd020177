"""The whole offline pipeline: files written, SceneSpec loadable, errors and partial failures."""
from __future__ import annotations

import json
import logging

import mujoco
import numpy as np
import pytest

from generator.reconstruct import (
    CaptionMismatchError,
    ReconstructConfig,
    ReconstructionError,
    VideoError,
    reconstruct,
    run_pipeline,
)
from generator.reconstruct.cli import main
from generator.reconstruct.geometry import robot_table_frame
from generator.reconstruct.video import write_video
from tests.reconstruct.conftest import camera_prior
from v2p_envs.scene_spec import load_scene_spec


def config(tmp_path, prompts=None, **kw) -> ReconstructConfig:
    return ReconstructConfig(out_dir=tmp_path / "out", prompts=prompts, camera=camera_prior(), progress=False, **kw)


def test_reconstruct_writes_a_loadable_scene(tmp_path, push_files, push_video):
    video, prompts = push_files
    scene = reconstruct(video, "push tin next to the jar", ["tin", "jar"], config(tmp_path, prompts))
    loaded = load_scene_spec(tmp_path / "out" / "scene.json", check_files=True)
    assert loaded == scene
    assert loaded.pose_frame == "table" and loaded.task_class_name == "PushTinNextToTheJar"
    to_table = robot_table_frame(camera_prior().plane)
    for obj in loaded.objects:
        assert len(obj.poses) == len(push_video.frames)
        truth = np.array(push_video.sizes[obj.name])
        assert np.all(np.abs(np.sort(obj.size) - np.sort(truth)) / np.sort(truth) < 0.2), (obj.name, obj.size)
        start = np.array(obj.poses[0][:3])
        assert np.linalg.norm(start - to_table.apply(push_video.poses[obj.name][0].translation[None])[0]) < 0.02
        urdf = (tmp_path / "out" / obj.urdf_path).read_text()
        assert urdf.count("../meshes/") >= 2 and ".collision/part_" in urdf  # visual + convex parts
        # the MJCF per object compiles, with the object's mass from density x volume
        model = mujoco.MjModel.from_xml_path(str(tmp_path / "out" / "mjcf" / f"{obj.name}.xml"))
        volume = float(np.prod(obj.size))
        assert 0.3 * volume * obj.density < model.body(obj.name).mass[0] < 1.2 * volume * obj.density
    tin = json.loads((tmp_path / "out" / "scene.json").read_text())["objects"][0]
    # pushed to the right in the image (camera x): the robot's right, -y in the table frame
    assert tin["pose_delta"][1] < -0.05 and abs(tin["pose_delta"][0]) < abs(tin["pose_delta"][1])


def test_partial_failure_is_reported_not_silent(tmp_path, push_files, caplog):
    video, prompts = push_files
    partial = tmp_path / "only_tin.json"
    partial.write_text(json.dumps({"tin": json.loads(prompts.read_text())["tin"]}))
    with caplog.at_level(logging.WARNING):
        result = run_pipeline(video, "push tin next to jar", ["tin", "jar"], config(tmp_path, partial))
    assert [o.name for o in result.scene.objects] == ["tin"]
    failure = result.report.failures["jar"]
    # the jar has no box, so motion looked for it (the tin's region excluded): it never moves
    assert failure.failed_stage == "detect" and """--prompts '{"jar": [x0, y0, x1, y1]}'""" in failure.error
    assert "jar" in caplog.text and "failed" in caplog.text
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["objects"]["jar"]["ok"] is False
    with pytest.raises(ReconstructionError, match="never found"):
        run_pipeline(video, "push tin next to jar", ["tin", "jar"], config(tmp_path, partial, strict=True))


def test_a_box_for_the_static_object_only_inline(tmp_path, push_files, push_video, caplog):
    """Prompts are per object: the static jar boxed inline, the pushed tin still found by motion."""
    video, prompts = push_files
    jar_only = json.dumps({"jar": json.loads(prompts.read_text())["jar"]})
    out = tmp_path / "inline"
    assert main([str(video), "--caption", "push tin next to jar", "--objects", "tin", "jar", "--prompts", jar_only,
                 "--camera-height", "0.4", "--camera-pitch", "45", "--no-progress", "--no-collision",
                 "--out", str(out)]) == 0
    scene = load_scene_spec(out / "scene.json")
    assert [o.name for o in scene.objects] == ["tin", "jar"]
    for obj in scene.objects:
        truth = np.sort(push_video.sizes[obj.name])
        assert np.all(np.abs(np.sort(obj.size) - truth) / truth < 0.2), (obj.name, obj.size)
    # bad inline JSON: one line naming the option, exit 2
    with caplog.at_level(logging.ERROR):
        assert main([str(video), "--caption", "push tin next to jar", "--objects", "tin", "jar", "--prompts",
                     '{"jar": [1, 2, 3]}', "--out", str(tmp_path / "bad")]) == 2
    assert "--prompts (inline JSON): field 'jar': expected [x0, y0, x1, y1]" in caplog.text
    assert "Traceback" not in caplog.text


def test_object_never_found_is_one_clear_error(tmp_path, push_video):
    still = write_video(tmp_path / "still.mp4", np.repeat(push_video.frames[:1], 5, axis=0))
    with pytest.raises(ReconstructionError, match=r"no object could be reconstructed.*'jar' never found"):
        reconstruct(still, "look at the jar", ["jar"], config(tmp_path))  # nothing moves, no prompt


def test_caption_object_mismatch(tmp_path, push_files):
    video, prompts = push_files
    with pytest.raises(CaptionMismatchError, match="'cup' is not mentioned in the caption"):
        reconstruct(video, "push tin next to jar", ["tin", "cup"], config(tmp_path, prompts))


def test_unreadable_and_empty_videos(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"this is not a video")
    with pytest.raises(VideoError, match="bad.mp4: cannot read the video"):
        reconstruct(bad, "push tin", ["tin"], config(tmp_path))
    with pytest.raises(VideoError, match="no such video file"):
        reconstruct(tmp_path / "missing.mp4", "push tin", ["tin"], config(tmp_path))
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(VideoError, match="empty.mp4"):
        reconstruct(empty, "push tin", ["tin"], config(tmp_path))


def test_cli_runs_and_downscaled_intrinsics_follow(tmp_path, push_files):
    video, prompts = push_files
    intr = camera_prior().intrinsics
    out = tmp_path / "cli"
    status = main([str(video), "--caption", "push tin next to jar", "--objects", "tin", "jar",
                   "--prompts", str(prompts), "--intrinsics", f"{intr.fx},{intr.fy},{intr.cx},{intr.cy}",
                   "--camera-height", "0.4", "--camera-pitch", "45", "--max-side", "128", "--no-progress",
                   "--out", str(out)])
    assert status == 0
    report = json.loads((out / "report.json").read_text())
    assert report["intrinsics"][0] == pytest.approx(intr.fx / 2)
    assert load_scene_spec(out / "scene.json").object("tin").size[0] > 0
    # the mesh builder's scores: each shape's IoU on its frame, and the views of the motion it was checked on
    fit = report["objects"]["tin"]["mesh_fit"]
    assert report["objects"]["tin"]["mesh_kind"] == "box" and fit["iou_box"] >= fit["iou_sphere"]
    assert fit["views"] and fit["views_iou_box"] > 0.8
    with pytest.raises(SystemExit):
        main(["--help"])


def test_write_then_read_video_round_trip(tmp_path, push_video):
    from generator.reconstruct.video import read_video

    frames = read_video(write_video(tmp_path / "v.mp4", push_video.frames[:3]))
    assert frames.shape == push_video.frames[:3].shape
    assert np.abs(frames.astype(int) - push_video.frames[:3]).mean() < 4


def test_v2p_reconstruct_through_the_real_main(tmp_path, capsys):
    """`v2p reconstruct` on a shipped video writes a scene; a missing video is one error line."""
    import json

    from generator.reconstruct.testvideos import DATA_DIR
    from v2p.cli import main

    out = tmp_path / "scene"
    assert main(["reconstruct", str(DATA_DIR / "push_block" / "video.mp4"), "--caption", "push the block left",
                 "--objects", "block", "--out", str(out), "--no-collision", "--no-progress", "--max-frames", "20"]) == 0
    scene = json.loads((out / "scene.json").read_text())
    assert [o["name"] for o in scene["objects"]] == ["block"] and len(scene["objects"][0]["poses"]) == 20
    assert main(["reconstruct", str(tmp_path / "v.mp4"), "--caption", "throw garlic into bowl", "--objects",
                 "garlic", "bowl", "--out", str(tmp_path / "x")]) == 2
