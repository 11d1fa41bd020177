"""Metric depth from a ``transformers`` depth network: DepthPro (depth + field of view) or a
metric Depth Anything / ZoeDepth / DPT-style model (depth; intrinsics from the camera prior).

DepthPro's ``predicted_depth`` is a canonical inverse depth; with focal length f (from the
given intrinsics, else from its predicted field of view) and image width W the metric depth is
``1 / (predicted * W / f)``, as in its image processor's post-processing. Frames are resized and
normalised here (the fast image processors need torchvision).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from generator.reconstruct.depth import CameraPrior
from generator.reconstruct.geometry import Intrinsics
from generator.reconstruct.models.hub import load_pretrained
from generator.reconstruct.stages import DepthResult

__all__ = ["TransformersDepth"]

log = logging.getLogger(__name__)

_IMAGENET = (np.array([0.485, 0.456, 0.406], np.float32), np.array([0.229, 0.224, 0.225], np.float32))
_HALF = (np.array([0.5, 0.5, 0.5], np.float32), np.array([0.5, 0.5, 0.5], np.float32))


@dataclass
class TransformersDepth:
    model: Any
    camera: CameraPrior = CameraPrior()
    device: str = "cpu"
    progress: bool = True

    @classmethod
    def load(cls, source: str | Path, cache_dir: Path | None = None, device: str = "cpu",
             camera: CameraPrior = CameraPrior(), progress: bool = True) -> "TransformersDepth":
        from transformers import AutoModelForDepthEstimation

        model = load_pretrained(AutoModelForDepthEstimation, source, "metric depth model", "--depth-model", cache_dir)
        return cls(model.to(device).eval(), camera, device, progress)

    @property
    def is_depth_pro(self) -> bool:
        return self.model.config.model_type == "depth_pro"

    def input_size(self) -> tuple[int, int]:
        """(height, width) the network is fed with."""
        cfg = self.model.config
        if self.is_depth_pro:
            side = int(round(cfg.patch_size / min(cfg.scaled_images_ratios)))
            return side, side
        backbone = getattr(cfg, "backbone_config", None)
        side = int(getattr(backbone, "image_size", 518) or 518)
        patch = int(getattr(backbone, "patch_size", 14) or 14)
        side = max(patch, side // patch * patch)
        return side, side

    def estimate(self, frames: np.ndarray, masks: dict[str, np.ndarray]) -> DepthResult:
        import torch

        t, h, w = frames.shape[:3]
        size = self.input_size()
        mean, std = _HALF if self.is_depth_pro else _IMAGENET
        given = self.camera.intrinsics
        depth = np.empty((t, h, w), np.float32)
        fovs = []
        with torch.no_grad():
            for k in tqdm(range(t), desc="depth", disable=not self.progress, leave=False):
                image = cv2.resize(frames[k], (size[1], size[0]), interpolation=cv2.INTER_AREA).astype(np.float32)
                x = torch.from_numpy(((image / 255.0 - mean) / std).transpose(2, 0, 1)[None]).to(self.device)
                out = self.model(pixel_values=x)
                pred = out.predicted_depth[0].float().cpu().numpy()
                pred = cv2.resize(pred, (w, h), interpolation=cv2.INTER_LINEAR)
                if self.is_depth_pro:
                    fov = getattr(out, "field_of_view", None)
                    if fov is not None:
                        fovs.append(float(fov.reshape(-1)[0]))
                    focal = (given or _from_fov(w, h, fovs[-1] if fovs else None) or self.camera.resolve(w, h)).fx
                    pred = 1.0 / np.clip(pred * w / focal, 1e-4, 1e4)
                depth[k] = pred
        intrinsics = given or self._intrinsics(w, h, fovs)
        if not np.isfinite(depth).all():
            log.warning("depth model returned non-finite values on %d pixels", int((~np.isfinite(depth)).sum()))
        return DepthResult(depth, intrinsics, None)

    def _intrinsics(self, w: int, h: int, fovs: list[float]) -> Intrinsics:
        fov = float(np.median(fovs)) if fovs else None
        found = _from_fov(w, h, fov)
        if found is None and fov is not None:
            log.warning("depth model predicted a field of view of %.1f deg; using the default %.0f deg",
                        fov, self.camera.horizontal_fov_deg)
        return found or self.camera.resolve(w, h)


def _from_fov(w: int, h: int, fov: float | None) -> Intrinsics | None:
    return Intrinsics.from_fov(w, h, fov) if fov is not None and 1.0 < fov < 179.0 else None
