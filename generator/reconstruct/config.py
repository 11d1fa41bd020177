"""Reconstruction settings and the choice of one implementation per stage."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from generator.reconstruct.depth import CameraPrior, TablePlaneDepth
from generator.reconstruct.detect import (MotionDetector, PromptBoxDetector, PromptedDetector, load_prompt_boxes,
                                          prompt_source)
from generator.reconstruct.mesh import PrimitiveFitMeshBuilder
from generator.reconstruct.pose import FlowPnPTracker
from generator.reconstruct.segment import GrabCutFlowSegmenter
from generator.reconstruct.stages import Box, DepthEstimator, Detector, MeshBuilder, PoseTracker, Segmenter

__all__ = ["BACKENDS", "ModelsConfig", "ReconstructConfig", "Stages", "build_stages"]

BACKENDS = ("offline", "models")


@dataclass
class ModelsConfig:
    """Where the real models come from: a hub id or a local folder each (``transformers``), and
    external checkouts for InstantMesh and FoundationPose (None: use the offline stage instead).
    ``cache_dir`` holds downloaded weights; with ``HF_HUB_OFFLINE=1`` nothing is downloaded."""

    detector: str = "IDEA-Research/grounding-dino-tiny"
    segmenter: str = "facebook/sam2.1-hiera-tiny"
    depth: str = "apple/DepthPro-hf"
    instantmesh_dir: Path | None = None
    foundationpose_dir: Path | None = None
    cache_dir: Path | None = None
    device: str = "cpu"
    box_threshold: float = 0.3


@dataclass
class ReconstructConfig:
    """``backend`` "offline" runs the classical stages, "models" the real-model adapters (with
    the prompt boxes, when given, in place of the detector for the objects they name).
    ``prompts`` is inline JSON (a string starting with ``{``) or a JSON file. ``max_side`` downsizes the video
    (intrinsics and prompt boxes are scaled with it). ``shape_prior`` lets the offline mesh fit use the
catalogue shape of an object named like one (``generator.assets``). ``strict`` makes one
object's failure fatal."""

    out_dir: Path
    backend: str = "offline"
    prompts: Path | str | None = None
    camera: CameraPrior = field(default_factory=CameraPrior)
    models: ModelsConfig = field(default_factory=ModelsConfig)
    max_frames: int | None = None
    max_side: int | None = 640
    density: float = 500.0
    shape_prior: bool = True
    #: Convex collision parts (CoACD, seconds per concave object) and an MJCF per object.
    collision: bool = True
    strict: bool = False
    progress: bool = True
    #: estimate the camera (field of view, pitch, height) from the table in the first frame
    #: (``generator.reconstruct.camera``) instead of taking ``camera`` as it is; quantities named
    #: in ``camera_given`` ("fov", "pitch", "height") are kept from ``camera``
    estimate_camera: bool = False
    camera_given: tuple[str, ...] = ()
    #: the table's side length in metres when known: the metric cue for the camera height
    table_size_m: float | None = None

    def __post_init__(self) -> None:
        self.out_dir = Path(self.out_dir)
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {self.backend!r}")
        unknown = set(self.camera_given) - {"fov", "pitch", "height"}
        if unknown:
            raise ValueError(f"camera_given: expected some of 'fov', 'pitch', 'height', got {sorted(unknown)}")
        if self.table_size_m is not None and not self.table_size_m > 0:
            raise ValueError(f"table size must be a positive length in metres, got {self.table_size_m}")


@dataclass
class Stages:
    detector: Detector
    segmenter: Segmenter
    depth: DepthEstimator
    mesh: MeshBuilder
    pose: PoseTracker


def build_stages(config: ReconstructConfig, pixel_scale: float = 1.0) -> Stages:
    """The implementation of each stage for ``config``; ``pixel_scale`` is the video's resize
    factor, applied to prompt boxes and given intrinsics."""
    camera = config.camera
    if camera.intrinsics is not None and pixel_scale != 1.0:
        camera = replace(camera, intrinsics=camera.intrinsics.scaled(pixel_scale))
    boxes: dict[str, Box] = {}
    if config.prompts is not None:
        boxes = {name: Box(b.x0 * pixel_scale, b.y0 * pixel_scale, b.x1 * pixel_scale, b.y1 * pixel_scale)
                 for name, b in load_prompt_boxes(config.prompts).items()}

    def with_prompts(make_rest: Callable[[], Detector]) -> Detector:
        if not boxes:
            return make_rest()
        return PromptedDetector(PromptBoxDetector(boxes, source=prompt_source(config.prompts)), make_rest)

    if config.backend == "offline":
        return Stages(
            detector=with_prompts(lambda: MotionDetector(exclude=list(boxes.values()))),
            segmenter=GrabCutFlowSegmenter(progress=config.progress),
            depth=TablePlaneDepth(camera),
            mesh=PrimitiveFitMeshBuilder(catalogue=config.shape_prior),
            pose=FlowPnPTracker(progress=config.progress),
        )
    from generator.reconstruct.models import depth, external, grounding_dino, sam2

    m = config.models
    return Stages(
        detector=with_prompts(lambda: grounding_dino.GroundingDinoDetector.load(m.detector, m.cache_dir, m.device,
                                                                                m.box_threshold)),
        segmenter=sam2.Sam2VideoSegmenter.load(m.segmenter, m.cache_dir, m.device, progress=config.progress),
        depth=depth.TransformersDepth.load(m.depth, m.cache_dir, m.device, camera=camera,
                                           progress=config.progress),
        mesh=(external.InstantMeshBuilder(m.instantmesh_dir) if m.instantmesh_dir
              else PrimitiveFitMeshBuilder(catalogue=config.shape_prior)),
        pose=(external.FoundationPoseTracker(m.foundationpose_dir) if m.foundationpose_dir
              else FlowPnPTracker(progress=config.progress)),
    )
