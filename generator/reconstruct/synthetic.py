"""Synthetic test videos with exact truth: textured boxes and cylinders on a table.

A small z-buffer rasteriser (OpenCV ``fillConvexPoly`` per triangle, depth from each triangle's
plane) renders known objects moved along scripted trajectories with a known pinhole camera, and
returns the frames together with the true masks, depth, sizes and camera-frame poses. Tests and
``benchmarks/reconstruction.py`` use it; it stands in for the env renderer where that is absent.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np
import trimesh
from scipy.spatial.transform import Rotation

from generator.reconstruct.geometry import Intrinsics, Plane, Pose, pixel_rays, table_plane_from_camera
from generator.reconstruct.outline import prism_mesh

__all__ = ["SyntheticCamera", "SyntheticObject", "SyntheticVideo", "render", "trajectory", "TRAJECTORIES"]

_SUB = 4  # fillConvexPoly sub-pixel bits


@dataclass(frozen=True)
class SyntheticCamera:
    width: int = 256
    height: int = 192
    horizontal_fov_deg: float = 60.0
    height_m: float = 0.55
    pitch_deg: float = 40.0

    @property
    def intrinsics(self) -> Intrinsics:
        return Intrinsics.from_fov(self.width, self.height, self.horizontal_fov_deg)

    @property
    def plane(self) -> Plane:
        return table_plane_from_camera(self.height_m, self.pitch_deg)


@dataclass
class SyntheticObject:
    """``shape`` is "box" (size l, w, h), "cylinder" (size 2r, 2r, h) or "prism" (``footprint``, a
    polygon centred on its bounding box, extruded to h). ``poses`` per frame are
    ``(x, y, z, roll, pitch, yaw)`` in the table frame (``Plane.frame``), z at the object centre."""

    name: str
    shape: str
    size: tuple[float, float, float]
    color: tuple[int, int, int]
    poses: list[tuple[float, ...]] = field(default_factory=list)
    footprint: tuple[tuple[float, float], ...] = ()

    def mesh(self) -> trimesh.Trimesh:
        l, w, h = self.size
        if self.shape == "prism" and len(self.footprint) >= 3:
            return prism_mesh(np.array(self.footprint, dtype=np.float64), h)
        if self.shape == "box":
            return trimesh.creation.box(extents=(l, w, h))
        if self.shape == "cylinder":
            return trimesh.creation.cylinder(radius=l / 2, height=h, sections=24)
        raise ValueError(f"synthetic object '{self.name}': shape must be 'box', 'cylinder' or "
                         f"'prism' (with a footprint), got {self.shape!r}")


@dataclass
class SyntheticVideo:
    frames: np.ndarray
    masks: dict[str, np.ndarray]
    depth: np.ndarray
    poses: dict[str, list[Pose]]
    sizes: dict[str, tuple[float, float, float]]
    camera: SyntheticCamera


def trajectory(kind: str, start: tuple[float, float], size: tuple[float, float, float], num_frames: int,
               end: tuple[float, float] | None = None, yaw0: float = 0.3) -> list[tuple[float, ...]]:
    """Scripted table-frame poses: "static", "push", "slide" (pushed off, slowing down), "lift",
    "drop", "throw" or "tip" (rolled over its bottom edge along its x axis onto its side)."""
    length, h = size[0], size[2]
    x0, y0 = start
    x1, y1 = end if end is not None else (x0 + 0.12, y0 + 0.04)
    out = []
    for k in range(num_frames):
        s = k / max(1, num_frames - 1)
        x, y, z, yaw, roll, pitch = x0, y0, h / 2, yaw0, 0.0, 0.0
        if kind == "push":
            x, y, yaw = x0 + s * (x1 - x0), y0 + s * (y1 - y0), yaw0 + 0.6 * s
        elif kind == "slide":
            travel = 1.0 - (1.0 - s) ** 2
            x, y, yaw = x0 + travel * (x1 - x0), y0 + travel * (y1 - y0), yaw0 + 0.3 * travel
        elif kind == "tip":
            # about the bottom edge at +length/2 along the object's x: the centre swings over it
            pitch = 0.5 * math.pi * min(1.0, max(0.0, 1.6 * s - 0.3)) ** 2
            shift = length / 2 * (1.0 - math.cos(pitch)) + h / 2 * math.sin(pitch)
            x, y = x0 + shift * math.cos(yaw0), y0 + shift * math.sin(yaw0)
            z = length / 2 * math.sin(pitch) + h / 2 * math.cos(pitch)
        elif kind == "lift":
            z = h / 2 + 0.15 * min(1.0, 1.5 * s)
        elif kind == "drop":
            z = h / 2 + 0.15 * max(0.0, 1.0 - s * s * 1.6)
        elif kind == "throw":
            x, y = x0 + s * (x1 - x0), y0 + s * (y1 - y0)
            z, roll, yaw = h / 2 + 0.6 * s * (1 - s), 0.8 * s, yaw0 + 1.0 * s
        elif kind != "static":
            raise ValueError(f"unknown trajectory {kind!r}; expected one of {TRAJECTORIES}")
        out.append((x, y, z, roll, pitch, yaw))
    return out


TRAJECTORIES = ("static", "push", "slide", "lift", "drop", "throw", "tip")


def render(objects: list[SyntheticObject], camera: SyntheticCamera = SyntheticCamera(), seed: int = 0) -> SyntheticVideo:
    """Render every frame; all objects must have the same number of poses."""
    counts = {len(o.poses) for o in objects}
    if len(counts) != 1 or 0 in counts:
        raise ValueError(f"every synthetic object needs the same non-zero number of poses, got {counts}")
    (num_frames,) = counts
    intr, plane = camera.intrinsics, camera.plane
    table_to_cam = plane.frame()
    background, bg_depth = _background(camera, table_to_cam, seed)
    meshes = {o.name: o.mesh() for o in objects}
    frames = np.empty((num_frames, camera.height, camera.width, 3), np.uint8)
    depth = np.empty((num_frames, camera.height, camera.width), np.float32)
    masks = {o.name: np.zeros((num_frames, camera.height, camera.width), bool) for o in objects}
    poses: dict[str, list[Pose]] = {o.name: [] for o in objects}
    for t in range(num_frames):
        image, zbuf = background.copy(), bg_depth.copy()
        ids = np.full(zbuf.shape, -1, np.int32)
        for i, obj in enumerate(objects):
            x, y, z, roll, pitch, yaw = obj.poses[t]
            local = Pose(Rotation.from_euler("xyz", [roll, pitch, yaw]).as_matrix(), np.array([x, y, z]))
            pose = table_to_cam.compose(local)
            poses[obj.name].append(pose)
            _raster(meshes[obj.name], pose, obj.color, intr, image, zbuf, ids, i)
        frames[t], depth[t] = image, zbuf
        for i, obj in enumerate(objects):
            masks[obj.name][t] = ids == i
    sizes = {o.name: tuple(float(v) for v in meshes[o.name].extents) for o in objects}
    return SyntheticVideo(frames, masks, depth, poses, sizes, camera)


def _background(camera: SyntheticCamera, table_to_cam: Pose, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A wood-grain table below the horizon and a plain wall above it."""
    h, w = camera.height, camera.width
    vs, us = np.mgrid[0:h, 0:w]
    rays = pixel_rays(camera.intrinsics, us.ravel(), vs.ravel())
    z = camera.plane.ray_depth(rays)
    pts = table_to_cam.inverse().apply(rays * np.nan_to_num(z, nan=0.0)[:, None])
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 2 * math.pi)
    grain = 0.5 + 0.5 * np.sin(pts[:, 1] * 90.0 + 0.6 * np.sin(pts[:, 0] * 25.0 + phase))
    table = np.stack([150 + 40 * grain, 110 + 30 * grain, 70 + 20 * grain], axis=1)
    wall = np.array([205.0, 205.0, 210.0])
    far = ~np.isfinite(z) | (z > 6.0)
    color = np.where(far[:, None], wall, table)
    depth = np.where(far, np.inf, z)
    return color.reshape(h, w, 3).astype(np.uint8), depth.reshape(h, w).astype(np.float32)


