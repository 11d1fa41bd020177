"""Offline segmentation and tracking: GrabCut in the box on frame 0, then each mask is carried to
the next frame by dense optical flow (Farneback) and re-cut by GrabCut around the warped mask.

The real-model segmenter (SAM 2 video) is ``generator.reconstruct.models.sam2``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np
from tqdm import tqdm

from generator.reconstruct.stages import Box

__all__ = ["GrabCutFlowSegmenter", "grabcut_box", "mask_iou"]

log = logging.getLogger(__name__)


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def grabcut_box(image: np.ndarray, box: Box, iterations: int = 5) -> np.ndarray:
    """GrabCut initialised with a rectangle; the largest connected component of the result."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = box.as_int(w, h)
    gc = np.zeros((h, w), np.uint8)
    if x1 - x0 < 3 or y1 - y0 < 3:
        gc[y0:y1, x0:x1] = 1
        return gc.astype(bool)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(_bgr(image), gc, (x0, y0, x1 - x0, y1 - y0), bgd, fgd, iterations, cv2.GC_INIT_WITH_RECT)
    return _largest_component((gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD))


@dataclass
class GrabCutFlowSegmenter:
    """``margin`` (pixels) is the band around the warped mask that GrabCut may re-label;
    ``min_area`` (pixels) is the smallest mask still counted as the object (else: lost)."""

    iterations: int = 3
    margin: int = 8
    min_area: int = 12
    progress: bool = True

    def segment(self, frames: np.ndarray, boxes: dict[str, Box]) -> dict[str, np.ndarray]:
        # GrabCut's k-means draws from OpenCV's global generator: seed it, so that a video's masks do
        # not depend on what this process segmented before
        cv2.setRNGSeed(0)
        t, h, w = frames.shape[:3]
        gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
        masks = {name: np.zeros((t, h, w), bool) for name in boxes}
        for name, box in boxes.items():
            first = grabcut_box(frames[0], box)
            if first.sum() >= self.min_area:
                masks[name][0] = first
            else:
                log.warning("segment: GrabCut found no foreground for '%s' in box %s on frame 0", name, box)
        bgd = {n: np.zeros((1, 65), np.float64) for n in boxes}
        fgd = {n: np.zeros((1, 65), np.float64) for n in boxes}
        for k in tqdm(range(1, t), desc="segment+track", disable=not self.progress, leave=False):
            flow = cv2.calcOpticalFlowFarneback(gray[k], gray[k - 1], None, 0.5, 3, 15, 3, 5, 1.2, 0)
            for name in boxes:
                prev = masks[name][k - 1]
                if prev.sum() < self.min_area:
                    continue  # lost: stays empty
                warped = _warp_mask(prev, flow)
                masks[name][k] = self._recut(frames[k], warped, bgd[name], fgd[name])
        # An object is occluded, not absent, when others overlap it: give each pixel to one object.
        _resolve_overlaps(masks)
        for name, m in masks.items():
            lost = int((m.sum(axis=(1, 2)) < self.min_area).sum())
            if lost:
                log.info("segment: '%s' lost (or fully hidden) in %d of %d frames", name, lost, t)
        return masks

    def _recut(self, image: np.ndarray, warped: np.ndarray, bgd: np.ndarray, fgd: np.ndarray) -> np.ndarray:
        if warped.sum() < self.min_area:
            return warped
        h, w = warped.shape
        kernel = np.ones((3, 3), np.uint8)
        inner = cv2.erode(warped.astype(np.uint8), kernel, iterations=2).astype(bool)
        outer = cv2.dilate(warped.astype(np.uint8), kernel, iterations=self.margin).astype(bool)
        gc = np.full((h, w), cv2.GC_BGD, np.uint8)
        gc[outer] = cv2.GC_PR_BGD
        gc[warped] = cv2.GC_PR_FGD
        gc[inner] = cv2.GC_FGD
        x0, y0, x1, y1 = Box.from_mask(outer).as_int(w, h)
        pad = 4
        x0, y0, x1, y1 = max(0, x0 - pad), max(0, y0 - pad), min(w, x1 + pad), min(h, y1 + pad)
        crop = gc[y0:y1, x0:x1].copy()
        if not (crop == cv2.GC_BGD).any() and not (crop == cv2.GC_PR_BGD).any():
            return warped
        try:
            cv2.grabCut(_bgr(image[y0:y1, x0:x1]), crop, None, bgd, fgd, self.iterations, cv2.GC_INIT_WITH_MASK)
        except cv2.error:
            return warped
        out = np.zeros((h, w), bool)
        out[y0:y1, x0:x1] = (crop == cv2.GC_FGD) | (crop == cv2.GC_PR_FGD)
        return _largest_component(out)


def _warp_mask(mask: np.ndarray, backward_flow: np.ndarray) -> np.ndarray:
    """Pull the previous mask into the current frame with flow from current to previous."""
    h, w = mask.shape
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    mx, my = xs + backward_flow[..., 0], ys + backward_flow[..., 1]
    return cv2.remap(mask.astype(np.float32), mx, my, cv2.INTER_LINEAR) > 0.5


def _resolve_overlaps(masks: dict[str, np.ndarray]) -> None:
    names = list(masks)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            both = masks[a] & masks[b]
            if both.any():
                # the smaller mask usually is the nearer, occluding object
                for k in np.nonzero(both.any(axis=(1, 2)))[0]:
                    small, big = (a, b) if masks[a][k].sum() <= masks[b][k].sum() else (b, a)
                    masks[big][k] &= ~masks[small][k]


def _largest_component(mask: np.ndarray) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8))
    if count <= 1:
        return mask.astype(bool)
    best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return labels == best


def _bgr(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image[:, :, ::-1])
