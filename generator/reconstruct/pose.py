"""Offline 6D pose tracking: Lucas-Kanade points + PnP, checked against the mask's silhouette.

On the mesh's frame the object's pose is known (the primitive fit gives it; otherwise the
back-projected mask centroid with the camera's axes). Corner features inside the mask are lifted
to 3D on the object by casting their rays at the posed mesh. They are tracked frame to frame with
pyramidal LK (forward-backward checked, kept inside the mask); ``solvePnPRansac`` on the
surviving 2D-3D pairs proposes a pose, and holding the rotation while following the mask centroid
proposes another. Each proposal is moved until the mesh's silhouette (minus the pixels of other
objects, which may hide it) has the mask's centroid and area, and the one whose silhouette covers
the mask best is kept: PnP drifts when features slide on a textureless face, the mask does not.
The distance along that direction is the median depth on the mask plus the offset (object centre
behind its visible surface) measured on the mesh's frame. With a table-plane prior, whose depth
puts an object in the air too far away, the distance from the change in mask area is used
instead where it is nearer by more than ``airborne_ratio``. Frames with no mask give None (hidden
or lost). Tracking runs forwards and backwards from the mesh's frame. The real-model tracker
(FoundationPose) is ``generator.reconstruct.models.external``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np
from tqdm import tqdm

from generator.reconstruct.geometry import Intrinsics, Pose, backproject, pixel_rays
from generator.reconstruct.stages import DepthResult, MeshResult

__all__ = ["FlowPnPTracker", "align_to_mask", "initial_pose", "silhouette", "silhouette_usable"]

log = logging.getLogger(__name__)

_MIN_PIXELS = 12
_LK = dict(winSize=(15, 15), maxLevel=3, criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01))


def initial_pose(mesh: MeshResult, mask: np.ndarray, depth: DepthResult) -> Pose:
    """The mesh's own pose if known, else the mask centroid back-projected, camera-aligned axes."""
    if mesh.pose is not None:
        return mesh.pose
    points = backproject(depth.intrinsics, mask[mesh.frame_index], depth.depth[mesh.frame_index])
    if len(points) == 0:
        raise ValueError(f"no depth on the object's mask on frame {mesh.frame_index}: cannot place it")
    return Pose(np.eye(3), np.median(points, axis=0))


