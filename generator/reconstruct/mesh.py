"""Offline mesh: fit a primitive resting on the table to the object's silhouette.

Box (x, y, yaw, l, w, h), upright cylinder (x, y, r, h) and sphere (x, y, r) stand on the table
plane; each is projected with the known camera and its silhouette is matched to the mask by
maximising IoU (Nelder-Mead from an initial guess at the mask's contact with the table). The
shape with the best IoU (a small penalty per parameter) wins. Because the primitive stands on the
metric table plane, the mesh is metric and its pose on the chosen frame is known.
The real-model mesh (InstantMesh) is ``generator.reconstruct.models.external``.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import cv2
import numpy as np
import trimesh
from scipy.optimize import minimize

from generator.reconstruct.geometry import Intrinsics, Plane, Pose, backproject, fit_plane, pixel_rays
from generator.reconstruct.stages import DepthResult, MeshResult, ObjectNotFoundError

__all__ = ["PrimitiveFitMeshBuilder", "choose_mesh_frame", "support_plane"]

log = logging.getLogger(__name__)

_CANVAS = 96  # longest side of the IoU canvas, pixels
_SUB = 3
_PARAM_PENALTY = 0.004


def choose_mesh_frame(mask: np.ndarray, occluded_ratio: float = 0.6) -> int:
    """The paper's rule: the first frame, or the last when the object is much more hidden on the first."""
    first, last = int(mask[0].sum()), int(mask[-1].sum())
    return len(mask) - 1 if first < occluded_ratio * last else 0


