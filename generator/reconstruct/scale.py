"""Metric scale of a mesh: the paper's rho = D_image / D_mesh (Sec. 3.1).

D_image is the largest distance between two back-projected mask pixels, D_mesh the largest
distance between two mesh vertices. Both are diameters of point sets, taken over convex-hull
vertices so that the pairwise search stays small.
"""
from __future__ import annotations

import logging

import numpy as np
import trimesh
from scipy.spatial import ConvexHull, QhullError
from scipy.spatial.distance import pdist

from generator.reconstruct.geometry import Intrinsics, backproject

__all__ = ["diameter", "image_diameter", "scale_ratio", "apply_scale"]

log = logging.getLogger(__name__)


def diameter(points: np.ndarray) -> float:
    """Largest pairwise distance of points ``[N, 3]``."""
    points = points[np.isfinite(points).all(axis=1)]
    if len(points) < 2:
        return 0.0
    if len(points) > 64:
        try:
            points = points[ConvexHull(points).vertices]
        except QhullError:  # flat or degenerate: fall back to a subsample
            points = points[np.random.default_rng(0).choice(len(points), min(len(points), 2000), replace=False)]
    return float(pdist(points).max())


def image_diameter(intrinsics: Intrinsics, mask: np.ndarray, depth: np.ndarray) -> float:
    """D_image: the metric diameter of the masked region back-projected with its depth."""
    return diameter(backproject(intrinsics, mask, depth))


def scale_ratio(intrinsics: Intrinsics, mask: np.ndarray, depth: np.ndarray, mesh: trimesh.Trimesh) -> float:
    """rho = D_image / D_mesh."""
    d_image = image_diameter(intrinsics, mask, depth)
    d_mesh = diameter(np.asarray(mesh.vertices))
    if d_image <= 0 or d_mesh <= 0:
        raise ValueError(f"cannot compute the scale: D_image={d_image:.4g} m, D_mesh={d_mesh:.4g} "
                         "(empty mask, no valid depth on it, or a degenerate mesh)")
    return d_image / d_mesh


def apply_scale(mesh: trimesh.Trimesh, rho: float) -> trimesh.Trimesh:
    """A copy of the mesh, centred on its bounding box and scaled by rho."""
    out = mesh.copy()
    out.apply_translation(-out.bounds.mean(axis=0))
    out.apply_scale(rho)
    return out
