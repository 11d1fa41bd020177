"""Offline mesh: fit a primitive resting on the table to the object's silhouette.

Box (x, y, yaw, l, w, h), upright cylinder (x, y, r, h) and sphere (x, y, r) stand on the table
plane; each is projected with the known camera and its silhouette is matched to the mask by
maximising IoU (Nelder-Mead from an initial guess at the mask's contact with the table). The
shape with the best IoU (a small penalty per parameter) wins. Because the primitive stands on the
metric table plane, the mesh is metric and its pose on the chosen frame is known. An object named
like a kind of ``generator.assets`` (bowl, cup, mouse ...) is fitted with that mesh instead, free
in position, yaw and uniform scale (a shape prior from the name, as a person would use).
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

from generator.assets import OBJECT_SIZES, make_object_mesh
from generator.reconstruct.geometry import Intrinsics, Plane, Pose, backproject, fit_plane, pixel_rays
from generator.reconstruct.stages import DepthResult, MeshResult, ObjectNotFoundError

__all__ = ["PrimitiveFitMeshBuilder", "choose_mesh_frame", "support_plane"]

log = logging.getLogger(__name__)

_CANVAS = 96  # longest side of the IoU canvas, pixels
_SUB = 3
_PARAM_PENALTY = 0.004


def choose_mesh_frame(mask: np.ndarray, others: np.ndarray | None = None, occluded_ratio: float = 0.6) -> int:
    """The paper's rule: the first frame, or the last when the object is more hidden on the first
    (touching another object there and not on the last, or a much smaller mask)."""
    if others is not None:
        first_touches, last_touches = touches_other(mask[0], others[0]), touches_other(mask[-1], others[-1])
        if first_touches != last_touches:
            return len(mask) - 1 if first_touches else 0
    first, last = int(mask[0].sum()), int(mask[-1].sum())
    return len(mask) - 1 if first < occluded_ratio * last else 0


def touches_other(mask: np.ndarray, others: np.ndarray) -> bool:
    """Whether another object's mask comes within two pixels of this one (it may hide part of it)."""
    near = cv2.dilate(mask.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    return bool((near & others & ~mask).any())


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
    """Fits on the first and the last frame (where the object is not much hidden, nor touching
    another object, which may hide part of it) and keeps the smaller fit: an object in the air,
    fitted as if it stood on the table, is placed too far away along its rays and so comes out
    too large; on the table both fits agree (then the first
    frame, as in the paper, unless the last is more than ``agree`` smaller)."""

    shapes: tuple[str, ...] = ("box", "cylinder", "sphere")
    max_iterations: int = 600
    agree: float = 0.1
    catalogue: bool = True  # an object named like a catalogue kind is fitted with that shape only

    def build(self, frames: np.ndarray, name: str, mask: np.ndarray, depth: DepthResult,
              others: np.ndarray | None = None) -> MeshResult:
        areas = mask.reshape(len(mask), -1).sum(axis=1)
        candidates = [k for k in dict.fromkeys((0, len(mask) - 1)) if areas[k] >= 12]
        candidates = [k for k in candidates if areas[k] >= 0.6 * max(areas[c] for c in candidates)]
        if others is not None:  # a frame where another object may hide part of this one fits it too small
            clear = [k for k in candidates if not touches_other(mask[k], others[k])]
            candidates = clear or candidates
        if not candidates:
            raise ObjectNotFoundError(name, "mesh", f"mask has {int(areas[0])} pixels on the first frame and "
                                      f"{int(areas[-1])} on the last; too small to fit")
        fits = [self._fit_frame(name, mask, depth, k) for k in candidates]
        best = fits[0]
        for other in fits[1:]:
            if _diameter(other) < (1 - self.agree) * _diameter(best):
                best = other
        if len(fits) > 1:
            best.details.update({f"diameter_frame_{f.frame_index}": _diameter(f) for f in fits})
        log.info("mesh '%s': %s on frame %d, IoU %.3f, extents %s", name, best.kind, best.frame_index,
                 best.details["iou"], np.round(best.mesh.extents, 3).tolist())
        return best

    def _fit_frame(self, name: str, mask: np.ndarray, depth: DepthResult, k: int) -> MeshResult:
        plane = support_plane(depth, k, mask.any(axis=0))
        template = _catalogue_template(name) if self.catalogue and name in OBJECT_SIZES else None
        fitter = _SilhouetteFit(mask[k], depth.intrinsics, plane, template)
        shapes = ("template",) if template is not None else self.shapes
        results = [fitter.fit(shape, self.max_iterations) for shape in shapes]
        shape, iou, params = min(results, key=lambda r: (1 - r[1]) + _PARAM_PENALTY * len(r[2]))
        mesh, pose = fitter.primitive(shape, params)
        ious = {f"iou_{s}": float(i) for s, i, _ in results}
        kind = f"catalogue:{name}" if shape == "template" else shape
        return MeshResult(mesh, metric=True, kind=kind, frame_index=k, pose=pose, details={"iou": iou, **ious})


def _catalogue_template(kind: str) -> trimesh.Trimesh:
    """The catalogue's mesh of ``kind`` centred on its bounding box (shape prior, real size)."""
    mesh = make_object_mesh(kind).copy()
    mesh.apply_translation(-mesh.bounds.mean(axis=0))
    return mesh


def _diameter(fit: MeshResult) -> float:
    return float(np.linalg.norm(fit.mesh.extents))


class _SilhouetteFit:
    def __init__(self, mask: np.ndarray, intr: Intrinsics, plane: Plane,
                 template: trimesh.Trimesh | None = None) -> None:
        self.intr = intr
        self.template = template
        self.template_hull = template.convex_hull.vertices if template is not None else None
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
        lr = lw - math.log(2)
        starts = {
            "box": [np.array([x, y, yaw, lw, lw - 0.5, lh]) for yaw in (0.0, math.pi / 6, math.pi / 3)],
            "cylinder": [np.array([x, y, lr, lh])],
            "sphere": [np.array([x, y, lr])],
        }
        if self.template is not None:  # uniform scale of the template from the mask's width
            ls = lw - math.log(max(self.template.extents[:2]))
            starts["template"] = [np.array([x, y, yaw, ls]) for yaw in (0.0, math.pi / 3, 2 * math.pi / 3)]
        if shape not in starts:
            raise ValueError(f"unknown primitive {shape!r}; expected one of {sorted(starts)}")
        best_iou, best_params = -1.0, starts[shape][0]
        for start in starts[shape]:
            simplex = _initial_simplex(start, width, shape in ("box", "template"))
            res = minimize(lambda p: 1.0 - self.iou(shape, p), start, method="Nelder-Mead",
                           options={"initial_simplex": simplex, "maxiter": max_iterations, "xatol": 1e-4, "fatol": 1e-4})
            iou = 1.0 - float(res.fun)
            if iou > best_iou:
                best_iou, best_params = iou, res.x
        return shape, best_iou, best_params

    def primitive(self, shape: str, p: np.ndarray) -> tuple[trimesh.Trimesh, Pose]:
        """The fitted mesh (object frame at its bounding-box centre) and its camera-frame pose."""
        if shape == "box":
            mesh = trimesh.creation.box(extents=np.exp(p[3:6]))
        elif shape == "cylinder":
            mesh = trimesh.creation.cylinder(radius=math.exp(p[2]), height=math.exp(p[3]), sections=32)
        elif shape == "sphere":
            mesh = trimesh.creation.icosphere(subdivisions=2, radius=math.exp(p[2]))
        else:
            mesh = self.template.copy()
            mesh.apply_scale(math.exp(p[3]))
        return mesh, self._pose(shape, p, float(mesh.extents[2]))

    def _pose(self, shape: str, p: np.ndarray, height: float) -> Pose:
        yaw = p[2] if shape in ("box", "template") else 0.0
        c, s = math.cos(yaw), math.sin(yaw)
        local = Pose(np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]]), np.array([p[0], p[1], height / 2]))
        return self.table.compose(local)

    def _outline_points(self, shape: str, p: np.ndarray) -> tuple[np.ndarray, float]:
        """Object-frame points whose projection's convex hull is the silhouette, and the height."""
        if shape == "box":
            l, w, h = np.exp(p[3:6])
            return np.array([[sx * l, sy * w, sz * h] for sx in (-.5, .5) for sy in (-.5, .5) for sz in (-.5, .5)]), h
        if shape == "cylinder":
            r, h = math.exp(p[2]), math.exp(p[3])
            return np.vstack([_CIRCLE * [r, r, 0] + [0, 0, z] for z in (-h / 2, h / 2)]), h
        if shape == "sphere":
            r = math.exp(p[2])
            return _SPHERE * r, 2 * r
        scale = math.exp(p[3])
        return self.template_hull * scale, float(self.template.extents[2]) * scale

    def iou(self, shape: str, p: np.ndarray) -> float:
        if np.any(np.abs(p[3 if shape in ("box", "template") else 2:]) > 10):
            return 0.0
        local, height = self._outline_points(shape, p)
        pts = self._pose(shape, p, height).apply(local)
        if np.any(pts[:, 2] <= 1e-3):
            return 0.0
        uv = (self.intr.project(pts) - 0.5 - self.origin) * self.scale
        hull = cv2.convexHull(np.round(uv * (1 << _SUB)).astype(np.int32))
        canvas = np.zeros(self.size, np.uint8)
        cv2.fillConvexPoly(canvas, hull, 1, cv2.LINE_8, _SUB)
        sil = canvas.astype(bool)
        union = (sil | self.target).sum()
        return float((sil & self.target).sum() / union) if union else 0.0


_CIRCLE = np.stack([np.cos(np.linspace(0, 2 * np.pi, 48, endpoint=False)),
                    np.sin(np.linspace(0, 2 * np.pi, 48, endpoint=False)), np.zeros(48)], axis=1)
_SPHERE = trimesh.creation.icosphere(subdivisions=3, radius=1.0).vertices


def _initial_simplex(start: np.ndarray, width: float, has_yaw: bool) -> np.ndarray:
    steps = np.full(len(start), 0.25)  # log sizes
    steps[:2] = width / 3  # position on the table, metres
    if has_yaw:
        steps[2] = 0.4
    return np.vstack([start] + [start + np.eye(len(start))[i] * steps[i] for i in range(len(start))])