def support_plane(depth: DepthResult, frame_index: int, object_mask: np.ndarray) -> Plane:
    """The table plane: the depth estimator's own, else a RANSAC fit on the non-object pixels."""
    if depth.table_plane is not None:
        return depth.table_plane
    background = ~object_mask
    background[: background.shape[0] // 3] = False  # the table fills the lower part of the view
    points = backproject(depth.intrinsics, background, depth.depth[frame_index])
    if len(points) > 20000:
        points = points[np.random.default_rng(0).choice(len(points), 20000, replace=False)]
    return fit_plane(points, inlier_m=0.01 * float(np.nanmedian(points[:, 2])))


@dataclass
class PrimitiveFitMeshBuilder:
    shapes: tuple[str, ...] = ("box", "cylinder", "sphere")
    max_iterations: int = 600

    def build(self, frames: np.ndarray, name: str, mask: np.ndarray, depth: DepthResult) -> MeshResult:
        k = choose_mesh_frame(mask)
        m = mask[k]
        if m.sum() < 12:
            raise ObjectNotFoundError(name, "mesh", f"mask on frame {k} has {int(m.sum())} pixels; too small to fit")
        plane = support_plane(depth, k, mask.any(axis=0))
        fitter = _SilhouetteFit(m, depth.intrinsics, plane)
        results = [fitter.fit(shape, self.max_iterations) for shape in self.shapes]
        best = min(results, key=lambda r: (1 - r[1]) + _PARAM_PENALTY * len(r[2]))
        shape, iou, params = best
        mesh, pose = fitter.primitive(shape, params)
        log.info("mesh '%s': %s fit on frame %d, IoU %.3f, extents %s", name, shape, k, iou,
                 np.round(mesh.extents, 3).tolist())
        ious = {f"iou_{s}": float(i) for s, i, _ in results}
        return MeshResult(mesh, metric=True, kind=shape, frame_index=k, pose=pose, details={"iou": iou, **ious})


class _SilhouetteFit:
    def __init__(self, mask: np.ndarray, intr: Intrinsics, plane: Plane) -> None:
        self.intr = intr
        self.table = plane.frame()
        ys, xs = np.nonzero(mask)
        x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
        pad = max(x1 - x0, y1 - y0)
        self.origin = np.array([x0 - pad, y0 - pad], dtype=np.float64)
        span = max(x1 - x0, y1 - y0) + 2 * pad
        self.scale = min(1.0, _CANVAS / span)
        self.size = (int(math.ceil(span * self.scale)) + 1,) * 2
        crop = np.zeros((int(span) + 1, int(span) + 1), np.uint8)
        cy, cx = ys - int(self.origin[1]), xs - int(self.origin[0])
        crop[cy, cx] = 1
        self.target = cv2.resize(crop, self.size, interpolation=cv2.INTER_AREA) > 0
        self.init = self._initial_guess(mask)

    def _initial_guess(self, mask: np.ndarray) -> tuple[float, float, float, float]:
        """Table (x, y) behind the mask's lowest pixels, and metric width and height of the mask."""
        ys, xs = np.nonzero(mask)
        v_bottom = ys.max()
        cols = xs[ys >= v_bottom - 1]
        ray = pixel_rays(self.intr, np.array([cols.mean()]), np.array([v_bottom]))
        z = float(self.table_plane_depth(ray)[0])
        if not math.isfinite(z):
            raise ValueError("the object's lowest pixel lies above the horizon of the table plane; "
                             "check the camera height/pitch prior")
        contact = self.table.inverse().apply(ray * z)[0]
        width = (xs.max() - xs.min() + 1) * z / self.intr.fx
        height = (ys.max() - ys.min() + 1) * z / self.intr.fy
        cam_on_table = self.table.inverse().translation[:2]
        away = contact[:2] - cam_on_table
        away /= np.linalg.norm(away) + 1e-9
        centre = contact[:2] + away * width / 3
        return float(centre[0]), float(centre[1]), float(width), float(height)

    def table_plane_depth(self, rays: np.ndarray) -> np.ndarray:
        n = self.table.rotation[:, 2]
        offset = float(n @ self.table.translation)
        return Plane(tuple(n), offset).ray_depth(rays)

    def fit(self, shape: str, max_iterations: int) -> tuple[str, float, np.ndarray]:
        x, y, width, height = self.init
        lw, lh = math.log(max(width, 1e-3)), math.log(max(height * 0.6, 1e-3))
        starts = {
            "box": [np.array([x, y, yaw, lw, lw - 0.3, lh]) for yaw in (0.0, math.pi / 4)],
            "cylinder": [np.array([x, y, lw - math.log(2), lh])],
            "sphere": [np.array([x, y, lw - math.log(2)])],
        }
        if shape not in starts:
            raise ValueError(f"unknown primitive {shape!r}; expected one of {sorted(starts)}")
        best_iou, best_params = -1.0, starts[shape][0]
        for start in starts[shape]:
            simplex = _initial_simplex(start, width)
            res = minimize(lambda p: 1.0 - self.iou(shape, p), start, method="Nelder-Mead",
                           options={"initial_simplex": simplex, "maxiter": max_iterations, "xatol": 1e-4, "fatol": 1e-4})
            iou = 1.0 - float(res.fun)
            if iou > best_iou:
                best_iou, best_params = iou, res.x
        return shape, best_iou, best_params

    def primitive(self, shape: str, p: np.ndarray) -> tuple[trimesh.Trimesh, Pose]:
        if shape == "box":
            x, y, yaw, ll, lw, lh = p
            l, w, h = math.exp(ll), math.exp(lw), math.exp(lh)
            mesh = trimesh.creation.box(extents=(l, w, h))
        elif shape == "cylinder":
            x, y, lr, lh = p
            yaw, r, h = 0.0, math.exp(lr), math.exp(lh)
            mesh = trimesh.creation.cylinder(radius=r, height=h, sections=32)
        else:
            x, y, lr = p
            yaw, r = 0.0, math.exp(lr)
            h = 2 * r
            mesh = trimesh.creation.icosphere(subdivisions=2, radius=r)
        c, s = math.cos(yaw), math.sin(yaw)
        local = Pose(np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]]), np.array([x, y, h / 2]))
        return mesh, self.table.compose(local)

    def iou(self, shape: str, p: np.ndarray) -> float:
        if np.any(np.abs(p[3 if shape == "box" else 2:]) > 10):
            return 0.0
        mesh, pose = self.primitive(shape, p)
        pts = pose.apply(_silhouette_points(mesh, shape))
        if np.any(pts[:, 2] <= 1e-3):
            return 0.0
        uv = (self.intr.project(pts) - 0.5 - self.origin) * self.scale
        hull = cv2.convexHull(np.round(uv * (1 << _SUB)).astype(np.int32))
        canvas = np.zeros(self.size, np.uint8)
        cv2.fillConvexPoly(canvas, hull, 1, cv2.LINE_8, _SUB)
        sil = canvas.astype(bool)
        union = (sil | self.target).sum()
        return float((sil & self.target).sum() / union) if union else 0.0


def _silhouette_points(mesh: trimesh.Trimesh, shape: str) -> np.ndarray:
    if shape == "sphere":  # a sphere's outline needs more than its coarse vertices
        return trimesh.creation.icosphere(subdivisions=3, radius=float(mesh.extents[0] / 2)).vertices
    return mesh.vertices


def _initial_simplex(start: np.ndarray, width: float) -> np.ndarray:
    steps = np.full(len(start), 0.25)
    steps[:2] = width / 3
    if len(start) == 6:
        steps[2] = 0.4
    return np.vstack([start] + [start + np.eye(len(start))[i] * steps[i] for i in range(len(start))])