def _raster(mesh: trimesh.Trimesh, pose: Pose, color: tuple[int, int, int], intr: Intrinsics,
            image: np.ndarray, zbuf: np.ndarray, ids: np.ndarray, obj_id: int) -> None:
    verts = pose.apply(mesh.vertices)
    if np.any(verts[:, 2] <= 1e-3):
        return
    uv = intr.project(verts) - 0.5
    normals = mesh.face_normals @ pose.rotation.T
    light = np.array([0.3, -0.8, -0.5]) / np.linalg.norm([0.3, -0.8, -0.5])
    inv = pose.inverse()
    h, w = zbuf.shape
    for f, face in enumerate(mesh.faces):
        tri = verts[face]
        if normals[f] @ tri.mean(axis=0) >= 0:  # back face
            continue
        pts = uv[face]
        x0, y0 = np.floor(pts.min(axis=0)).astype(int)
        x1, y1 = np.ceil(pts.max(axis=0)).astype(int) + 1
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x1 <= x0 or y1 <= y0:
            continue
        sub = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillConvexPoly(sub, np.round((pts - [x0, y0]) * (1 << _SUB)).astype(np.int32), 1, cv2.LINE_8, _SUB)
        vs, us = np.nonzero(sub)
        us, vs = us + x0, vs + y0
        inside = _inside_triangle(pts, us, vs)  # fillConvexPoly also paints edge pixels outside
        us, vs = us[inside], vs[inside]
        if len(us) == 0:
            continue
        rays = pixel_rays(intr, us, vs)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (normals[f] @ tri[0]) / (rays @ normals[f])
        front = np.isfinite(z) & (z > 0) & (z < zbuf[vs, us])
        us, vs, z = us[front], vs[front], z[front]
        local = inv.apply(rays[front] * z[:, None])
        shade = 0.45 + 0.55 * max(0.0, -float(normals[f] @ light))
        image[vs, us] = np.clip(np.outer(_speckle(local) * shade, color), 0, 255).astype(np.uint8)
        zbuf[vs, us] = z
        ids[vs, us] = obj_id


