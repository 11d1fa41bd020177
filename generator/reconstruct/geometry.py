"""Camera geometry: pinhole intrinsics, the table plane, rigid poses and back-projection.

Camera coordinates are OpenCV's (x right, y down, z forward); quaternions are MuJoCo's
w-first order, as in ``v2p_envs.scene_spec``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

__all__ = ["Intrinsics", "Plane", "Pose", "backproject", "pixel_rays", "table_plane_from_camera", "robot_table_frame"]


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole camera: focal lengths and principal point in pixels."""

    fx: float
    fy: float
    cx: float
    cy: float

    @classmethod
    def from_fov(cls, width: int, height: int, horizontal_fov_deg: float) -> "Intrinsics":
        """Square pixels, centred principal point, the given horizontal field of view."""
        if not 1.0 < horizontal_fov_deg < 179.0:
            raise ValueError(f"horizontal field of view must be in (1, 179) degrees, got {horizontal_fov_deg}")
        f = 0.5 * width / math.tan(math.radians(horizontal_fov_deg) / 2)
        return cls(f, f, width / 2.0, height / 2.0)

    @classmethod
    def parse(cls, text: str) -> "Intrinsics":
        """Read ``"fx,fy,cx,cy"`` (the CLI's --intrinsics)."""
        parts = [p.strip() for p in text.split(",")]
        try:
            values = [float(p) for p in parts]
        except ValueError:
            values = []
        if len(values) != 4 or values[0] <= 0 or values[1] <= 0:
            raise ValueError(f"intrinsics must be 'fx,fy,cx,cy' with positive focal lengths in pixels, got {text!r}")
        return cls(*values)

    def scaled(self, factor: float) -> "Intrinsics":
        """The same camera for the image resized by ``factor``."""
        return Intrinsics(self.fx * factor, self.fy * factor, self.cx * factor, self.cy * factor)

    @property
    def matrix(self) -> np.ndarray:
        return np.array([[self.fx, 0, self.cx], [0, self.fy, self.cy], [0, 0, 1]], dtype=np.float64)

    def project(self, points: np.ndarray) -> np.ndarray:
        """Pixel coordinates ``[N, 2]`` of camera-frame points ``[N, 3]`` (z > 0)."""
        z = points[:, 2]
        return np.stack([self.fx * points[:, 0] / z + self.cx, self.fy * points[:, 1] / z + self.cy], axis=1)


@dataclass(frozen=True)
class Plane:
    """The plane ``normal . X = offset`` in camera coordinates; ``normal`` is unit and points up
    (away from the table, towards the camera side)."""

    normal: tuple[float, float, float]
    offset: float

    def ray_depth(self, rays: np.ndarray) -> np.ndarray:
        """Depth z where rays ``[N, 3]`` (with z = 1) meet the plane; NaN behind the camera."""
        n = np.asarray(self.normal)
        denom = rays @ n
        with np.errstate(divide="ignore", invalid="ignore"):
            t = self.offset / denom
        return np.where(t > 0, t, np.nan)

    def frame(self) -> "Pose":
        """A table frame: origin where the optical axis meets the plane, z along the normal,
        x along the camera's x projected on the plane. Maps table coordinates to camera ones."""
        n = np.asarray(self.normal, dtype=np.float64)
        x = np.array([1.0, 0.0, 0.0]) - n[0] * n
        x /= np.linalg.norm(x)
        y = np.cross(n, x)
        origin = np.array([0.0, 0.0, self.offset / n[2]]) if abs(n[2]) > 1e-6 else self.offset * n
        return Pose(np.stack([x, y, n], axis=1), origin)


@dataclass(frozen=True)
class Pose:
    """A rigid transform ``X_cam = rotation @ X_obj + translation``."""

    rotation: np.ndarray
    translation: np.ndarray

    def apply(self, points: np.ndarray) -> np.ndarray:
        return points @ self.rotation.T + self.translation

    def inverse(self) -> "Pose":
        r = self.rotation.T
        return Pose(r, -r @ self.translation)

    def compose(self, other: "Pose") -> "Pose":
        """``self @ other``: first ``other``, then ``self``."""
        return Pose(self.rotation @ other.rotation, self.rotation @ other.translation + self.translation)

    def to_list(self) -> list[float]:
        """``[x, y, z, qw, qx, qy, qz]`` as in the scene JSON."""
        qx, qy, qz, qw = Rotation.from_matrix(self.rotation).as_quat()
        if qw < 0:
            qw, qx, qy, qz = -qw, -qx, -qy, -qz
        return [float(v) for v in (*self.translation, qw, qx, qy, qz)]

    @classmethod
    def from_list(cls, values: list[float] | tuple[float, ...]) -> "Pose":
        x, y, z, qw, qx, qy, qz = values
        return cls(Rotation.from_quat([qx, qy, qz, qw]).as_matrix(), np.array([x, y, z], dtype=np.float64))

    @classmethod
    def from_rvec(cls, rvec: np.ndarray, tvec: np.ndarray) -> "Pose":
        return cls(Rotation.from_rotvec(np.ravel(rvec)).as_matrix(), np.ravel(tvec).astype(np.float64))

    def rvec(self) -> np.ndarray:
        return Rotation.from_matrix(self.rotation).as_rotvec()


