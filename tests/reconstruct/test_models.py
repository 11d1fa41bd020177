"""Real-model adapters on tiny random transformers models, and the external-checkout glue."""
from __future__ import annotations

import time

import numpy as np
import pytest

from generator.reconstruct import ReconstructConfig, ReconstructionError, run_pipeline
from generator.reconstruct.config import build_stages
from generator.reconstruct.depth import CameraPrior, TablePlaneDepth
from generator.reconstruct.detect import PromptedDetector
from generator.reconstruct.geometry import Intrinsics, robot_table_frame
from generator.reconstruct.models.depth import TransformersDepth
from generator.reconstruct.models.external import FoundationPoseTracker, InstantMeshBuilder
from generator.reconstruct.models.grounding_dino import GroundingDinoDetector, name_token_spans
from generator.reconstruct.models.sam2 import Sam2VideoSegmenter, positive_points
from generator.reconstruct.stages import Box
from tests.reconstruct import tiny_models
from tests.reconstruct.conftest import camera_prior
from v2p_envs.scene_spec import load_scene_spec

pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {
        "dino": tiny_models.grounding_dino(root / "dino", ["tin", "jar", "computer", "mouse"]),
        "sam2": tiny_models.sam2_video(root / "sam2"),
        "depth_pro": tiny_models.depth_pro(root / "depth_pro"),
        "depth_anything": tiny_models.depth_anything_metric(root / "depth_anything"),
    }


def test_grounding_dino_boxes_and_misses(model_dirs, push_video):
    frames = push_video.frames[:1]
    names = ["tin", "computer_mouse"]
    found = GroundingDinoDetector.load(model_dirs["dino"], box_threshold=0.0).detect(frames, names)
    assert set(found.boxes) == set(names) and not found.misses
    for box in found.boxes.values():
        assert 0 <= box.x0 < box.x1 <= frames.shape[2] and 0 <= box.y0 < box.y1 <= frames.shape[1]
        assert 0.0 <= box.score <= 1.0
    strict = GroundingDinoDetector.load(model_dirs["dino"], box_threshold=1.01).detect(frames, ["jar"])
    assert "below the threshold" in strict.misses["jar"]


def test_name_token_spans():
    assert name_token_spans([2, 6, 5, 7, 8, 5, 3], {"tin": [6], "computer_mouse": [7, 8], "cup": [9]}) == {
        "tin": [1], "computer_mouse": [3, 4]}


def test_sam2_video_masks_for_every_frame(model_dirs, push_video):
    frames = push_video.frames[:3]
    boxes = {n: Box.from_mask(m[0]) for n, m in push_video.masks.items()}
    masks = Sam2VideoSegmenter.load(model_dirs["sam2"], progress=False).segment(frames, boxes)
    assert set(masks) == set(boxes)
    for m in masks.values():
        assert m.shape == frames.shape[:3] and m.dtype == bool


def test_positive_points_lie_inside_the_mask(push_video):
    mask = push_video.masks["tin"][0]
    points = positive_points(mask, Box.from_mask(mask))
    assert points.shape == (5, 2)
    assert mask[points[:, 1].astype(int), points[:, 0].astype(int)].all()
    assert len({tuple(p) for p in points.tolist()}) == 5


@pytest.mark.parametrize("kind", ["depth_pro", "depth_anything"])
def test_metric_depth_models(model_dirs, push_video, kind):
    frames = push_video.frames[:2]
    estimator = TransformersDepth.load(model_dirs[kind], progress=False)
    result = estimator.estimate(frames, {})
    assert result.depth.shape == frames.shape[:3] and np.isfinite(result.depth).all() and (result.depth > 0).all()
    assert result.table_plane is None
    w, h = frames.shape[2], frames.shape[1]
    assert result.intrinsics.cx == pytest.approx(w / 2) and result.intrinsics.fx > 0
    given = Intrinsics(300.0, 300.0, w / 2, h / 2)
    with_k = TransformersDepth(estimator.model, CameraPrior(given), progress=False).estimate(frames, {})
    assert with_k.intrinsics == given


def test_missing_model_fails_fast_offline(monkeypatch, tmp_path):
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    start = time.perf_counter()
    with pytest.raises(ReconstructionError, match="cannot load the Grounding DINO") as info:
        GroundingDinoDetector.load("nobody/no-such-grounding-dino", cache_dir=tmp_path / "cache")
    assert time.perf_counter() - start < 15
    assert "HF_HUB_OFFLINE is set" in str(info.value) and "--detector-model" in str(info.value)
    with pytest.raises(ReconstructionError, match="cannot load the metric depth model from"):
        TransformersDepth.load(tmp_path / "no_such_folder")


