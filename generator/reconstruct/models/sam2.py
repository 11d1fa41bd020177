"""SAM 2 video segmentation and tracking (paper Sec. 3.1): the detected box segments each object
on frame 0, five positive points are picked inside that mask, and box + points are propagated
through the video.

The video processor of ``transformers`` needs torchvision, which we do not install, so frames
are resized and normalised here and the inference session is filled by hand.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from generator.reconstruct.models.hub import load_pretrained
from generator.reconstruct.stages import Box

__all__ = ["Sam2VideoSegmenter", "positive_points"]

log = logging.getLogger(__name__)

_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
_STD = np.array([0.229, 0.224, 0.225], np.float32)


def positive_points(mask: np.ndarray, box: Box, count: int = 5) -> np.ndarray:
    """``count`` points spread over the mask's interior (farthest-point sampling from the pixel
    deepest inside it); the box centre region when the mask is empty. Pixel (x, y) coordinates."""
    if mask.sum() < count:
        cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
        dx, dy = (box.x1 - box.x0) / 6, (box.y1 - box.y0) / 6
        return np.array([[cx, cy], [cx - dx, cy], [cx + dx, cy], [cx, cy - dy], [cx, cy + dy]][:count], np.float32)
    inside = cv2.distanceTransform(np.pad(mask, 1).astype(np.uint8), cv2.DIST_L2, 3)[1:-1, 1:-1]
    ys, xs = np.nonzero(inside >= max(1.0, 0.3 * inside.max()))
    candidates = np.stack([xs, ys], axis=1).astype(np.float32)
    chosen = [candidates[int(np.argmax(inside[ys, xs]))]]
    dist = np.linalg.norm(candidates - chosen[0], axis=1)
    while len(chosen) < min(count, len(candidates)):
        chosen.append(candidates[int(np.argmax(dist))])
        dist = np.minimum(dist, np.linalg.norm(candidates - chosen[-1], axis=1))
    return np.array(chosen, np.float32)


@dataclass
class Sam2VideoSegmenter:
    model: Any
    device: str = "cpu"
    num_points: int = 5
    progress: bool = True

    @classmethod
    def load(cls, source: str | Path, cache_dir: Path | None = None, device: str = "cpu",
             progress: bool = True) -> "Sam2VideoSegmenter":
        from transformers import Sam2VideoModel

        model = load_pretrained(Sam2VideoModel, source, "SAM 2 video model", "--segmenter-model", cache_dir)
        return cls(model.to(device).eval(), device, progress=progress)

    def segment(self, frames: np.ndarray, boxes: dict[str, Box]) -> dict[str, np.ndarray]:
        import torch
        from transformers.models.sam2_video.modeling_sam2_video import Sam2VideoInferenceSession

        t, h, w = frames.shape[:3]
        size = int(self.model.config.image_size)
        video = torch.from_numpy(np.stack([self._preprocess(f, size) for f in frames]))
        session = Sam2VideoInferenceSession(video=video, video_height=h, video_width=w, inference_device=self.device,
                                            inference_state_device=self.device, video_storage_device=self.device,
                                            dtype=torch.float32)
        names = list(boxes)
        scale = np.array([size / w, size / h], np.float32)
        with torch.no_grad():
            # 1) the box alone gives the frame-0 mask, 2) box + 5 points inside it are propagated
            first = self._prompt(session, boxes, {n: np.empty((0, 2), np.float32) for n in names}, scale)
            points = {n: positive_points(first[i], boxes[n], self.num_points) for i, n in enumerate(names)}
            self._prompt(session, boxes, points, scale)
            masks = {n: np.zeros((t, h, w), bool) for n in names}
            for out in tqdm(self.model.propagate_in_video_iterator(session, start_frame_idx=0), total=t,
                            desc="SAM 2 propagate", disable=not self.progress, leave=False):
                logits = torch.nn.functional.interpolate(out.pred_masks.float(), size=(h, w), mode="bilinear",
                                                         align_corners=False)
                for i, n in enumerate(names):
                    masks[n][out.frame_idx] = (logits[i, 0] > 0).cpu().numpy()
        return masks

    def _prompt(self, session: Any, boxes: dict[str, Box], points: dict[str, np.ndarray],
                scale: np.ndarray) -> np.ndarray:
        """Put box (+ points) prompts on frame 0 and return the frame-0 masks ``[objects, h, w]``."""
        import torch

        for obj_id, (name, box) in enumerate(boxes.items(), start=1):
            coords = np.vstack([[box.x0, box.y0], [box.x1, box.y1], points[name]]) * scale
            labels = [2, 3] + [1] * len(points[name])  # 2, 3: box corners; 1: positive point
            session.add_point_inputs(session.obj_id_to_idx(obj_id), 0, {
                "point_coords": torch.tensor(coords, dtype=torch.float32)[None, None],
                "point_labels": torch.tensor(labels, dtype=torch.int32)[None, None],
            })
        session.obj_with_new_inputs = list(range(1, len(boxes) + 1))
        out = self.model(inference_session=session, frame_idx=0)
        h, w = session.video_height, session.video_width
        logits = torch.nn.functional.interpolate(out.pred_masks.float(), size=(h, w), mode="bilinear",
                                                 align_corners=False)
        return (logits[:, 0] > 0).cpu().numpy()

    @staticmethod
    def _preprocess(frame: np.ndarray, size: int) -> np.ndarray:
        image = cv2.resize(frame, (size, size), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.0
        return ((image - _MEAN) / _STD).transpose(2, 0, 1)