def pixel_rays(intrinsics: Intrinsics, us: np.ndarray, vs: np.ndarray) -> np.ndarray:
    """Rays ``[N, 3]`` with z = 1 through pixel centres."""
    us = np.asarray(us, dtype=np.float64) + 0.5
    vs = np.asarray(vs, dtype=np.float64) + 0.5
    return np.stack([(us - intrinsics.cx) / intrinsics.fx, (vs - intrinsics.cy) / intrinsics.fy,
                     np.ones_like(us)], axis=1)


def backproject(intrinsics: Intrinsics, mask: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """Camera-frame points ``[N, 3]`` of the masked pixels with finite positive depth:
    the paper's p(i, j) = K^-1 [x, y, 1]^T d(i, j)."""
    vs, us = np.nonzero(mask)
    z = depth[vs, us]
    keep = np.isfinite(z) & (z > 0)
    return pixel_rays(intrinsics, us[keep], vs[keep]) * z[keep, None]


def table_plane_from_camera(camera_height_m: float, camera_pitch_deg: float) -> Plane:
    """The table plane seen from a camera ``camera_height_m`` above it, tilted down by
    ``camera_pitch_deg`` (0 = looking horizontally, 90 = straight down), no roll."""
    if camera_height_m <= 0:
        raise ValueError(f"camera height above the table must be positive, got {camera_height_m}")
    if not 0.0 < camera_pitch_deg <= 90.0:
        raise ValueError(f"camera pitch must be in (0, 90] degrees (downward tilt), got {camera_pitch_deg}")
    p = math.radians(camera_pitch_deg)
    return Plane((0.0, -math.cos(p), -math.sin(p)), -camera_height_m)


def robot_table_frame(plane: Plane) -> Pose:
    """Camera coordinates -> the table frame the tasks use: z up from the table top, x away from
    the camera (the robot's forward), y to the camera's left (the robot's left). The person who
    filmed is taken to stand where the robot stands, so "left" in the video is the robot's left.
    The origin is where the optical axis meets the table."""
    plane_from_camera = plane.frame().inverse()  # x: the image's right, y: away from the camera, z: up
    turn = np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # (x, y) -> (y, -x)
    return Pose(turn, np.zeros(3)).compose(plane_from_camera)


def fit_plane(points: np.ndarray, inlier_m: float = 0.01, iterations: int = 200, seed: int = 0) -> Plane:
    """RANSAC plane through camera-frame points ``[N, 3]``, refined by least squares on its
    inliers; the normal is oriented towards the camera (the table is seen from above)."""
    points = points[np.isfinite(points).all(axis=1)]
    if len(points) < 3:
        raise ValueError(f"need at least 3 points with finite depth to fit a plane, got {len(points)}")
    rng = np.random.default_rng(seed)
    best, best_count = None, -1
    for _ in range(iterations):
        a, b, c = points[rng.choice(len(points), 3, replace=False)]
        n = np.cross(b - a, c - a)
        if np.linalg.norm(n) < 1e-12:
            continue
        n /= np.linalg.norm(n)
        count = int((np.abs((points - a) @ n) < inlier_m).sum())
        if count > best_count:
            best, best_count = (n, a), count
    if best is None:
        raise ValueError("all points are collinear: cannot fit a plane")
    n, a = best
    inliers = points[np.abs((points - a) @ n) < inlier_m]
    centre = inliers.mean(axis=0)
    n = np.linalg.svd(inliers - centre)[2][-1]
    offset = float(n @ centre)
    if offset > 0:  # camera origin must lie on the positive (upper) side: n . 0 > offset
        n, offset = -n, -offset
    return Plane(tuple(float(v) for v in n), offset)
