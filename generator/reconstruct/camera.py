"""Estimate the camera over the table from the video: field of view, pitch and height.

The table top is the largest smooth region of the first frame (grown from several seeds with a
floating colour range, so shading does not stop it and its edges do); its outline is a convex
quadrilateral clipped by the image. Its edges that do not run along the image border are the
table's sides seen in perspective. With the camera level (no roll, as a person films):

- two opposite sides meet on the horizon: its row gives ``f * tan(pitch)``;
- a side of the other pair meets the horizon at a second vanishing point; the two directions are
  perpendicular on the table, so ``f^2 = -(u1 - cx)(u2 - cx) - (v_h - cy)^2``;
- with f and the pitch known, the table plane is known up to the camera height; two opposite
  sides of a table of known size (``table_size_m``) fix it.

What cannot be measured falls back to the prior (``CameraPrior``), and every figure says where it
came from. Metric scale from one RGB video needs such a reference (a known length, a metric depth
model on the models backend, or the user's ``--camera-height``).
"""
from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field

import cv2
import numpy as np

from generator.reconstruct.depth import CameraPrior
from generator.reconstruct.geometry import Intrinsics, pixel_rays, table_plane_from_camera

__all__ = ["CameraEstimate", "TableOutline", "table_outline", "estimate_camera"]

log = logging.getLogger(__name__)


@dataclass
class TableOutline:
    """The table top on one frame: its mask and the visible sides as pixel segments."""

    mask: np.ndarray = field(repr=False)
    #: the smooth region itself (the mask is its convex hull): objects on the table are its holes
    region: np.ndarray = field(repr=False)
    #: each side: ((u0, v0), (u1, v1)), in the polygon's order
    sides: list[tuple[tuple[float, float], tuple[float, float]]]
    #: per side, 0 or 1: sides with the same number are opposite sides (parallel on the table)
    family: list[int]

    def pairs(self) -> list[tuple[int, int]]:
        """Index pairs of opposite sides."""
        return [(i, j) for i in range(len(self.sides)) for j in range(i + 1, len(self.sides))
                if self.family[i] == self.family[j]]


@dataclass
class CameraEstimate:
    horizontal_fov_deg: float
    pitch_deg: float
    height_m: float
    #: per quantity: "vanishing points", "table size", "given" or "prior"
    sources: dict[str, str]
    horizon_row: float | None = None
    table_sides: int = 0

    def prior(self, intrinsics: Intrinsics | None = None) -> CameraPrior:
        """The camera prior the offline depth uses, with these figures."""
        return CameraPrior(intrinsics, self.horizontal_fov_deg, self.height_m, self.pitch_deg)

    def to_dict(self) -> dict:
        return asdict(self)