@dataclass
class FlowPnPTracker:
    min_points: int = 6
    max_features: int = 80
    reprojection_px: float = 2.0
    airborne_ratio: float = 1.05  # depth-map / size distance above which the object is taken to be in the air
    progress: bool = True

    def track(self, frames: np.ndarray, mask: np.ndarray, depth: DepthResult, mesh: MeshResult,
              others: np.ndarray | None = None) -> list[Pose | None]:
        t = len(frames)
        gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
        start = mesh.frame_index
        poses: list[Pose | None] = [None] * t
        poses[start] = initial_pose(mesh, mask, depth)
        depth_offset = poses[start].translation[2] - _mask_depth(depth.depth[start], mask[start])
        if not np.isfinite(depth_offset):
            depth_offset = 0.0
        self.pnp_frames = 0
        # pixels of other objects, which may be in front: the mask cannot show the object there
        hidden = np.zeros_like(mask) if others is None else others & ~mask
        area_ratio = 1.0
        if silhouette_usable(mask[start]):
            visible = silhouette(mesh, poses[start], depth.intrinsics, mask.shape[1:]) & ~hidden[start]
            area_ratio = visible.sum() / mask[start].sum()
        order = [(k, k + 1) for k in range(start, t - 1)] + [(k, k - 1) for k in range(start, 0, -1)]
        state: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for a, b in tqdm(order, desc="pose", disable=not self.progress, leave=False):
            if a == start or a not in state:
                state[a] = self._features(gray[a], mask[a], poses[a] or self._last(poses, a), mesh, depth.intrinsics)
            uv, obj = state[a]
            prev = poses[a] or self._last(poses, a)
            if not mask[b].any():
                state[b] = (np.empty((0, 2), np.float32), np.empty((0, 3)))
                continue
            uv_b, obj_b = self._lk(gray[a], gray[b], uv, obj, mask[b])
            held = self._centroid_step(prev, mask[a] if mask[a].any() else mask[b], mask[b], depth.intrinsics)
            pnp = self._pnp(uv_b, obj_b, prev, depth.intrinsics)
            candidates = [c for c in (pnp, held) if c is not None]
            usable = silhouette_usable(mask[b])
            if usable:
                # PnP fixes the rotation well while enough features stick to the object, and drifts
                # when they slide; the silhouette decides between it and the held rotation, and
                # places the object where its silhouette covers the mask.
                scored = [align_to_mask(c, mesh, mask[b], depth.intrinsics, area_ratio, hidden[b]) for c in candidates]
                best = int(np.argmax([iou for _, iou in scored]))
                pose = scored[best][0]
                self.pnp_frames += int(pnp is not None and best == 0)
            else:
                pose = candidates[0]
                self.pnp_frames += int(pnp is not None)
            # the distance: from the depth map, as a depth model measures it better than the
            # silhouette's area does; but a table-plane prior puts an object in the air too far
            # away (its lowest pixel is taken for a contact with the table), which its apparent
            # size does not: there the size decides
            z = _mask_depth(depth.depth[b], mask[b]) + depth_offset
            if depth.table_plane is not None:
                z_size = poses[start].translation[2] * float(np.sqrt(mask[start].sum() / mask[b].sum()))
                if z > self.airborne_ratio * z_size:
                    z = z_size
            if np.isfinite(z) and z > 0:
                pose = Pose(pose.rotation, pose.translation * (z / pose.translation[2]))
            poses[b] = pose
            if len(uv_b) < 2 * self.min_points:
                uv_b, obj_b = self._features(gray[b], mask[b], pose, mesh, depth.intrinsics, uv_b, obj_b)
            state[b] = (uv_b, obj_b)
        log.debug("pose: PnP on %d of %d frames", self.pnp_frames, t - 1)
        return poses

    @staticmethod
    def _last(poses: list[Pose | None], k: int) -> Pose:
        known = [(abs(i - k), p) for i, p in enumerate(poses) if p is not None]
        return min(known, key=lambda item: item[0])[1]

    def _features(self, gray: np.ndarray, mask: np.ndarray, pose: Pose, mesh: MeshResult, intr: Intrinsics,
                  keep_uv: np.ndarray | None = None, keep_obj: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        inner = cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=2)
        if keep_uv is not None and len(keep_uv):
            for u, v in keep_uv.astype(int):
                cv2.circle(inner, (int(u), int(v)), 4, 0, -1)
        found = cv2.goodFeaturesToTrack(gray, self.max_features, 0.01, 3, mask=inner)
        uv = np.empty((0, 2), np.float32) if found is None else found.reshape(-1, 2)
        obj = _lift(uv, pose, mesh, intr)
        ok = np.isfinite(obj).all(axis=1)
        uv, obj = uv[ok].astype(np.float32), obj[ok]
        if keep_uv is not None and len(keep_uv):
            uv, obj = np.vstack([keep_uv, uv]).astype(np.float32), np.vstack([keep_obj, obj])
        return uv, obj

    def _lk(self, g0: np.ndarray, g1: np.ndarray, uv: np.ndarray, obj: np.ndarray, mask1: np.ndarray):
        if len(uv) == 0:
            return uv, obj
        p1, st, _ = cv2.calcOpticalFlowPyrLK(g0, g1, uv.reshape(-1, 1, 2), None, **_LK)
        p0, st_back, _ = cv2.calcOpticalFlowPyrLK(g1, g0, p1, None, **_LK)
        p1, p0 = p1.reshape(-1, 2), p0.reshape(-1, 2)
        good = (st.ravel() == 1) & (st_back.ravel() == 1) & (np.linalg.norm(p0 - uv, axis=1) < 1.0)
        h, w = mask1.shape
        ui = np.clip(np.round(p1[:, 0]).astype(int), 0, w - 1)
        vi = np.clip(np.round(p1[:, 1]).astype(int), 0, h - 1)
        inside = cv2.dilate(mask1.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=1)[vi, ui] > 0
        keep = good & inside
        return p1[keep].astype(np.float32), obj[keep]

    def _pnp(self, uv: np.ndarray, obj: np.ndarray, prev: Pose, intr: Intrinsics) -> Pose | None:
        if len(uv) < self.min_points:
            return None
        ok, rvec, tvec, inliers = cv2.solvePnPRansac(
            # OpenCV's pixel centres are integers, ours are at +0.5
            obj.astype(np.float64), uv.astype(np.float64) + 0.5, intr.matrix, None,
            rvec=prev.rvec().reshape(3, 1).copy(), tvec=prev.translation.reshape(3, 1).copy(),
            useExtrinsicGuess=True, iterationsCount=100, reprojectionError=self.reprojection_px,
            flags=cv2.SOLVEPNP_ITERATIVE)
        if not ok or inliers is None or len(inliers) < self.min_points:
            return None
        pose = Pose.from_rvec(rvec, tvec)
        if pose.translation[2] <= 0:
            return None
        return pose

    @staticmethod
    def _centroid_step(prev: Pose, mask_a: np.ndarray, mask_b: np.ndarray, intr: Intrinsics) -> Pose:
        """Keep the rotation; move with the mask centroid (distance: mask-area ratio, refined by
        the depth map afterwards)."""
        (va, ua), (vb, ub) = (np.nonzero(mask_a)), (np.nonzero(mask_b))
        ray_a = pixel_rays(intr, np.array([ua.mean()]), np.array([va.mean()]))[0]
        ray_b = pixel_rays(intr, np.array([ub.mean()]), np.array([vb.mean()]))[0]
        z_a = prev.translation[2]
        z_b = z_a * float(np.sqrt(len(ua) / len(ub)))
        return Pose(prev.rotation, prev.translation + ray_b * z_b - ray_a * z_a)


