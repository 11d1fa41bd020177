"""Reconstruction: RGB video + caption -> SceneSpec with meshes, metric sizes and 6D pose tracks.

``reconstruct(video, caption, object_names, ReconstructConfig(out_dir=...))`` writes
``scene.json`` (poses in the table frame, see ``geometry.robot_table_frame``), ``meshes/<name>.obj``, ``urdf/<name>.urdf`` and
``report.json``. Stages and their two implementations each: see ``stages.py`` and docs/architecture.md.
"""
from generator.reconstruct.config import ModelsConfig, ReconstructConfig
from generator.reconstruct.depth import CameraPrior
from generator.reconstruct.geometry import Intrinsics
from generator.reconstruct.pipeline import ReconstructionReport, ReconstructionResult, reconstruct, run_pipeline
from generator.reconstruct.stages import (
    CaptionMismatchError,
    ObjectNotFoundError,
    ReconstructionError,
    VideoError,
)

__all__ = [
    "CameraPrior", "CaptionMismatchError", "Intrinsics", "ModelsConfig", "ObjectNotFoundError",
    "ReconstructConfig", "ReconstructionError", "ReconstructionReport", "ReconstructionResult", "VideoError",
    "reconstruct", "run_pipeline",
]
