"""Offline stages on synthetic frames with exact truth."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation
from shapely.geometry import Polygon

from generator.reconstruct.depth import TablePlaneDepth
from generator.reconstruct.detect import MotionDetector, PromptBoxDetector
from generator.reconstruct.geometry import Intrinsics, Pose, fit_plane, pixel_rays
from generator.reconstruct.mesh import PrimitiveFitMeshBuilder, choose_mesh_frame
from generator.reconstruct.pose import FlowPnPTracker, align_to_mask, silhouette
from generator.reconstruct.scale import diameter, scale_ratio
from generator.reconstruct.segment import GrabCutFlowSegmenter, mask_iou
from generator.reconstruct.stages import Box, MeshResult
from generator.reconstruct.synthetic import SyntheticObject, render, trajectory
from tests.reconstruct.conftest import JAR, CAMERA, TIN, camera_prior


def box_iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a.x1, b.x1) - max(a.x0, b.x0))
    iy = max(0.0, min(a.y1, b.y1) - max(a.y0, b.y0))
    inter = ix * iy
    return inter / ((a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter)


def test_motion_detector_finds_the_moving_object(push_video):
    det = MotionDetector().detect(push_video.frames, ["tin", "jar"])
    truth = Box.from_mask(push_video.masks["tin"][0])
    assert box_iou(det.boxes["tin"], truth) > 0.6
    assert "jar" in det.misses and "--prompts" in det.misses["jar"]  # static: cannot be found by motion


def test_prompt_detector_reports_missing_names(push_video):
    det = PromptBoxDetector({"tin": Box(1, 2, 30, 40)}, "boxes.json").detect(push_video.frames, ["tin", "cup"])
    assert det.boxes["tin"] == Box(1, 2, 30, 40)
    assert "boxes.json has no box named 'cup'" in det.misses["cup"]


def test_grabcut_flow_tracks_masks(push_video):
    boxes = {n: Box.from_mask(m[0]) for n, m in push_video.masks.items()}
    masks = GrabCutFlowSegmenter(progress=False).segment(push_video.frames, boxes)
    for name, truth in push_video.masks.items():
        ious = [mask_iou(masks[name][k], truth[k]) for k in range(len(truth))]
        assert min(ious) > 0.85, (name, ious)
    # the tracked box follows the pushed object across the image
    first, last = Box.from_mask(masks["tin"][0]), Box.from_mask(masks["tin"][-1])
    assert last.x0 - first.x0 > 20


def test_table_plane_depth_is_exact_on_the_table_and_close_on_objects(push_video):
    result = TablePlaneDepth(camera_prior()).estimate(push_video.frames, push_video.masks)
    objects = push_video.masks["tin"][0] | push_video.masks["jar"][0]
    table = ~objects
    np.testing.assert_allclose(result.depth[0][table], push_video.depth[0][table], rtol=1e-4)
    ratio = result.depth[0][objects] / push_video.depth[0][objects]
    assert (np.maximum(ratio, 1 / ratio) < 1.25).mean() > 0.95  # d1 on object pixels


@pytest.mark.parametrize("name, kind, size", [("tin", "box", TIN), ("jar", "cylinder", JAR)])
def test_primitive_fit_recovers_shape_size_and_pose(push_video, name, kind, size):
    depth = TablePlaneDepth(camera_prior()).estimate(push_video.frames, push_video.masks)
    built = PrimitiveFitMeshBuilder().build(push_video.frames, name, push_video.masks[name], depth)
    assert built.kind == kind and built.metric and built.frame_index == 0
    np.testing.assert_allclose(sorted(built.mesh.extents), sorted(size), rtol=0.1)
    assert np.linalg.norm(built.pose.translation - push_video.poses[name][0].translation) < 0.01


def test_scale_ratio_is_one_for_a_mesh_seen_with_true_depth(push_video):
    depth = push_video.depth[0]
    mesh = PrimitiveFitMeshBuilder().build(
        push_video.frames, "tin", push_video.masks["tin"],
        TablePlaneDepth(camera_prior()).estimate(push_video.frames, push_video.masks)).mesh
    rho = scale_ratio(CAMERA.intrinsics, push_video.masks["tin"][0], depth, mesh)
    assert 0.8 < rho < 1.05  # visible points span (almost) the full diagonal
    half = mesh.copy()
    half.apply_scale(0.5)
    assert scale_ratio(CAMERA.intrinsics, push_video.masks["tin"][0], depth, half) == pytest.approx(2 * rho)
    assert diameter(np.array([[0, 0, 0], [3, 4, 0.0]])) == 5.0


def test_flow_pnp_tracks_a_pushed_box(push_video):
    depth = TablePlaneDepth(camera_prior()).estimate(push_video.frames, push_video.masks)
    mask = push_video.masks["tin"]
    built = PrimitiveFitMeshBuilder().build(push_video.frames, "tin", mask, depth)
    poses = FlowPnPTracker(progress=False).track(push_video.frames, mask, depth, built)
    truth = push_video.poses["tin"]
    err = [np.linalg.norm(p.translation - g.translation) for p, g in zip(poses, truth)]
    assert np.mean(err) < 0.02 and max(err) < 0.04, err
    turned = Rotation.from_matrix(poses[-1].rotation) * Rotation.from_matrix(poses[0].rotation).inv()
    true_turn = Rotation.from_matrix(truth[-1].rotation) * Rotation.from_matrix(truth[0].rotation).inv()
    assert abs(turned.magnitude() - true_turn.magnitude()) < np.radians(10)


def test_silhouette_alignment_undoes_a_drifted_direction():
    """The tracker keeps the direction ``align_to_mask`` finds (the distance comes from depth)."""
    import trimesh
    mesh = MeshResult(trimesh.creation.box((0.18, 0.045, 0.022)), True, "box", 0, None)
    turn = Rotation.from_euler("xyz", [1.0, 0.2, 0.4]).as_matrix()
    truth = Pose(turn, np.array([-0.05, 0.04, 0.66]))
    mask = silhouette(mesh, truth, CAMERA.intrinsics, (192, 256))
    drifted = Pose(turn, truth.translation + np.array([0.03, -0.02, 0.05]))

    def off_deg(pose: Pose) -> float:
        a, b = pose.translation, truth.translation
        return float(np.degrees(np.arccos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1, 1))))

    aligned, iou = align_to_mask(drifted, mesh, mask, CAMERA.intrinsics)
    assert off_deg(drifted) > 3 and off_deg(aligned) < 0.2 and iou > 0.9
    # another object covers the right half: told so, the alignment still moves the right way,
    # where comparing the whole silhouette with the cut mask would move the wrong way
    cover = np.zeros_like(mask)
    cover[:, int(np.nonzero(mask)[1].mean()):] = True
    told, _ = align_to_mask(drifted, mesh, mask & ~cover, CAMERA.intrinsics, hidden=cover)
    untold, _ = align_to_mask(drifted, mesh, mask & ~cover, CAMERA.intrinsics)
    assert off_deg(told) < 0.7 * off_deg(drifted) < off_deg(untold)


def test_mesh_frame_avoids_a_frame_where_another_object_touches():
    mask = np.zeros((2, 40, 40), bool)
    mask[:, 10:20, 10:20] = True
    others = np.zeros_like(mask)
    assert choose_mesh_frame(mask, others) == 0
    others[0, 10:20, 21:30] = True  # a neighbour one pixel away on the first frame only
    assert choose_mesh_frame(mask, others) == 1
    assert choose_mesh_frame(mask) == 0


def test_geometry_round_trips():
    intr = Intrinsics.parse("200,210,64,48")
    assert intr.scaled(0.5) == Intrinsics(100, 105, 32, 24)
    with pytest.raises(ValueError, match="fx,fy,cx,cy"):
        Intrinsics.parse("1,2,3")
    pose = Pose(Rotation.from_euler("xyz", [0.1, -0.4, 1.2]).as_matrix(), np.array([0.1, -0.2, 0.7]))
    back = Pose.from_list(pose.to_list())
    np.testing.assert_allclose(back.rotation, pose.rotation, atol=1e-9)
    plane = CAMERA.plane
    us, vs = np.meshgrid(np.arange(0, 256, 16), np.arange(100, 190, 30))
    rays = pixel_rays(CAMERA.intrinsics, us.ravel(), vs.ravel())
    pts = rays * plane.ray_depth(rays)[:, None]
    fitted = fit_plane(pts)
    np.testing.assert_allclose(fitted.normal, plane.normal, atol=1e-6)
    assert fitted.offset == pytest.approx(plane.offset)


L_FOOTPRINT = ((-0.06, -0.04), (0.06, -0.04), (0.06, -0.005), (-0.02, -0.005), (-0.02, 0.04), (-0.06, 0.04))


def test_outline_is_carved_from_one_view_and_extruded():
    from generator.reconstruct.outline import carve_footprint, prism_mesh

    size = (0.12, 0.08, 0.03)
    video = render([SyntheticObject("bracket", "prism", size, (220, 200, 60),
                                    trajectory("static", (0.0, 0.05), size, 2, yaw0=0.4), L_FOOTPRINT)], CAMERA)
    table = CAMERA.plane.frame()
    footprint = carve_footprint(video.masks["bracket"][0], CAMERA.intrinsics, table, (0.0, 0.05), 0.12, 0.03)
    truth = Polygon(L_FOOTPRINT)
    carved = Polygon(footprint - footprint.mean(axis=0) + np.array(truth.centroid.coords[0]))
    assert carved.area == pytest.approx(truth.area, rel=0.3)
    # yawed by 0.4 rad on the table: rotate the truth into the table frame before comparing
    c, s = np.cos(0.4), np.sin(0.4)
    placed = Polygon(np.array(L_FOOTPRINT) @ np.array([[c, s], [-s, c]]) + [0.0, 0.05])
    assert Polygon(footprint).intersection(placed).area > 0.7 * placed.union(Polygon(footprint)).area
    mesh = prism_mesh(np.array(L_FOOTPRINT), 0.03)
    assert mesh.is_watertight and mesh.volume == pytest.approx(truth.area * 0.03, rel=1e-6)


def test_shape_is_chosen_by_agreement_over_the_motion():
    size = (0.12, 0.08, 0.03)
    video = render([SyntheticObject("bracket", "prism", size, (220, 200, 60),
                                    trajectory("push", (-0.05, 0.02), size, 12, end=(0.06, 0.06)), L_FOOTPRINT)],
                   CAMERA)
    depth = TablePlaneDepth(camera_prior()).estimate(video.frames, video.masks)
    built = PrimitiveFitMeshBuilder(catalogue=False).build(video.frames, "bracket", video.masks["bracket"], depth)
    assert built.kind == "outline" and len(built.details["views"]) == 4
    assert built.details["views_iou_outline"] > built.details["views_iou_box"]
    np.testing.assert_allclose(sorted(built.mesh.extents), sorted(size), rtol=0.2)
    assert built.mesh.volume == pytest.approx(Polygon(L_FOOTPRINT).area * 0.03, rel=0.35)
    one_view = PrimitiveFitMeshBuilder(catalogue=False, consistency_frames=0).build(
        video.frames, "bracket", video.masks["bracket"], depth)
    assert one_view.details["views"] == [] and "views_iou_box" not in one_view.details
    with pytest.raises(ValueError, match="need 'box'"):
        PrimitiveFitMeshBuilder(shapes=("sphere", "outline"))
    with pytest.raises(ValueError, match="shapes must be some of"):
        PrimitiveFitMeshBuilder(shapes=("cone",))