def align_to_mask(pose: Pose, mesh: MeshResult, mask: np.ndarray, intr: Intrinsics, area_ratio: float = 1.0,
                  hidden: np.ndarray | None = None, iterations: int = 3) -> tuple[Pose, float]:
    """Move ``pose`` (rotation kept) until the mesh's silhouette has the mask's centroid and
    ``area_ratio`` times its area; returns the moved pose and its silhouette's IoU with the mask
    (0 where it left the image). ``area_ratio`` is silhouette / mask area on a frame where the pose
    is known: it cancels a mesh a few percent too small or a mask a pixel too wide. Pixels in
    ``hidden`` (other objects, which may be in front) are left out of the silhouette: behind
    them the mask cannot show the object either."""
    h, w = mask.shape
    vs, us = np.nonzero(mask)
    target = np.array([us.mean(), vs.mean()])
    t = pose.translation.copy()
    for _ in range(iterations):
        sil = _visible(silhouette(mesh, Pose(pose.rotation, t), intr, (h, w)), hidden)
        if sil.sum() < _MIN_PIXELS:
            return pose, 0.0
        sv, su = np.nonzero(sil)
        scale = float(np.sqrt(sil.sum() / (area_ratio * len(us))))  # the silhouette is `scale` times too large: too near
        centre = intr.project(t[None])[0] - 0.5  # our pixel centres are at +0.5
        # the silhouette's centroid sits at a fixed image offset from the projected centre, which
        # shrinks by `scale` when the object moves away by `scale`
        u, v = target - (np.array([su.mean(), sv.mean()]) - centre) / scale
        t = pixel_rays(intr, np.array([u]), np.array([v]))[0] * (t[2] * scale)
    aligned = Pose(pose.rotation, t)
    sil = _visible(silhouette(mesh, aligned, intr, (h, w)), hidden)
    return aligned, float((sil & mask).sum() / (sil | mask).sum())


def _visible(sil: np.ndarray, hidden: np.ndarray | None) -> np.ndarray:
    return sil if hidden is None else sil & ~hidden


def silhouette_usable(mask: np.ndarray) -> bool:
    """Whether the mask can be matched by a silhouette: big enough and clear of the image border
    (which cuts its area and moves its centroid)."""
    return mask.sum() >= _MIN_PIXELS and not (mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())


def silhouette(mesh: MeshResult, pose: Pose, intr: Intrinsics, shape: tuple[int, int]) -> np.ndarray:
    """Boolean image of the posed mesh (its triangles filled; the part in front of the camera)."""
    vertices = pose.apply(np.asarray(mesh.mesh.vertices))
    out = np.zeros(shape, np.uint8)
    faces = np.asarray(mesh.mesh.faces)
    faces = faces[(vertices[faces, 2] > 1e-3).all(axis=1)]
    if len(faces) == 0:
        return out.astype(bool)
    uv = intr.project(vertices) - 0.5
    shift = 4  # sub-pixel vertex positions
    # one triangle at a time: fillPoly on many polygons fills by parity, so overlaps become holes
    for triangle in np.round(uv[faces] * (1 << shift)).astype(np.int32):
        cv2.fillConvexPoly(out, triangle, 1, lineType=cv2.LINE_8, shift=shift)
    return out.astype(bool)


def _mask_depth(depth: np.ndarray, mask: np.ndarray) -> float:
    values = depth[mask]
    values = values[np.isfinite(values)]
    return float(np.median(values)) if len(values) else float("nan")


def _lift(uv: np.ndarray, pose: Pose, mesh: MeshResult, intr: Intrinsics) -> np.ndarray:
    """Object-frame points where pixel rays first hit the posed mesh (NaN where they miss)."""
    out = np.full((len(uv), 3), np.nan)
    if len(uv) == 0:
        return out
    rays = pixel_rays(intr, uv[:, 0], uv[:, 1])
    inv = pose.inverse()
    origins = np.repeat(inv.translation[None], len(uv), axis=0)
    dirs = rays @ inv.rotation.T
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    locations, index_ray, _ = mesh.mesh.ray.intersects_location(origins, dirs, multiple_hits=False)
    if len(index_ray):
        out[index_ray] = locations
    return out