def test_models_backend_builds_the_model_stages(model_dirs, tmp_path, push_files):
    video, prompts = push_files
    config = ReconstructConfig(out_dir=tmp_path / "out", backend="models", prompts=prompts, max_frames=4,
                               progress=False)
    config.models.detector, config.models.segmenter = str(model_dirs["dino"]), str(model_dirs["sam2"])
    config.models.depth = str(model_dirs["depth_pro"])
    stages = build_stages(config)
    # the user's boxes win over the detector for the objects they name; every object is boxed here,
    # so Grounding DINO is never loaded
    assert isinstance(stages.detector, PromptedDetector) and set(stages.detector.prompt.boxes) == {"tin", "jar"}
    stages.detector.make_rest = lambda: pytest.fail("the detector model was loaded for boxed objects")
    assert isinstance(stages.segmenter, Sam2VideoSegmenter) and isinstance(stages.depth, TransformersDepth)
    # random weights give random masks and depth: the run either writes a loadable scene or
    # reports, per object, which stage failed
    try:
        result = run_pipeline(video, "push tin next to jar", ["tin", "jar"], config, stages)
    except ReconstructionError as exc:
        assert "no object could be reconstructed" in str(exc) and "tin (" in str(exc)
    else:
        assert load_scene_spec(result.scene_path).pose_frame == "table"


FAKE_INSTANTMESH = """
import sys, pathlib, trimesh
config, image = sys.argv[1], pathlib.Path(sys.argv[2])
out = pathlib.Path(sys.argv[sys.argv.index("--output_path") + 1]) / pathlib.Path(config).stem / "meshes"
out.mkdir(parents=True)
trimesh.creation.box(extents=(1.0, 1.0, 1.0)).export(out / (image.stem + ".obj"))
"""

FAKE_FOUNDATIONPOSE = """
import sys, pathlib, numpy as np
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
scene, out = pathlib.Path(args["--test_scene_dir"]), pathlib.Path(args["--debug_dir"]) / "ob_in_cam"
assert (scene / "cam_K.txt").is_file() and (scene / "masks" / "000000.png").is_file()
out.mkdir(parents=True)
for k, rgb in enumerate(sorted((scene / "rgb").glob("*.png"))):
    pose = np.eye(4); pose[:3, 3] = [0.01 * k, 0.0, 0.5]
    np.savetxt(out / (rgb.stem + ".txt"), pose)
"""


def test_external_checkouts_through_the_pipeline(tmp_path, push_files):
    instantmesh, foundationpose = tmp_path / "InstantMesh", tmp_path / "FoundationPose"
    instantmesh.mkdir()
    foundationpose.mkdir()
    (instantmesh / "run.py").write_text(FAKE_INSTANTMESH)
    (foundationpose / "run_demo.py").write_text(FAKE_FOUNDATIONPOSE)
    video, prompts = push_files
    config = ReconstructConfig(out_dir=tmp_path / "out", prompts=prompts, camera=camera_prior(), progress=False)
    stages = build_stages(config)
    stages.mesh, stages.pose = InstantMeshBuilder(instantmesh), FoundationPoseTracker(foundationpose)
    result = run_pipeline(video, "push tin next to jar", ["tin"], config, stages)
    tin = load_scene_spec(result.scene_path).object("tin")
    rep = result.report.objects["tin"]
    assert rep.mesh_kind == "instantmesh" and rep.metric_mesh is False
    # the unit cube is rescaled by rho = D_image / D_mesh, D_mesh = sqrt(3)
    assert tin.size[0] == pytest.approx(rep.rho, rel=1e-6) and 0.02 < tin.size[0] < 0.2
    # FoundationPose's camera-frame pose, moved into the table frame
    expected = robot_table_frame(camera_prior().plane).apply(np.array([[0.03, 0.0, 0.5]]))[0]
    assert tin.poses[3][:3] == pytest.approx(tuple(expected))


def test_external_checkout_errors_are_clear(tmp_path, push_video):
    depth = TablePlaneDepth(camera_prior()).estimate(push_video.frames[:2], {})
    with pytest.raises(ReconstructionError, match="InstantMesh: .*run.py not found"):
        InstantMeshBuilder(tmp_path).build(push_video.frames[:2], "tin", push_video.masks["tin"][:2], depth)
    (tmp_path / "run.py").write_text("import sys; sys.exit('CUDA not available')")
    with pytest.raises(ReconstructionError, match="exited with status 1:\nCUDA not available"):
        InstantMeshBuilder(tmp_path).build(push_video.frames[:2], "tin", push_video.masks["tin"][:2], depth)