def table_outline(frame: np.ndarray, min_area_fraction: float = 0.05, step: float = 2.5) -> TableOutline | None:
    """The table top of ``frame`` (uint8 RGB), or None when no large smooth region is found.

    The region is grown from seeds near the image centre (a person films what is on the table),
    so the floor or a wall around the table is not taken for it."""
    h, w = frame.shape[:2]
    image = cv2.GaussianBlur(frame, (3, 3), 0)
    # edges are walls for the fill: where the top meets a side face or the floor in a soft
    # gradient, the floating range alone would leak through
    edges = cv2.Canny(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), 20, 50) > 0
    best, best_area = None, 0
    for fx, fy in ((0.5, 0.5), (0.42, 0.5), (0.58, 0.5), (0.5, 0.6), (0.5, 0.4), (0.4, 0.62), (0.6, 0.62)):
        seed = (int(fx * (w - 1)), int(fy * (h - 1)))
        mask = np.zeros((h + 2, w + 2), np.uint8)
        mask[1:-1, 1:-1][edges] = 1
        if edges[seed[1], seed[0]]:
            continue
        flags = 4 | cv2.FLOODFILL_MASK_ONLY | (255 << 8)
        cv2.floodFill(image.copy(), mask, seed, (0, 0, 0), (step,) * 3, (step,) * 3, flags)
        region = mask[1:-1, 1:-1] == 255
        area = int(region.sum())
        if area > best_area:
            best, best_area = region, area
    if best is None or best_area < min_area_fraction * h * w:
        return None
    # objects on the table are holes in the region: the table top is the region's convex hull
    contours, _ = cv2.findContours(best.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    hull = cv2.convexHull(max(contours, key=cv2.contourArea))
    filled = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(filled, hull, 1)
    poly = cv2.approxPolyDP(hull, 0.01 * (h + w), True).reshape(-1, 2).astype(np.float64)
    n = len(poly)
    visible = []  # (polygon index, side)
    for i in range(n):
        a, b = poly[i], poly[(i + 1) % n]
        if not _on_same_border(a, b, w, h) and np.linalg.norm(b - a) > 0.12 * min(w, h):
            visible.append((i, (tuple(a), tuple(b))))
    family = [0] * len(visible)
    for k in range(1, len(visible)):
        (i0, s0), (i1, s1) = visible[k - 1], visible[k]
        corner = i1 == (i0 + 1) % n or _corner_angle(s0, s1) > 90.0
        family[k] = 1 - family[k - 1] if corner else family[k - 1]
    return TableOutline(filled.astype(bool), best, [s for _, s in visible], family)


def _corner_angle(s0, s1) -> float:
    """Angle in degrees at the meeting point of two sides, between the rays towards each side.

    A corner of the table top seen from above is wide (about 90 degrees or more); two opposite
    sides meet far away at a narrow angle."""
    meet = _meet(_line(s0), _line(s1))
    if meet is None:
        return 0.0
    rays = []
    for side in (s0, s1):
        a, b = np.asarray(side[0]), np.asarray(side[1])
        far = a if np.linalg.norm(a - meet) > np.linalg.norm(b - meet) else b
        rays.append((far - meet) / (np.linalg.norm(far - meet) + 1e-9))
    return math.degrees(math.acos(float(np.clip(rays[0] @ rays[1], -1.0, 1.0))))


def _on_same_border(a: np.ndarray, b: np.ndarray, w: int, h: int, tol: float = 5.0) -> bool:
    return bool((a[0] < tol and b[0] < tol) or (a[0] > w - 1 - tol and b[0] > w - 1 - tol)
                or (a[1] < tol and b[1] < tol) or (a[1] > h - 1 - tol and b[1] > h - 1 - tol))


def _line(side: tuple[tuple[float, float], tuple[float, float]]) -> np.ndarray:
    (u0, v0), (u1, v1) = side
    return np.cross([u0, v0, 1.0], [u1, v1, 1.0])


def _meet(l1: np.ndarray, l2: np.ndarray) -> np.ndarray | None:
    p = np.cross(l1, l2)
    return None if abs(p[2]) < 1e-9 else p[:2] / p[2]


def estimate_camera(frame: np.ndarray, prior: CameraPrior = CameraPrior(), intrinsics: Intrinsics | None = None,
                    table_size_m: float | None = None, given: tuple[str, ...] = ()) -> CameraEstimate:
    """Field of view, pitch and height of a level camera over the table in ``frame``.

    ``given`` names the quantities the user fixed ("fov", "pitch", "height"): they are kept from
    ``prior`` (the field of view also when ``intrinsics`` are given). ``table_size_m``: the length
    of the table's sides, when known (one number: a square top, or the side seen in pairs)."""
    h, w = frame.shape[:2]
    sources = {q: "given" for q in given}
    fov_known = intrinsics is not None or "fov" in given
    if intrinsics is not None:
        sources["fov"] = "given"
    intr = intrinsics or prior.resolve(w, h)
    f, cx, cy = intr.fx, intr.cx, intr.cy
    pitch = prior.camera_pitch_deg
    height = prior.camera_height_m
    outline = table_outline(frame)
    horizon, pair = None, None
    if outline is not None:
        lines = [_line(side) for side in outline.sides]
        candidates = []
        for j, k in outline.pairs():
            vp = _meet(lines[j], lines[k])
            if vp is not None and vp[1] < cy:  # opposite sides meet above the centre: looking down
                candidates.append((float(vp[1]), (j, k), vp))
        if candidates:
            horizon, pair, vp = candidates[0]
            other_rows = [c[0] for c in candidates if outline.family[c[1][0]] != outline.family[pair[0]]]
            if other_rows and abs(other_rows[0] - horizon) > 0.15 * h:
                # both pairs of sides seen, but their vanishing points are not on one level
                # horizon: the outline is not the table top (a side face or a cut-off view)
                log.info("camera: table sides give two horizons (rows %.0f and %.0f); using the prior",
                         horizon, other_rows[0])
                horizon, pair = None, None
        if horizon is not None:
            other = [i for i in range(len(lines)) if outline.family[i] != outline.family[pair[0]]]
            if not fov_known and other:
                # the other family's vanishing point: where its side crosses the horizon row
                vp2 = _meet(lines[other[0]], np.array([0.0, 1.0, -horizon]))
                if vp2 is not None:
                    f2 = -(vp[0] - cx) * (vp2[0] - cx) - (horizon - cy) ** 2
                    # a plausible lens: 25-90 degrees across (else the sides were misread)
                    if f2 > 0 and 0.5 * w < math.sqrt(f2) < 2.25 * w:
                        f = math.sqrt(f2)
                        intr = Intrinsics(f, f * intr.fy / intr.fx, cx, cy)
                        sources["fov"] = "vanishing points"
        elif not candidates and len(outline.sides) >= 2 and outline.family[0] != outline.family[1]:
            # two adjacent sides only: the horizon row where their vanishing points are
            # perpendicular for the focal length we have
            top = float(np.nonzero(outline.mask.any(axis=1))[0][0])
            horizon = _horizon_from_corner(lines[0], lines[1], intr, below=top)
        if horizon is not None and "pitch" not in given:
            pitch = math.degrees(math.atan2(cy - horizon, intr.fy))
            sources["pitch"] = "vanishing points" if sources.get("fov") != "prior" or fov_known else \
                "vanishing points + fov prior"
        if pair is not None and "height" not in given and table_size_m is not None:
            d = _side_separation(outline.sides[pair[0]], outline.sides[pair[1]], intr, pitch)
            if d is not None and d > 0:
                height = table_size_m / d
                sources["height"] = "table size"
    for q in ("fov", "pitch", "height"):
        sources.setdefault(q, "prior")
    fov = math.degrees(2 * math.atan(0.5 * w / intr.fx))
    estimate = CameraEstimate(fov, float(pitch), float(height), sources, horizon,
                              0 if outline is None else len(outline.sides))
    log.info("camera: fov %.1f deg (%s), pitch %.1f deg (%s), height %.2f m (%s); %d table sides seen",
             fov, sources["fov"], pitch, sources["pitch"], height, sources["height"], estimate.table_sides)
    return estimate


def _horizon_from_corner(l1: np.ndarray, l2: np.ndarray, intr: Intrinsics, below: float) -> float | None:
    """Row v above the table's top row ``below`` where the two lines cross it at perpendicular
    vanishing points (the horizon lies above everything on the table)."""
    cx, cy, f = intr.cx, intr.cy, intr.fx

    def residual(v: float) -> float:
        a, b = _meet(l1, np.array([0.0, 1.0, -v])), _meet(l2, np.array([0.0, 1.0, -v]))
        if a is None or b is None:
            return float("nan")
        return (a[0] - cx) * (b[0] - cx) + (v - cy) ** 2 + f * f

    rows = cy - f * np.tan(np.radians(np.linspace(5.0, 85.0, 161)))
    rows = rows[rows < below - 1.0]
    values = np.array([residual(v) for v in rows])
    for k in range(len(rows) - 1):
        if np.isfinite(values[k]) and np.isfinite(values[k + 1]) and values[k] * values[k + 1] < 0:
            lo, hi = rows[k], rows[k + 1]
            for _ in range(40):
                mid = 0.5 * (lo + hi)
                if residual(lo) * residual(mid) <= 0:
                    hi = mid
                else:
                    lo = mid
            return float(0.5 * (lo + hi))
    return None


def _side_separation(a, b, intr: Intrinsics, pitch_deg: float) -> float | None:
    """Distance between two parallel table sides, in camera heights (the plane at height 1)."""
    plane = table_plane_from_camera(1.0, min(max(pitch_deg, 1.0), 90.0))
    points = []
    for side in (a, b):
        uv = np.array(side, dtype=np.float64) - 0.5
        rays = pixel_rays(intr, uv[:, 0], uv[:, 1])
        z = plane.ray_depth(rays)
        if not np.all(np.isfinite(z)):
            return None
        points.append(rays * z[:, None])
    (p0, p1), (q0, _) = points
    direction = (p1 - p0) / np.linalg.norm(p1 - p0)
    offset = q0 - p0
    return float(np.linalg.norm(offset - (offset @ direction) * direction))
