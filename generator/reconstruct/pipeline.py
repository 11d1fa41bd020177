"""The reconstruction pipeline: video + caption + object names -> SceneSpec on disk.

detect (frame 0) -> segment + track -> depth + intrinsics -> mesh (one frame) -> scale (rho)
-> 6D pose per frame -> ``DIR/scene.json``, ``DIR/meshes/<name>.obj``, ``DIR/urdf/<name>.urdf``
and ``DIR/report.json`` (per object: what worked, what failed and why; per stage: seconds).
One object's failure is reported (log warning + report) and the others go on; when no object
survives, or with ``strict``, it raises.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from generator.reconstruct.camera import estimate_camera
from generator.reconstruct.caption import check_objects_in_caption, task_class_name
from generator.reconstruct.config import ReconstructConfig, Stages, build_stages
from generator.reconstruct.export import write_object_files
from generator.reconstruct.geometry import Pose, robot_table_frame
from generator.reconstruct.mesh import support_plane
from generator.reconstruct.scale import apply_scale, scale_ratio
from generator.reconstruct.stages import DepthResult, MeshResult, ObjectNotFoundError, ReconstructionError
from generator.reconstruct.video import downscale, read_video
from v2p_envs.scene_spec import ObjectSpec, SceneSpec

__all__ = ["ObjectReport", "ReconstructionReport", "ReconstructionResult", "reconstruct", "run_pipeline"]

log = logging.getLogger(__name__)

_MIN_MASK_PIXELS = 12


@dataclass
class ObjectReport:
    name: str
    ok: bool = False
    failed_stage: str | None = None
    error: str | None = None
    box: list[float] | None = None
    tracked_frames: int = 0
    mesh_kind: str | None = None
    mesh_frame: int | None = None
    mesh_fit: dict[str, Any] = field(default_factory=dict)  # the mesh builder's scores (IoU per shape, views used)
    metric_mesh: bool | None = None
    rho: float | None = None
    size: list[float] | None = None
    held_frames: int = 0


@dataclass
class ReconstructionReport:
    video_path: str
    backend: str
    num_frames: int = 0
    image_size: list[int] = field(default_factory=list)
    intrinsics: list[float] = field(default_factory=list)
    #: the camera as estimated from the video (``camera.CameraEstimate``): figures and their sources
    camera: dict[str, Any] = field(default_factory=dict)
    #: the table plane in camera coordinates (normal . X = offset) that the poses were moved from
    table_plane: dict[str, Any] = field(default_factory=dict)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    objects: dict[str, ObjectReport] = field(default_factory=dict)

    @property
    def failures(self) -> dict[str, ObjectReport]:
        return {n: r for n, r in self.objects.items() if not r.ok}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ReconstructionResult:
    scene: SceneSpec
    report: ReconstructionReport
    scene_path: Path
    masks: dict[str, np.ndarray] = field(repr=False, default_factory=dict)
    depth: DepthResult | None = field(repr=False, default=None)
    #: camera -> table frame (``geometry.robot_table_frame``): how the scene's poses were moved
    table_frame: Pose | None = field(repr=False, default=None)


def reconstruct(video_path: Path | str, caption: str, object_names: Sequence[str],
                config: ReconstructConfig) -> SceneSpec:
    """Reconstruct the scene and write it under ``config.out_dir``; see ``run_pipeline``."""
    return run_pipeline(video_path, caption, object_names, config).scene


def run_pipeline(video_path: Path | str, caption: str, object_names: Sequence[str], config: ReconstructConfig,
                 stages: Stages | None = None) -> ReconstructionResult:
    """Everything ``reconstruct`` does, returning also the report and the intermediate masks and
    depth (for benchmarks); ``stages`` overrides the implementations chosen from ``config``."""
    names = check_objects_in_caption(caption, object_names)
    frames = read_video(video_path, config.max_frames)
    frames, factor = downscale(frames, config.max_side)
    report = ReconstructionReport(str(video_path), config.backend, len(frames), [frames.shape[2], frames.shape[1]])
    if config.estimate_camera:
        config = _with_estimated_camera(config, frames[0], factor, report)
    stages = stages or build_stages(config, factor)
    reports = {n: ObjectReport(n) for n in names}
    report.objects = reports
    timer = _Timer(report.stage_seconds)

    with timer("detect"):
        detection = stages.detector.detect(frames, names)
    for name, reason in detection.misses.items():
        _fail(reports[name], "detect", ObjectNotFoundError(name, "detect", reason), config.strict)
    for name, box in detection.boxes.items():
        reports[name].box = [box.x0, box.y0, box.x1, box.y1]

    with timer("segment"):
        masks = stages.segmenter.segment(frames, detection.boxes) if detection.boxes else {}
    for name, mask in masks.items():
        counts = mask.reshape(len(mask), -1).sum(axis=1)
        reports[name].tracked_frames = int((counts >= _MIN_MASK_PIXELS).sum())
        if counts[0] < _MIN_MASK_PIXELS and counts[-1] < _MIN_MASK_PIXELS:
            _fail(reports[name], "segment", ObjectNotFoundError(
                name, "segment", "no mask on the first or the last frame"), config.strict)
    live = {n: m for n, m in masks.items() if reports[n].failed_stage is None}
    if not live:
        _raise_all_failed(report, video_path)

    with timer("depth"):
        depth = stages.depth.estimate(frames, live)
    intr = depth.intrinsics
    report.intrinsics = [intr.fx, intr.fy, intr.cx, intr.cy]
    every_mask = np.zeros_like(next(iter(live.values()))[0])
    for mask in live.values():
        every_mask |= mask[0]
    plane = support_plane(depth, 0, every_mask)
    report.table_plane = {"normal": [float(v) for v in plane.normal], "offset": float(plane.offset),
                          "from": "depth estimator" if depth.table_plane is not None else "fit to the depth of frame 0"}
    to_table = robot_table_frame(plane)

    objects = []
    for name in names:
        if name not in live:
            continue
        try:
            others = np.zeros_like(live[name])
            for other, other_mask in live.items():
                if other != name:
                    others |= other_mask
            objects.append(_object(name, frames, live[name], others, depth, stages, config, reports[name], timer,
                                   to_table))
        except (ReconstructionError, ValueError, RuntimeError) as exc:
            stage = getattr(exc, "stage", None) or timer.current or "object"
            _fail(reports[name], stage, exc, config.strict)
    if not objects:
        _raise_all_failed(report, video_path)

    scene = SceneSpec(
        task_title=caption.strip(),
        task_class_name=task_class_name(caption),
        description=caption.strip(),
        objects=tuple(objects),
        video_path=str(Path(video_path).resolve()),
        pose_frame="table",
        source_dir=config.out_dir.resolve(),
    )
    scene_path = scene.save(config.out_dir / "scene.json")
    (config.out_dir / "report.json").write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    if report.failures:
        log.warning("reconstruction of %s: %d of %d objects failed: %s", video_path, len(report.failures),
                    len(names), "; ".join(f"{n} ({r.failed_stage}): {r.error}" for n, r in report.failures.items()))
    log.info("wrote %s", scene_path)
    return ReconstructionResult(scene, report, scene_path, live, depth, to_table)


def _object(name: str, frames: np.ndarray, mask: np.ndarray, others: np.ndarray, depth: DepthResult, stages: Stages,
            config: ReconstructConfig, rep: ObjectReport, timer: "_Timer", to_table: Pose) -> ObjectSpec:
    """One object's mesh, size and pose track; poses go out in the table frame (``to_table``)."""
    with timer("mesh"):
        built = stages.mesh.build(frames, name, mask, depth, others)
    with timer("scale"):
        k = built.frame_index
        try:
            rep.rho = scale_ratio(depth.intrinsics, mask[k], depth.depth[k], built.mesh)
        except ValueError as exc:
            if not built.metric:
                raise ReconstructionError(f"object '{name}': {exc}") from exc
            log.warning("scale '%s': %s; the mesh is metric already, going on", name, exc)
        # A metric mesh keeps its fitted size; rho is kept in the report as a cross-check.
        mesh = apply_scale(built.mesh, 1.0 if built.metric else rep.rho)
        if built.pose is not None:
            shift = built.pose.rotation @ (built.mesh.bounds.mean(axis=0))
            built.pose = Pose(built.pose.rotation, built.pose.translation + shift)
        scaled = MeshResult(mesh, True, built.kind, k, built.pose, built.details)
    rep.mesh_kind, rep.mesh_frame, rep.metric_mesh = built.kind, k, built.metric
    rep.mesh_fit = {key: round(v, 4) if isinstance(v, float) else v for key, v in built.details.items()}
    with timer("pose"):
        poses = stages.pose.track(frames, mask, depth, scaled, others)
    filled, held = _hold_missing(poses)
    if filled is None:
        raise ReconstructionError(f"object '{name}': the pose tracker lost it on every frame")
    rep.held_frames = held
    if held:
        log.info("pose '%s': %d of %d frames had no pose (hidden or lost); the nearest pose is held there",
                 name, held, len(poses))
    files = write_object_files(config.out_dir, name, mesh, config.density, config.collision)
    size = tuple(float(v) for v in mesh.extents)
    rep.size, rep.ok = list(size), True
    return ObjectSpec(name=name, size=size, mesh_path=files.mesh, urdf_path=files.urdf, density=config.density,
                      poses=tuple(tuple(to_table.compose(p).to_list()) for p in filled))


