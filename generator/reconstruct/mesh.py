"""Offline mesh: fit a primitive resting on the table to the object's silhouette.

Box (x, y, yaw, l, w, h), upright cylinder (x, y, r, h), sphere (x, y, r) and an extruded outline
(the footprint carved from the silhouette at the box's height, ``generator.reconstruct.outline``;
x, y, yaw, scale, h) stand on the table plane; each is projected with the known camera and its
silhouette is matched to the mask by maximising IoU (Nelder-Mead from an initial guess at the
mask's contact with the table). One view cannot tell a box from a cylinder or a prism whose side
faces the camera, so each fitted shape, its size held, is also posed (x, y, yaw, height above
the table) on up to ``consistency_frames`` other frames of the motion, where the object shows
other sides; the shape whose silhouettes agree best over all these frames (a small penalty per
parameter) wins. Because the primitive stands on the metric table plane, the mesh is metric and
its pose on the chosen frame is known. An object named
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
from generator.reconstruct.outline import carve_footprint, prism_mesh
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

    shapes: tuple[str, ...] = ("box", "cylinder", "sphere", "outline")
    max_iterations: int = 600
    agree: float = 0.1
    catalogue: bool = True  # an object named like a catalogue kind is fitted with that shape only
    consistency_frames: int = 4  # other frames each shape is posed on before one is chosen (0: one view)

    def __post_init__(self) -> None:
        known = {"box", "cylinder", "sphere", "outline"}
        if not self.shapes or not set(self.shapes) <= known:
            raise ValueError(f"shapes must be some of {sorted(known)}, got {self.shapes!r}")
        if "outline" in self.shapes and "box" not in self.shapes:
            raise ValueError("the outline is carved at the box fit's place and height: shapes with 'outline' need 'box'")

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
        fits = [self._fit_frame(name, mask, depth, k, others) for k in candidates]
        best = fits[0]
        for other in fits[1:]:
            if _diameter(other) < (1 - self.agree) * _diameter(best):
                best = other
        if len(fits) > 1:
            best.details.update({f"diameter_frame_{f.frame_index}": _diameter(f) for f in fits})
        log.info("mesh '%s': %s on frame %d, IoU %.3f, extents %s", name, best.kind, best.frame_index,
                 best.details["iou"], np.round(best.mesh.extents, 3).tolist())
        return best

    def _fit_frame(self, name: str, mask: np.ndarray, depth: DepthResult, k: int,
                   others: np.ndarray | None) -> MeshResult:
        plane = support_plane(depth, k, mask.any(axis=0))
        template = _catalogue_template(name) if self.catalogue and name in OBJECT_SIZES else None
        fitter = _SilhouetteFit(mask[k], depth.intrinsics, plane, template)
        shapes = ("template",) if template is not None else self.shapes
        results = {shape: fitter.fit(shape, self.max_iterations) for shape in shapes if shape != "outline"}
        views, view_fits = [], []
        for j in self._views(mask, others, k) if len(shapes) > 1 else []:
            try:
                view_fits.append(_SilhouetteFit(mask[j], depth.intrinsics, plane, fitter.template))
                views.append(j)
            except ValueError:  # no contact with the table in view (high in the air): not a view to use
                continue
        posed = {shape: [view.pose_iou(shape, result[1], self.max_iterations // 3) for view in view_fits]
                 for shape, result in results.items()}
        carvings = self._carvings(fitter, results["box"], view_fits) if "outline" in shapes and "box" in results \
            else []
        kept = _kept_views(fitter, [(shape, results[shape][1], fits) for shape, fits in posed.items()]
                           + [("outline", c[0][1], c[1]) for c in carvings], len(views))

        def agreement(own_iou: float, fits: list[tuple[float, np.ndarray]]) -> float:
            """Mean IoU over the fitted frame and the kept views."""
            return float(np.mean([own_iou] + [fits[i][0] for i in kept]))

        for result, fits, footprint, start in carvings:  # the carving the views agree with best
            if "outline" not in results or agreement(result[0], fits) > agreement(results["outline"][0], posed["outline"]):
                results["outline"], posed["outline"] = result, fits
                fitter.footprint, fitter.outline_start = footprint, start
        for view in view_fits:
            view.footprint = fitter.footprint
        details: dict = {f"iou_{shape}": float(result[0]) for shape, result in results.items()}
        details["views"] = [int(views[i]) for i in kept]
        if kept:
            details.update({f"views_iou_{shape}": agreement(results[shape][0], posed[shape]) for shape in results})
        shape = max(results, key=lambda name: agreement(results[name][0], posed[name])
                    - _PARAM_PENALTY * fitter.parameter_count(name, results[name][1]))
        iou, params = results[shape]
        if kept:  # one view leaves size along the line of sight loose; the other views pin it
            params, details["views_iou_refined"] = fitter.refine_size(
                shape, params, [(view_fits[i], posed[shape][i][1]) for i in kept], self.max_iterations)
            iou = fitter.iou(shape, params)
        mesh, pose = fitter.primitive(shape, params)
        kind = f"catalogue:{name}" if shape == "template" else shape
        return MeshResult(mesh, metric=True, kind=kind, frame_index=k, pose=pose, details={"iou": iou, **details})

    def _carvings(self, fitter: _SilhouetteFit, box: tuple[float, np.ndarray],
                  view_fits: list[_SilhouetteFit]) -> list[tuple]:
        """Outlines carved at a few heights up to the box's, each fitted and posed on the views:
        ``(fit, view poses, footprint, start)``. The footprint depends on the height it is carved
        at, which one view cannot tell (a box over a non-box outline comes out too tall); the
        views pick the height."""
        carvings = []
        for factor in _CARVE_HEIGHTS if view_fits else (1.0,):
            if fitter.carve_outline(box, factor):
                result = fitter.fit("outline", self.max_iterations)
                for view in view_fits:
                    view.footprint = fitter.footprint
                carvings.append((result, [view.pose_iou("outline", result[1], self.max_iterations // 3)
                                          for view in view_fits], fitter.footprint, fitter.outline_start))
        return carvings

    def _views(self, mask: np.ndarray, others: np.ndarray | None, k: int) -> list[int]:
        """Up to ``consistency_frames`` frames other than ``k``, spread over the video, where the object
        is about as visible as on ``k``, touches no other object, and looks different from ``k``."""
        if self.consistency_frames <= 0:
            return []
        areas = mask.reshape(len(mask), -1).sum(axis=1)
        usable = []
        for j in range(len(mask)):
            if j == k or areas[j] < 0.5 * areas[k] or (others is not None and touches_other(mask[j], others[j])):
                continue
            if (mask[j] & mask[k]).sum() > 0.95 * (mask[j] | mask[k]).sum():
                continue  # the same view again (the object has not moved yet)
            usable.append(j)
        if len(usable) <= self.consistency_frames:
            return usable
        picks = np.linspace(0, len(usable) - 1, self.consistency_frames).round().astype(int)
        return [usable[i] for i in picks]


def _kept_views(fitter: _SilhouetteFit, fits: list[tuple[str, np.ndarray, list]], count: int) -> list[int]:
    """The views some shape explains standing on the table (``fits``: shape, parameters, per view
    (IoU, pose)). In the air the object may tumble, which a pose of position, yaw and height
    cannot follow (and a sphere always can), so such a view would favour the sphere."""
    kept = []
    for i in range(count):
        shape, params, poses = max(fits, key=lambda f: f[2][i][0])
        iou, pose = poses[i]
        if iou >= _VIEW_FIT and pose[3] <= 0.01 + 0.2 * fitter.height(shape, params):
            kept.append(i)
    return kept


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
        self.mask = mask
        self.intr = intr
        self.template = template
        self.footprint: np.ndarray | None = None  # the outline's footprint, object frame (carve_outline)
        self.outline_start: np.ndarray | None = None  # the outline's parameters where it was carved
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

    def carve_outline(self, box: tuple[float, np.ndarray], height_factor: float = 1.0) -> bool:
        """Carve the outline's footprint at the fitted box's place, ``height_factor`` times its
        height; False when nothing is carved."""
        p = box[1]
        length, width, height = np.exp(p[3:6])
        height *= height_factor
        footprint = carve_footprint(self.mask, self.intr, self.table, (float(p[0]), float(p[1])),
                                    0.75 * float(math.hypot(length, width)), float(height))
        if footprint is None:
            return False
        # the object frame: the footprint's smallest enclosing rectangle, so that its extents are
        # the object's length and width, as for the box
        (cx, cy), _, angle = cv2.minAreaRect(footprint.astype(np.float32))
        yaw = math.radians(angle)
        c, s = math.cos(yaw), math.sin(yaw)
        self.footprint = (footprint - [cx, cy]) @ np.array([[c, -s], [s, c]])
        self.outline_start = np.array([cx, cy, yaw, 0.0, math.log(height)])
        return True

    def height(self, shape: str, p: np.ndarray) -> float:
        return float(self._outline_points(shape, p)[1])

    def parameter_count(self, shape: str, p: np.ndarray) -> int:
        """What the fit could adjust: its parameters, and for the outline also its footprint's corners."""
        return len(p) + (len(self.footprint) if shape == "outline" else 0)

    def fit(self, shape: str, max_iterations: int) -> tuple[float, np.ndarray]:
        x, y, width, height = self.init
        lw, lh = math.log(max(width, 1e-3)), math.log(max(height * 0.6, 1e-3))
        lr = lw - math.log(2)
        starts = {
            "box": [np.array([x, y, yaw, lw, lw - 0.5, lh]) for yaw in (0.0, math.pi / 6, math.pi / 3)],
            "cylinder": [np.array([x, y, lr, lh]), np.array([x, y, lr, lh + 0.5])],
            "sphere": [np.array([x, y, lr])],
        }
        if self.template is not None:  # uniform scale of the template from the mask's width
            ls = lw - math.log(max(self.template.extents[:2]))
            starts["template"] = [np.array([x, y, yaw, ls]) for yaw in (0.0, math.pi / 3, 2 * math.pi / 3)]
        if self.outline_start is not None:  # carved here: start where it was carved
            starts["outline"] = [self.outline_start]
        if shape not in starts:
            raise ValueError(f"unknown primitive {shape!r}; expected one of {sorted(starts)}")
        best_iou, best_params = -1.0, starts[shape][0]
        for start in starts[shape]:
            res = _nelder_mead(lambda p: 1.0 - self.iou(shape, p), start, _fit_steps(start, width, shape in _YAWED),
                               max_iterations)
            iou = 1.0 - float(res.fun)
            if iou > best_iou:
                best_iou, best_params = iou, res.x
        return best_iou, best_params

    def pose_iou(self, shape: str, p: np.ndarray, max_iterations: int) -> tuple[float, np.ndarray]:
        """The best IoU of ``shape`` with its size from ``p`` posed on this frame, free in position
        on the table, yaw and height above the table (the object may be in the air), and that pose
        ``(x, y, yaw, lift)``."""
        x, y, width, _ = self.init
        yaws = (p[2], p[2] + math.pi / 4, p[2] + math.pi / 2) if shape in _YAWED else (0.0,)
        best, best_q = 0.0, np.array([x, y, yaws[0], 0.0])
        for yaw in yaws:
            res = _nelder_mead(lambda q: 1.0 - self.iou(shape, _posed(shape, p, q), lift=max(q[3], 0.0)),
                               np.array([x, y, yaw, 0.0]), np.array([width / 3, width / 3, 0.4, width / 3]),
                               max_iterations, tolerance=1e-3)
            if 1.0 - float(res.fun) > best:
                best, best_q = 1.0 - float(res.fun), res.x
        return best, best_q

    def refine_size(self, shape: str, p: np.ndarray, views: list[tuple[_SilhouetteFit, np.ndarray]],
                    max_iterations: int) -> tuple[np.ndarray, float]:
        """``p`` with its size parameters fitted to this frame and to every ``(view, pose)`` at once
        (the poses held); the refined parameters and their mean IoU over all the frames."""
        sizes = slice(3, None) if shape in _YAWED else slice(2, None)

        def disagreement(size: np.ndarray) -> float:
            q = np.array(p, dtype=np.float64)
            q[sizes] = size
            ious = [self.iou(shape, q)] + [view.iou(shape, _posed(shape, q, pose), lift=max(pose[3], 0.0))
                                           for view, pose in views]
            return 1.0 - float(np.mean(ious))

        start = np.asarray(p[sizes], dtype=np.float64)
        res = _nelder_mead(disagreement, start, np.full(len(start), 0.15), max_iterations)
        refined = np.array(p, dtype=np.float64)
        refined[sizes] = res.x
        return refined, 1.0 - float(res.fun)

    def primitive(self, shape: str, p: np.ndarray) -> tuple[trimesh.Trimesh, Pose]:
        """The fitted mesh (object frame at its bounding-box centre) and its camera-frame pose."""
        if shape == "box":
            mesh = trimesh.creation.box(extents=np.exp(p[3:6]))
        elif shape == "cylinder":
            mesh = trimesh.creation.cylinder(radius=math.exp(p[2]), height=math.exp(p[3]), sections=32)
        elif shape == "sphere":
            mesh = trimesh.creation.icosphere(subdivisions=2, radius=math.exp(p[2]))
        elif shape == "outline":
            mesh = prism_mesh(self.footprint * math.exp(p[3]), math.exp(p[4]))
        else:
            mesh = self.template.copy()
            mesh.apply_scale(math.exp(p[3]))
        return mesh, self._pose(shape, p, float(mesh.extents[2]))

    def _pose(self, shape: str, p: np.ndarray, height: float, lift: float = 0.0) -> Pose:
        yaw = p[2] if shape in _YAWED else 0.0
        c, s = math.cos(yaw), math.sin(yaw)
        local = Pose(np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]]), np.array([p[0], p[1], height / 2 + lift]))
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
        if shape == "outline":
            return np.zeros((0, 3)), math.exp(p[4])
        scale = math.exp(p[3])
        return self.template_hull * scale, float(self.template.extents[2]) * scale

    def iou(self, shape: str, p: np.ndarray, lift: float = 0.0) -> float:
        if np.any(np.abs(p[3 if shape in _YAWED else 2:]) > 10) or lift > 2.0:
            return 0.0
        local, height = self._outline_points(shape, p)
        pose = self._pose(shape, p, height, lift)
        canvas = np.zeros(self.size, np.uint8)
        if shape == "outline":  # not convex: the union of the prism's caps and sides
            ring = self.footprint * math.exp(p[3])
            pts = pose.apply(np.vstack([np.column_stack([ring, np.full(len(ring), z)]) for z in (-height / 2, height / 2)]))
            if np.any(pts[:, 2] <= 1e-3):
                return 0.0
            uv = self._canvas_points(pts)
            m = len(ring)
            for cap in (uv[:m], uv[m:]):  # one call each: fillPoly's even-odd rule would cut their overlap out
                cv2.fillPoly(canvas, [cap], 1, cv2.LINE_8, _SUB)
            for i in range(m):
                j = (i + 1) % m
                cv2.fillConvexPoly(canvas, uv[[i, j, m + j, m + i]], 1, cv2.LINE_8, _SUB)
        else:
            pts = pose.apply(local)
            if np.any(pts[:, 2] <= 1e-3):
                return 0.0
            cv2.fillConvexPoly(canvas, cv2.convexHull(self._canvas_points(pts)), 1, cv2.LINE_8, _SUB)
        sil = canvas.astype(bool)
        union = (sil | self.target).sum()
        return float((sil & self.target).sum() / union) if union else 0.0

    def _canvas_points(self, pts: np.ndarray) -> np.ndarray:
        """Camera-frame points -> fixed-point pixel coordinates on the IoU canvas."""
        uv = (self.intr.project(pts) - 0.5 - self.origin) * self.scale
        return np.round(uv * (1 << _SUB)).astype(np.int32)


