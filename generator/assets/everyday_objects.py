"""Watertight, real-world-sized meshes of everyday objects for simulated manipulation tasks.

The offline reconstruction path needs a plausible mesh for an object it can only name (the
"primitive fit / revolve / extruded silhouette" default in docs/architecture.md). This module is that
catalogue: each kind is built procedurally with trimesh, in metres, z up, with its frame at
the centre of the axis-aligned bounding box, in the pose it rests in on a table (flat side
down). Meshes stay under 3000 faces because MuJoCo simulates them, and the output is
deterministic so that generated task folders are reproducible.

Only declared dependencies are used (numpy, shapely, trimesh): hollow objects are lofts or
revolves of a closed profile instead of boolean differences, and flat outlines are
triangulated here by ear clipping instead of trimesh's optional triangulation engines.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import shapely
import trimesh
from shapely.geometry import LineString, Polygon, box
from shapely.geometry.polygon import orient

logger = logging.getLogger(__name__)

OBJECT_SIZES: dict[str, tuple[float, float, float]] = {
    "block": (0.05, 0.05, 0.05),
    "dice": (0.03, 0.03, 0.03),
    "garlic": (0.05, 0.05, 0.045),
    "bowl": (0.16, 0.16, 0.065),
    "cup": (0.07, 0.07, 0.09),
    "fork": (0.19, 0.026, 0.012),
    "storage_box": (0.22, 0.16, 0.10),
    "remote": (0.18, 0.045, 0.022),
    "mouse": (0.11, 0.062, 0.036),
    "snack_box": (0.12, 0.08, 0.06),
    "bottle": (0.065, 0.065, 0.20),
    "sponge": (0.09, 0.06, 0.03),
    "ruler": (0.30, 0.03, 0.012),
}
"""Real-world extents (l, w, h) = (x, y, z) in metres of each kind, as built."""

MAX_FACES = 3000
"""Face budget per mesh: MuJoCo collides and renders these, often in thousands of worlds."""

# Builders may be a little off their nominal size (lobes, tapers); beyond this relative
# correction the builder itself is wrong and should be fixed rather than rescaled.
_MAX_FIT_CORRECTION = 0.15


# --------------------------------------------------------------------------- geometry helpers


def _loft(loops: Sequence[np.ndarray], start_tip: np.ndarray | None = None,
          end_tip: np.ndarray | None = None) -> trimesh.Trimesh:
    """Skin closed loops (each (n, 3), counter-clockwise seen from +z) into a closed surface.

    Consecutive loops are joined by quads and both ends are closed by a fan to a tip point
    (the loop's centroid by default, which gives a flat cap on a planar, star-shaped loop).
    Because every loop has the same point count and winding, the result is watertight and
    consistently wound whatever path the loops take (outside up, over a rim, inside down),
    which is how open containers are built without booleans.
    """
    rings = np.asarray(loops, dtype=np.float64)
    n_loops, n, _ = rings.shape
    tips = [rings[0].mean(axis=0) if start_tip is None else np.asarray(start_tip, float),
            rings[-1].mean(axis=0) if end_tip is None else np.asarray(end_tip, float)]
    vertices = np.vstack([rings.reshape(-1, 3), tips])
    i = np.arange(n_loops - 1)[:, None] * n
    j = np.arange(n)[None, :]
    v00, v01 = i + j, i + (j + 1) % n
    v10, v11 = v00 + n, v01 + n
    side = np.concatenate([np.stack([v00, v01, v11], -1).reshape(-1, 3),
                           np.stack([v00, v11, v10], -1).reshape(-1, 3)])
    ring = np.arange(n)
    first, last = len(vertices) - 2, len(vertices) - 1
    start_cap = np.column_stack([np.full(n, first), (ring + 1) % n, ring])
    end_cap = np.column_stack([np.full(n, last), ring + (n_loops - 1) * n,
                               (ring + 1) % n + (n_loops - 1) * n])
    return trimesh.Trimesh(vertices, np.vstack([side, start_cap, end_cap]))


def _revolved(profile: Sequence[tuple[float, float]], sections: int = 48) -> trimesh.Trimesh:
    """Revolve a closed (radius, z) profile about the z axis into a solid of revolution.

    Bowls, cups and bottles are lathe-turned shapes; a profile that starts and ends on the
    axis gives a closed solid, and one that goes up the outside and back down the inside
    gives an open container with its wall thickness, no boolean needed.
    """
    mesh = trimesh.creation.revolve(np.asarray(profile, dtype=np.float64), sections=sections)
    if mesh.volume < 0:  # a clockwise profile revolves inside out
        mesh.invert()
    return mesh


def _rounded_rect(half_x: float, half_y: float, radius: float, z: float,
                  corner_points: int) -> np.ndarray:
    """A counter-clockwise rounded rectangle loop at height z, (4 * corner_points, 3)."""
    if radius <= 0 or radius >= min(half_x, half_y):
        raise ValueError(f"corner radius {radius} must be in (0, {min(half_x, half_y)})")
    arc = np.linspace(0.0, np.pi / 2, corner_points)
    corners = [(half_x - radius, half_y - radius, 0.0), (-half_x + radius, half_y - radius, 0.5),
               (-half_x + radius, -half_y + radius, 1.0), (half_x - radius, -half_y + radius, 1.5)]
    pts = [np.column_stack([cx + radius * np.cos(arc + k * np.pi),
                            cy + radius * np.sin(arc + k * np.pi)]) for cx, cy, k in corners]
    xy = np.vstack(pts)
    return np.column_stack([xy, np.full(len(xy), z)])


def _rounded_box(size: tuple[float, float, float], corner_radius: float, edge_radius: float,
                 corner_points: int = 4, edge_steps: int = 1) -> trimesh.Trimesh:
    """A box with rounded vertical corners and rounded (or, with one step, chamfered) top and
    bottom edges: toy blocks, dice, cartons, sponges and remotes are all this shape."""
    if not 0 < edge_radius < corner_radius:
        raise ValueError(f"need 0 < edge_radius ({edge_radius}) < corner_radius ({corner_radius})")
    hx, hy, hz = (s / 2 for s in size)
    theta = np.linspace(0.0, np.pi / 2, edge_steps + 1)
    inset = edge_radius * (1 - np.sin(theta))  # from the flat face out to the full side
    rise = edge_radius * (1 - np.cos(theta))
    heights = np.concatenate([-hz + rise, (hz - rise)[::-1]])
    insets = np.concatenate([inset, inset[::-1]])
    loops = [_rounded_rect(hx - d, hy - d, corner_radius - d, z, corner_points)
             for z, d in zip(heights, insets)]
    return _loft(loops)


def _hollow_box(size: tuple[float, float, float], wall: float, floor: float,
                corner_radius: float, taper: float = 0.0,
                corner_points: int = 6) -> trimesh.Trimesh:
    """An open-top box with walls of thickness `wall`, lofted outside-up then inside-down.

    `taper` is how much smaller the base is than the rim on each side, as moulded storage
    boxes are, so that the box still rests on its flat floor.
    """
    hx, hy, h = size[0] / 2, size[1] / 2, size[2]
    bevel = min(0.003, floor / 2)  # soften the bottom edge so contacts are not knife-sharp

    def loop(z: float, inward: float) -> np.ndarray:
        shrink = inward + taper * (1 - z / h)
        return _rounded_rect(hx - shrink, hy - shrink, corner_radius - shrink, z, corner_points)

    loops = [loop(0.0, bevel), loop(bevel, 0.0), loop(h, 0.0),
             loop(h, wall), loop(floor, wall)]
    return _loft(loops)


def _ear_clip(xy: np.ndarray) -> np.ndarray:
    """Triangulate a simple counter-clockwise polygon without holes by ear clipping.

    trimesh's own polygon triangulation needs an optional engine (mapbox_earcut or triangle)
    that is not a dependency; outlines here have a few hundred points at most, so the
    quadratic algorithm is fast enough.
    """
    active = list(range(len(xy)))
    triangles: list[tuple[int, int, int]] = []

    def cross(o: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (a[..., 0] - o[..., 0]) * (b[..., 1] - o[..., 1]) - \
               (a[..., 1] - o[..., 1]) * (b[..., 0] - o[..., 0])

    while len(active) > 3:
        m = len(active)
        for k in range(m):
            i0, i1, i2 = active[k - 1], active[k], active[(k + 1) % m]
            a, b, c = xy[i0], xy[i1], xy[i2]
            if cross(a, b, c) <= 1e-14:  # reflex or collinear corner: not an ear
                continue
            others = xy[[v for v in active if v not in (i0, i1, i2)]]
            inside = ((cross(a, b, others) >= 0) & (cross(b, c, others) >= 0)
                      & (cross(c, a, others) >= 0))
            if not inside.any():
                triangles.append((i0, i1, i2))
                active.pop(k)
                break
        else:
            raise ValueError("outline is not a simple polygon; ear clipping found no ear")
    triangles.append(tuple(active))
    return np.asarray(triangles, dtype=np.int64)


def _extruded_outline(outline: Polygon, thickness: float) -> trimesh.Trimesh:
    """Extrude a flat xy outline (a shapely polygon without holes) by `thickness` along z."""
    outline = orient(outline.simplify(0.0), sign=1.0)  # counter-clockwise, no collinear points
    xy = np.asarray(outline.exterior.coords)[:-1]
    return trimesh.creation.extrude_triangulation(xy, _ear_clip(xy), thickness)


def _fit_to_size(mesh: trimesh.Trimesh, size: tuple[float, float, float]) -> trimesh.Trimesh:
    """Centre the mesh on its bounding box and scale each axis to the exact real-world size.

    Builders get within a few percent (lobes and tapers move the extremes); this makes the
    catalogue sizes exact, and refuses a correction so large that the builder must be wrong.
    """
    mesh.apply_translation(-mesh.bounds.mean(axis=0))
    scale = np.asarray(size) / mesh.extents
    if np.any(np.abs(scale - 1) > _MAX_FIT_CORRECTION):
        raise RuntimeError(f"builder produced extents {mesh.extents}, too far from {size}")
    mesh.apply_scale(scale)
    return mesh


# ------------------------------------------------------------------------------ object builders


def _block() -> trimesh.Trimesh:
    """Wooden toy block: a cube with 2 mm chamfered edges."""
    return _rounded_box(OBJECT_SIZES["block"], corner_radius=0.003, edge_radius=0.002,
                        corner_points=3, edge_steps=1)


def _dice() -> trimesh.Trimesh:
    """Small die: a cube with softly rounded edges and corners."""
    return _rounded_box(OBJECT_SIZES["dice"], corner_radius=0.004, edge_radius=0.003,
                        corner_points=4, edge_steps=3)


def _garlic() -> trimesh.Trimesh:
    """Garlic bulb: a squat teardrop with seven bulging cloves, a pointy top and a small flat
    root plate; the creases are shallow so that it stays nearly convex and can roll."""
    n_cloves, around = 7, 56
    psi = np.linspace(0.0, 2 * np.pi, around, endpoint=False)
    cloves = np.sqrt(np.abs(np.cos(n_cloves * psi / 2)))  # round bulges, creases between
    # alpha runs from the root (near pi) towards the tip (0); the sin^m(alpha/2) factor pinches
    # the top into a point while the bottom stays round and is cut flat at the root plate.
    alpha = np.linspace(2.75, 0.3, 18)
    radius = 0.0316 * np.sin(alpha) * np.sin(alpha / 2) ** 0.8
    height = 0.0215 * np.cos(alpha)
    lobe_depth = 0.08 * np.sin(alpha) ** 2  # cloves fade out at the root and the tip
    stem = [(0.0018, height[-1] + 0.002), (0.0012, height[-1] + 0.0045)]  # dried stem stub
    radius = np.concatenate([radius, [r for r, _ in stem]])
    height = np.concatenate([height, [z for _, z in stem]])
    lobe_depth = np.concatenate([lobe_depth, [0.0, 0.0]])
    loops = [np.column_stack([r * (1 - d * (1 - cloves)) * np.cos(psi),
                              r * (1 - d * (1 - cloves)) * np.sin(psi), np.full(around, z)])
             for r, z, d in zip(radius, height, lobe_depth)]
    tip = np.array([0.0, 0.0, height[-1] + 0.0015])
    return _loft(loops, end_tip=tip)


def _bowl() -> trimesh.Trimesh:
    """Open bowl: elliptical wall 6 mm thick, 16 cm rim, standing on a flat foot."""
    rim_r, height, wall = 0.08, 0.065, 0.006
    foot_r, floor_z = 0.036, 0.012
    beta = np.linspace(np.pi / 6, np.pi / 2, 11)  # outer wall from the foot to the rim
    b_out = (height - 0.007) / np.cos(np.pi / 6)
    outer = np.column_stack([rim_r * np.sin(beta), height - b_out * np.cos(beta)])
    b_in, a_in = b_out - wall, rim_r - wall
    beta_floor = np.arccos((height - floor_z) / b_in)
    beta_in = np.linspace(np.pi / 2, beta_floor, 11)
    inner = np.column_stack([a_in * np.sin(beta_in), height - b_in * np.cos(beta_in)])
    profile = np.vstack([[[0.0, 0.0], [foot_r, 0.0], [foot_r + 0.001, 0.005]], outer,
                         [[rim_r - wall / 2, height]], inner, [[0.0, floor_z]]])
    return _revolved(profile, sections=40)


def _cup() -> trimesh.Trimesh:
    """Plain cylindrical cup: 5 mm wall, 6 mm flat bottom, slightly rounded rim."""
    r, h, wall, bottom = 0.035, 0.09, 0.005, 0.006
    profile = [(0.0, 0.0), (r - 0.0015, 0.0), (r, 0.0015), (r, h - 0.001), (r - 0.001, h),
               (r - wall + 0.001, h), (r - wall, h - 0.001), (r - wall, bottom), (0.0, bottom)]
    return _revolved(profile, sections=48)


def _fork() -> trimesh.Trimesh:
    """Chunky plastic fork lying flat: rounded handle, narrow neck, head with four tines
    (x along the fork, tines towards +x), extruded 12 mm thick."""
    length, head_w, thickness = OBJECT_SIZES["fork"][0], OBJECT_SIZES["fork"][1], 0.012
    x0 = -length / 2
    end_arc = x0 + 0.010 * (1 - np.cos(np.linspace(0.0, np.pi / 2, 8)))  # dense at the end
    x = np.concatenate([end_arc, np.linspace(x0 + 0.0105, length / 2, 50)])

    def smoothstep(a: float, b: float, v: np.ndarray) -> np.ndarray:
        t = np.clip((v - a) / (b - a), 0.0, 1.0)
        return t * t * (3 - 2 * t)

    half = 0.0100 - 0.0015 * smoothstep(x0 + 0.01, 0.0, x)        # handle, slightly tapering
    half = half - (0.0085 - 0.0045) * smoothstep(0.0, 0.03, x)   # into the neck
    half = half + (0.013 - 0.0045) * smoothstep(0.03, 0.062, x)  # out to the head
    end = x < x0 + 0.010  # round the handle's end
    half[end] *= np.sqrt(np.clip(1 - ((x[end] - x0 - 0.010) / 0.010) ** 2, 0.0, 1.0))
    half[0] = 0.0
    body = Polygon(np.vstack([np.column_stack([x, -half]), np.column_stack([x[::-1], half[::-1]])]))
    tine_w = 0.005
    gap = (head_w - 4 * tine_w) / 3
    slots = [LineString([(0.066, y), (length, y)]).buffer(gap / 2, quad_segs=3)
             for y in (-head_w / 2 + tine_w + gap / 2 + k * (tine_w + gap) for k in range(3))]
    outline = body.difference(shapely.union_all(slots))
    outline = outline.buffer(-0.0008, quad_segs=2).buffer(0.0008, quad_segs=2)  # round tine tips
    outline = outline.intersection(box(x0, -head_w / 2, length / 2, head_w / 2))
    return _extruded_outline(outline, thickness)


def _storage_box() -> trimesh.Trimesh:
    """Open-top moulded plastic storage box: 6 mm walls, rounded corners, slight taper."""
    return _hollow_box(OBJECT_SIZES["storage_box"], wall=0.006, floor=0.006,
                       corner_radius=0.018, taper=0.005)


def _remote() -> trimesh.Trimesh:
    """TV remote: a long box with well-rounded corners and edges."""
    return _rounded_box(OBJECT_SIZES["remote"], corner_radius=0.012, edge_radius=0.006,
                        corner_points=6, edge_steps=4)


def _mouse() -> trimesh.Trimesh:
    """Computer mouse (buttons towards +x): egg-shaped footprint wider at the back, flat base
    with a soft edge, low straight sides, and an ellipsoidal dome peaking behind the middle."""
    l, w, h = OBJECT_SIZES["mouse"]
    t = np.linspace(0.0, 2 * np.pi, 48, endpoint=False)
    foot = np.column_stack([l / 2 * np.cos(t), w / 2 * np.sin(t) * (1 - 0.12 * np.cos(t))])
    foot[:, 1] *= (w / 2) / np.abs(foot[:, 1]).max()
    side_top = 0.010
    theta = np.linspace(0.0, np.pi / 2, 14)[:-1]  # dome latitudes, the top is the tip
    heights = np.concatenate([[0.0, 0.0015, 0.004], side_top + (h - side_top) * np.sin(theta)])
    scales = np.concatenate([[0.95, 0.985, 1.0], np.cos(theta)])
    backward = 0.012 * (1 - scales)  # the dome's centre drifts towards the back as it rises
    loops = [np.column_stack([s * foot[:, 0] - d, s * foot[:, 1], np.full(len(t), z)])
             for z, s, d in zip(heights, scales, backward)]
    return _loft(loops, end_tip=np.array([-0.012, 0.0, h]))


def _snack_box() -> trimesh.Trimesh:
    """Cardboard snack box: a crisp box, edges only barely softened."""
    return _rounded_box(OBJECT_SIZES["snack_box"], corner_radius=0.0015, edge_radius=0.001,
                        corner_points=2, edge_steps=1)


def _bottle() -> trimesh.Trimesh:
    """Plastic water bottle, closed: body with two grip grooves, shoulder, neck, ring, cap."""
    r, h = 0.0325, 0.20
    shoulder = np.linspace(0.0, np.pi / 2, 8)
    neck_r, shoulder_z0, shoulder_z1 = 0.0125, 0.125, 0.163
    profile = np.vstack([
        [[0.0, 0.0], [r - 0.004, 0.0], [r - 0.001, 0.001], [r, 0.004]],
        [[r, 0.060], [r - 0.0015, 0.064], [r, 0.068], [r, 0.090], [r - 0.0015, 0.094],
         [r, 0.098]],  # grip grooves
        np.column_stack([neck_r + (r - neck_r) * np.cos(shoulder),
                         shoulder_z0 + (shoulder_z1 - shoulder_z0) * np.sin(shoulder)]),
        [[neck_r, 0.172], [0.0160, 0.172], [0.0160, 0.174], [0.0150, 0.174],  # neck ring
         [0.0150, h - 0.001], [0.0140, h], [0.0, h]],  # cap
    ])
    return _revolved(profile, sections=40)


def _sponge() -> trimesh.Trimesh:
    """Kitchen sponge: a soft-edged slab."""
    return _rounded_box(OBJECT_SIZES["sponge"], corner_radius=0.006, edge_radius=0.004,
                        corner_points=4, edge_steps=3)


def _ruler() -> trimesh.Trimesh:
    """Wooden ruler / stick: a long flat bar with 1 mm chamfered edges."""
    return _rounded_box(OBJECT_SIZES["ruler"], corner_radius=0.002, edge_radius=0.001,
                        corner_points=3, edge_steps=1)


_BUILDERS: dict[str, Callable[[], trimesh.Trimesh]] = {
    "block": _block, "dice": _dice, "garlic": _garlic, "bowl": _bowl, "cup": _cup,
    "fork": _fork, "storage_box": _storage_box, "remote": _remote, "mouse": _mouse,
    "snack_box": _snack_box, "bottle": _bottle, "sponge": _sponge, "ruler": _ruler,
}
assert _BUILDERS.keys() == OBJECT_SIZES.keys()


# ---------------------------------------------------------------------------------- public API


@functools.lru_cache(maxsize=None)
def _built(kind: str) -> trimesh.Trimesh:
    """Build, size and check one kind once; callers get copies."""
    mesh = _fit_to_size(_BUILDERS[kind](), OBJECT_SIZES[kind])
    if not mesh.is_watertight or mesh.volume <= 0:
        raise RuntimeError(f"builder for {kind!r} made a mesh that is not a closed solid")
    if len(mesh.faces) >= MAX_FACES:
        raise RuntimeError(f"builder for {kind!r} made {len(mesh.faces)} faces (max {MAX_FACES})")
    logger.debug("built %s: %d faces, volume %.3g m^3", kind, len(mesh.faces), mesh.volume)
    return mesh


def make_object_mesh(kind: str) -> trimesh.Trimesh:
    """A watertight mesh of an everyday object, in metres, centred on its bounding box, z up,
    in its resting pose on a table. `kind` is one of `OBJECT_SIZES`."""
    if kind not in _BUILDERS:
        known = ", ".join(sorted(_BUILDERS))
        raise ValueError(f"unknown object kind {kind!r}; known kinds: {known}")
    return _built(kind).copy()


def write_object_mesh(kind: str, path: Path) -> Path:
    """Write the mesh of `kind` as an OBJ file at `path` (parent folders are created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    make_object_mesh(kind).export(path, file_type="obj")
    logger.info("wrote %s mesh to %s", kind, path)
    return path