def _with_estimated_camera(config: ReconstructConfig, frame: np.ndarray, factor: float,
                           report: ReconstructionReport) -> ReconstructConfig:
    """``config`` with the camera measured on ``frame`` (the quantities not given by the user)."""
    prior = config.camera
    intrinsics = prior.intrinsics.scaled(factor) if prior.intrinsics is not None else None
    estimate = estimate_camera(frame, prior, intrinsics, config.table_size_m, config.camera_given)
    report.camera = estimate.to_dict()
    # the prior's intrinsics are in the video's pixels; build_stages scales them
    return replace(config, camera=estimate.prior(prior.intrinsics), estimate_camera=False)


def _hold_missing(poses: list[Pose | None]) -> tuple[list[Pose] | None, int]:
    known = [i for i, p in enumerate(poses) if p is not None]
    if not known:
        return None, 0
    idx = np.array(known)
    out = [poses[int(idx[np.argmin(np.abs(idx - k))])] for k in range(len(poses))]
    return out, len(poses) - len(known)


def _fail(rep: ObjectReport, stage: str, exc: Exception, strict: bool) -> None:
    rep.ok, rep.failed_stage, rep.error = False, stage, str(exc)
    log.warning("object '%s' failed at %s: %s", rep.name, stage, exc)
    if strict:
        raise exc if isinstance(exc, ReconstructionError) else ReconstructionError(str(exc))


def _raise_all_failed(report: ReconstructionReport, video_path: Path | str) -> None:
    details = "; ".join(f"{n} ({r.failed_stage}): {r.error}" for n, r in report.objects.items())
    raise ReconstructionError(f"{video_path}: no object could be reconstructed: {details}")


class _Timer:
    """Adds each stage's wall time to ``seconds`` and remembers the stage being run."""

    def __init__(self, seconds: dict[str, float]) -> None:
        self.seconds = seconds
        self.current: str | None = None

    def __call__(self, stage: str) -> "_Timer":
        self.current = stage
        return self

    def __enter__(self) -> None:
        self._start = time.perf_counter()

    def __exit__(self, exc_type, exc, tb) -> None:
        self.seconds[self.current] = self.seconds.get(self.current, 0.0) + time.perf_counter() - self._start
        if exc_type is None:
            self.current = None
