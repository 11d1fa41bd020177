"""The contracts between reconstruction stages: data passed along and one protocol per stage.

Every stage has a real-model implementation (``generator.reconstruct.models``) and an offline
implementation (the stage's own module); the pipeline only sees these protocols.
Arrays follow OpenCV conventions: frames are ``uint8 [T, H, W, 3]`` RGB, masks ``bool [T, H, W]``,
depth ``float32 [T, H, W]`` in metres (NaN where unknown), boxes ``(x0, y0, x1, y1)`` in pixels.
Camera coordinates are OpenCV's: x right, y down, z forward.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence

import numpy as np
import trimesh

from generator.reconstruct.geometry import Intrinsics, Plane, Pose

__all__ = [
    "ReconstructionError", "VideoError", "ObjectNotFoundError", "CaptionMismatchError",
    "Box", "Detection", "DepthResult", "MeshResult", "Detector", "Segmenter", "DepthEstimator",
    "MeshBuilder", "PoseTracker",
]


class ReconstructionError(RuntimeError):
    """Reconstruction cannot go on; the message says which input, which object and what to do."""


class VideoError(ReconstructionError):
    """The video cannot be read or has no frames."""


class ObjectNotFoundError(ReconstructionError):
    """A stage found no trace of one named object."""

    def __init__(self, name: str, stage: str, problem: str) -> None:
        self.name = name
        self.stage = stage
        super().__init__(f"object '{name}' never found ({stage}): {problem}")


class CaptionMismatchError(ReconstructionError):
    """The object names do not agree with the caption."""


@dataclass(frozen=True)
class Box:
    """An axis-aligned pixel box on one frame, with the detector's confidence."""

    x0: float
    y0: float
    x1: float
    y1: float
    score: float = 1.0

    def __post_init__(self) -> None:
        if not (self.x1 > self.x0 and self.y1 > self.y0):
            raise ValueError(f"empty box ({self.x0}, {self.y0}, {self.x1}, {self.y1}): need x1 > x0 and y1 > y0")

    def as_int(self, width: int, height: int) -> tuple[int, int, int, int]:
        """Integer corners clipped to the image."""
        x0 = int(np.clip(np.floor(self.x0), 0, width - 1))
        y0 = int(np.clip(np.floor(self.y0), 0, height - 1))
        x1 = int(np.clip(np.ceil(self.x1), x0 + 1, width))
        y1 = int(np.clip(np.ceil(self.y1), y0 + 1, height))
        return x0, y0, x1, y1

    @classmethod
    def from_mask(cls, mask: np.ndarray) -> "Box":
        ys, xs = np.nonzero(mask)
        if len(xs) == 0:
            raise ValueError("cannot take the box of an empty mask")
        return cls(float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))


@dataclass
class Detection:
    """Boxes on frame 0 for the names found, and for each name not found the reason."""

    boxes: dict[str, Box]
    misses: dict[str, str] = field(default_factory=dict)


@dataclass
class DepthResult:
    """Metric depth per frame and the camera it was measured with.

    ``table_plane`` is the supporting plane in camera coordinates when the estimator knows it
    (the offline prior does; a depth network leaves it ``None``).
    """

    depth: np.ndarray
    intrinsics: Intrinsics
    table_plane: Plane | None = None


@dataclass
class MeshResult:
    """A mesh for one object.

    ``metric`` says whether the vertices are already in metres (a primitive fitted on the table
    plane) or only up to scale (a generative model's output, which the paper's rho rescales).
    ``pose`` is the object's pose on the mesh frame in camera coordinates when the builder knows it.
    """

    mesh: trimesh.Trimesh
    metric: bool
    kind: str
    frame_index: int
    pose: Pose | None = None
    details: dict[str, Any] = field(default_factory=dict)  # the builder's scores, for report.json


class Detector(Protocol):
    def detect(self, frames: np.ndarray, names: Sequence[str]) -> Detection:
        """A box on frame 0 per name found; a reason per name not found."""


class Segmenter(Protocol):
    def segment(self, frames: np.ndarray, boxes: dict[str, Box]) -> dict[str, np.ndarray]:
        """A ``bool [T, H, W]`` mask track per boxed object (empty where it is lost)."""


class DepthEstimator(Protocol):
    def estimate(self, frames: np.ndarray, masks: dict[str, np.ndarray]) -> DepthResult:
        """Metric depth for every frame (the masks let a prior model the objects)."""


class MeshBuilder(Protocol):
    def build(self, frames: np.ndarray, name: str, mask: np.ndarray, depth: DepthResult,
              others: np.ndarray | None = None) -> MeshResult:
        """A mesh of the object from one frame (first, or last when the first is occluded).
        ``others``: the other objects' masks per frame (where they may hide this one), or None."""


class PoseTracker(Protocol):
    def track(self, frames: np.ndarray, mask: np.ndarray, depth: DepthResult, mesh: MeshResult,
              others: np.ndarray | None = None) -> list[Pose | None]:
        """The object's pose (metric mesh frame -> camera) per frame; None where it was lost.
        ``others``: the other objects' masks per frame (where they may hide this one), or None."""
