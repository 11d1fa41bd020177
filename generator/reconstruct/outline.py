"""Extruded outline: the object's own footprint on the table, carved from its silhouette.

A box, a cylinder or a sphere cannot stand for a mouse, a fork or a remote seen without a shape
prior; a prism over the object's footprint can. Given a height ``h`` (the box fit's), a table point
belongs to the footprint when the vertical segment from it up to ``h`` projects inside the mask
(a visual hull of one view, cut at the table): points in front of the object project below its
silhouette, points behind it project above it at height ``h``. The footprint is the largest
connected region of such points, simplified to a polygon; the prism is exact for anything whose
horizontal cross-section does not change with height.
"""
from __future__ import annotations

import math

import cv2
import numpy as np
import shapely
import trimesh
from shapely.geometry import Polygon

from generator.reconstruct.geometry import Intrinsics, Pose

__all__ = ["carve_footprint", "prism_mesh"]

_GRID = 48  # cells across the carving window
_HEIGHTS = (0.0, 0.5, 1.0)  # fractions of the height tested on each vertical segment


def carve_footprint(mask: np.ndarray, intr: Intrinsics, table: Pose, centre_xy: tuple[float, float],
                    radius: float, height: float) -> np.ndarray | None:
    """The footprint polygon ``[M, 2]`` (table frame, metres, counter-clockwise) of the object whose
    silhouette is ``mask``, searched within ``radius`` of ``centre_xy``; None when fewer than three
    cells are carved (the mask is too small or the height wrong)."""
    cell = 2 * radius / _GRID
    axis = (np.arange(_GRID) + 0.5) * cell - radius
    gx, gy = np.meshgrid(centre_xy[0] + axis, centre_xy[1] + axis)
    inside = np.ones(gx.shape, bool)
    h, w = mask.shape
    for fraction in _HEIGHTS:
        points = np.stack([gx.ravel(), gy.ravel(), np.full(gx.size, fraction * height)], axis=1)
        cam = table.apply(points)
        ok = cam[:, 2] > 1e-3
        uv = np.full((len(cam), 2), -1.0)
        uv[ok] = intr.project(cam[ok])
        u, v = np.floor(uv[:, 0]).astype(int), np.floor(uv[:, 1]).astype(int)
        visible = ok & (u >= 0) & (u < w) & (v >= 0) & (v < h)
        hit = np.zeros(len(cam), bool)
        hit[visible] = mask[v[visible], u[visible]]
        inside &= hit.reshape(gx.shape)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(inside.astype(np.uint8), connectivity=4)
    if count < 2:
        return None
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    if stats[largest, cv2.CC_STAT_AREA] < 3:
        return None
    region = (labels == largest).astype(np.uint8)
    # contours run along cell centres: grow by half a cell so the polygon covers whole cells
    region = cv2.resize(region, None, fx=4, fy=4, interpolation=cv2.INTER_NEAREST)
    contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    contour = max(contours, key=cv2.contourArea)
    contour = cv2.approxPolyDP(contour, 4 * 0.75, True)[:, 0].astype(np.float64)
    if len(contour) < 3:
        return None
    xy = np.stack([centre_xy[0] - radius + (contour[:, 0] + 0.5) / 4 * cell,
                   centre_xy[1] - radius + (contour[:, 1] + 0.5) / 4 * cell], axis=1)
    polygon = Polygon(xy).buffer(0)
    if polygon.is_empty or polygon.area <= 0:
        return None
    if polygon.geom_type != "Polygon":
        polygon = max(polygon.geoms, key=lambda g: g.area)
    ring = np.asarray(shapely.geometry.polygon.orient(polygon, 1.0).exterior.coords)[:-1]
    return ring


def prism_mesh(footprint: np.ndarray, height: float) -> trimesh.Trimesh:
    """A watertight prism over ``footprint`` (object frame), from ``-height / 2`` to ``height / 2``."""
    polygon = Polygon(footprint)
    triangles = shapely.constrained_delaunay_triangles(polygon)
    vertices, faces = [], []
    index: dict[tuple[float, float], int] = {}
    for tri in triangles.geoms:
        corners = []
        for x, y in list(tri.exterior.coords)[:3]:
            key = (round(x, 9), round(y, 9))
            if key not in index:
                index[key] = len(vertices)
                vertices.append(key)
            corners.append(index[key])
        faces.append(corners)
    mesh = trimesh.creation.extrude_triangulation(np.array(vertices), np.array(faces), height)
    mesh.apply_translation([0.0, 0.0, -height / 2])
    mesh.fix_normals()
    if not math.isfinite(mesh.volume) or mesh.volume <= 0:
        raise ValueError("the carved footprint makes no solid prism")
    return mesh