_YAWED = ("box", "template", "outline")  # the shapes whose yaw is a parameter
_CARVE_HEIGHTS = (0.6, 0.7, 0.8, 0.9, 1.0)  # outline carving heights tried, fractions of the box fit's
_VIEW_FIT = 0.8  # a view counts when some shape, posed there, reaches this IoU


def _posed(shape: str, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``p`` (a fit's parameters) moved to table position ``q[:2]`` and yaw ``q[2]``."""
    moved = np.array(p, dtype=np.float64)
    moved[:2] = q[:2]
    if shape in _YAWED:
        moved[2] = q[2]
    return moved


_CIRCLE = np.stack([np.cos(np.linspace(0, 2 * np.pi, 48, endpoint=False)),
                    np.sin(np.linspace(0, 2 * np.pi, 48, endpoint=False)), np.zeros(48)], axis=1)
_SPHERE = trimesh.creation.icosphere(subdivisions=3, radius=1.0).vertices


def _fit_steps(start: np.ndarray, width: float, has_yaw: bool) -> np.ndarray:
    """First steps of a shape fit: a third of the mask's width in position, 0.4 rad of yaw, 0.25 in log size."""
    steps = np.full(len(start), 0.25)  # log sizes
    steps[:2] = width / 3  # position on the table, metres
    if has_yaw:
        steps[2] = 0.4
    return steps


def _nelder_mead(fun, start: np.ndarray, steps: np.ndarray, max_iterations: int, tolerance: float = 1e-4):
    """Nelder-Mead from ``start`` with a simplex of one ``steps[i]`` along each axis."""
    simplex = np.vstack([start] + [start + np.eye(len(start))[i] * steps[i] for i in range(len(start))])
    return minimize(fun, start, method="Nelder-Mead", options={
        "initial_simplex": simplex, "maxiter": max_iterations, "xatol": tolerance, "fatol": tolerance})
