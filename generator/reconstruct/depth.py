"""Offline metric depth: a table-plane prior.

The camera is given (intrinsics, or a default field of view) together with its height above the
table and its downward pitch. Table pixels take the depth where their ray meets the plane. An
object's pixels take the depth of the vertical line standing on the table at the object's contact
point in their image column (the lowest mask pixel of that column): exact for vertical faces that
touch the table, an over-estimate of height for top faces, and wrong for an object in the air
(its lowest pixel does not touch the table). Real depth comes from
``generator.reconstruct.models.depth``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from generator.reconstruct.geometry import Intrinsics, Plane, pixel_rays, table_plane_from_camera
from generator.reconstruct.stages import DepthResult

__all__ = ["CameraPrior", "TablePlaneDepth"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CameraPrior:
    """What the offline pipeline assumes about the camera. ``intrinsics`` None means a pinhole
    with ``horizontal_fov_deg`` and the principal point at the image centre."""

    intrinsics: Intrinsics | None = None
    horizontal_fov_deg: float = 60.0
    camera_height_m: float = 0.5
    camera_pitch_deg: float = 45.0

    def resolve(self, width: int, height: int) -> Intrinsics:
        if self.intrinsics is not None:
            return self.intrinsics
        return Intrinsics.from_fov(width, height, self.horizontal_fov_deg)

    @property
    def plane(self) -> Plane:
        return table_plane_from_camera(self.camera_height_m, self.camera_pitch_deg)


@dataclass
class TablePlaneDepth:
    camera: CameraPrior = CameraPrior()

    def estimate(self, frames: np.ndarray, masks: dict[str, np.ndarray]) -> DepthResult:
        t, h, w = frames.shape[:3]
        intr = self.camera.resolve(w, h)
        plane = self.camera.plane
        vs, us = np.mgrid[0:h, 0:w]
        table = plane.ray_depth(pixel_rays(intr, us.ravel(), vs.ravel())).reshape(h, w).astype(np.float32)
        depth = np.repeat(table[None], t, axis=0)
        for mask in masks.values():
            for k in range(t):
                if mask[k].any():
                    depth[k][mask[k]] = contact_column_depth(mask[k], intr, plane)
        if np.isnan(table).mean() > 0.5:
            log.warning("table-plane prior: %.0f%% of the image is above the horizon; check the camera "
                        "pitch (%s deg) and height", 100 * np.isnan(table).mean(), self.camera.camera_pitch_deg)
        return DepthResult(depth, intr, plane)


def contact_column_depth(mask: np.ndarray, intr: Intrinsics, plane: Plane) -> np.ndarray:
    """Depth of the masked pixels (in ``np.nonzero`` order) on vertical lines standing on the
    table at each column's lowest mask pixel."""
    vs, us = np.nonzero(mask)
    bottom = np.full(mask.shape[1], -1)
    np.maximum.at(bottom, us, vs)
    cols = np.nonzero(bottom >= 0)[0]
    contact_rays = pixel_rays(intr, cols, bottom[cols])
    contact = contact_rays * plane.ray_depth(contact_rays)[:, None]
    points = np.full((mask.shape[1], 3), np.nan)
    points[cols] = contact
    p = points[us]
    r = pixel_rays(intr, us, vs)
    n = np.asarray(plane.normal)
    # closest approach of the ray z*r to the line p + s*n: solve [r, -n] [z, s]^T ~= p
    rr, rn, nn = (r * r).sum(1), r @ n, 1.0
    rp, np_ = (r * p).sum(1), p @ n
    det = rr * nn - rn * rn
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (rp * nn - rn * np_) / det
    return np.where(z > 0, z, np.nan).astype(np.float32)