def _inside_triangle(tri: np.ndarray, us: np.ndarray, vs: np.ndarray, eps: float = 1e-3) -> np.ndarray:
    """Pixel centres (integer coordinates in ``tri``'s frame) inside the triangle, by barycentrics."""
    (ax, ay), (bx, by), (cx, cy) = tri
    det = (by - cy) * (ax - cx) + (cx - bx) * (ay - cy)
    if abs(det) < 1e-12:
        return np.zeros(len(us), bool)
    l1 = ((by - cy) * (us - cx) + (cx - bx) * (vs - cy)) / det
    l2 = ((cy - ay) * (us - cx) + (ax - cx) * (vs - cy)) / det
    return (l1 >= -eps) & (l2 >= -eps) & (1 - l1 - l2 >= -eps)


def _speckle(local: np.ndarray, cell_m: float = 0.008) -> np.ndarray:
    """A fixed, non-periodic texture on the object (brightness 0.6-1.0 per 8 mm cell), so that
    points can be tracked without the aliasing a checkerboard would cause."""
    cells = np.floor(local / cell_m).astype(np.int64)
    h = (cells[:, 0] * 73856093) ^ (cells[:, 1] * 19349663) ^ (cells[:, 2] * 83492791)
    return 0.6 + 0.4 * ((h % 1009) / 1008.0)
