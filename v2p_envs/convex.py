"""Convex collision parts for object meshes, computed once and cached next to the mesh.

MuJoCo collides every mesh geom as its convex hull, so a concave object (bowl, box, cup) needs
a convex decomposition or it behaves like a solid lump. Parts are made on the unscaled mesh:
scaling a convex part by a per-axis factor keeps it convex, so one cache serves every size.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # trimesh costs ~0.5 s to import; a cached mesh never needs it
    import trimesh

__all__ = ["CollisionCache", "collision_cache", "collision_parts", "load_mesh", "CONVEX_TOLERANCE"]

log = logging.getLogger(__name__)
#: A mesh whose volume is within this fraction of its hull's volume is treated as convex.
CONVEX_TOLERANCE = 0.03
_CACHE_SUFFIX = ".collision"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def load_mesh(path: Path) -> trimesh.Trimesh:
    """Load one mesh file as a single Trimesh, with a message naming the file on failure."""
    import trimesh

    try:
        mesh = trimesh.load(path, force="mesh", process=True)
    except Exception as exc:  # trimesh raises many types for bad files
        raise ValueError(f"{path}: cannot read mesh ({exc})") from None
    if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
        raise ValueError(f"{path}: mesh has no faces")
    return mesh


def is_nearly_convex(mesh: trimesh.Trimesh) -> bool:
    hull_volume = mesh.convex_hull.volume
    if hull_volume <= 0:
        return True
    volume = abs(mesh.volume) if mesh.is_watertight else 0.0
    return volume >= (1.0 - CONVEX_TOLERANCE) * hull_volume


def _cache_key(mesh_path: Path, threshold: float, max_parts: int) -> dict[str, Any]:
    return {"source_sha256": _digest(mesh_path), "threshold": threshold, "max_parts": max_parts}


@dataclass(frozen=True)
class CollisionCache:
    """What the cache beside a mesh holds: its convex parts and the mesh's bounds (2 x 3: low,
    high, as trimesh reads them), so building a scene from cached meshes never loads a mesh."""

    parts: list[Path]
    bounds: np.ndarray


def collision_cache(mesh_path: Path, threshold: float = 0.05, max_parts: int = 16) -> CollisionCache:
    """The convex parts and bounds of ``mesh_path``; decomposes with CoACD on a cache miss.

    The cache is the folder ``<mesh>.collision/`` beside the mesh, keyed by the mesh file's hash
    and the decomposition settings, so an edited mesh is decomposed again.
    """
    mesh_path = Path(mesh_path)
    cache = mesh_path.with_name(mesh_path.name + _CACHE_SUFFIX)
    _check_cache_folder(mesh_path, cache)
    manifest = cache / "manifest.json"
    key = _cache_key(mesh_path, threshold, max_parts)
    saved = json.loads(manifest.read_text()) if manifest.is_file() else {}
    if saved.get("key") == key:
        parts = [_cached_part(cache, name, manifest) for name in saved.get("parts", [])]
        if parts and all(p.is_file() for p in parts):
            if "bounds" not in saved:  # a cache from before bounds were kept: add them, keep the parts
                saved["bounds"] = load_mesh(mesh_path).bounds.tolist()
                manifest.write_text(json.dumps(saved, indent=1))
            return CollisionCache(parts, np.asarray(saved["bounds"], dtype=float))
    mesh = load_mesh(mesh_path)
    if is_nearly_convex(mesh):
        hulls = [mesh.convex_hull]
    else:
        hulls = _decompose(mesh, threshold, max_parts)
        log.info("%s: %d convex parts", mesh_path.name, len(hulls))
    cache.mkdir(parents=True, exist_ok=True)
    names = []
    for i, hull in enumerate(hulls):
        name = f"part_{i:02d}.obj"
        hull.export(cache / name)
        names.append(name)
    manifest.write_text(json.dumps({"key": key, "parts": names, "bounds": mesh.bounds.tolist()}, indent=1))
    return CollisionCache([cache / n for n in names], np.asarray(mesh.bounds, dtype=float))


def _check_cache_folder(mesh_path: Path, cache: Path) -> None:
    """The cache folder must be the mesh's sibling, not a link elsewhere: a task folder's cache
    is read (parts loaded into the simulator) and written, and both stay in the folder."""
    if (cache.exists() or cache.is_symlink()) and cache.resolve().parent != mesh_path.resolve().parent:
        raise ValueError(f"{cache}: the collision cache is a link to {cache.resolve()}, outside the mesh's folder "
                         f"{mesh_path.resolve().parent}; remove it to have it made again")


def _cached_part(cache: Path, name: object, manifest: Path) -> Path:
    """A part named in the manifest: a plain file name inside the cache folder (the manifest comes
    with a task folder, which may be hostile: no ``../``, absolute paths or links out)."""
    if not isinstance(name, str) or name in ("", ".", "..") or Path(name).name != name or "\x00" in name:
        raise ValueError(f"{manifest}: field 'parts': expected file names inside {cache.name}/, got {name!r}")
    part = cache / name
    if part.resolve().parent != cache.resolve():
        raise ValueError(f"{manifest}: field 'parts': {name!r} resolves to {part.resolve()}, outside {cache}")
    return part


def collision_parts(mesh_path: Path, threshold: float = 0.05, max_parts: int = 16) -> list[Path]:
    """Paths of the convex parts of ``mesh_path`` (see :func:`collision_cache`)."""
    return collision_cache(mesh_path, threshold, max_parts).parts


def _decompose(mesh: trimesh.Trimesh, threshold: float, max_parts: int) -> list[trimesh.Trimesh]:
    import coacd
    import trimesh

    coacd.set_log_level("error")
    parts = coacd.run_coacd(coacd.Mesh(np.asarray(mesh.vertices), np.asarray(mesh.faces)),
                            threshold=threshold, max_convex_hull=max_parts, seed=0)
    return [trimesh.Trimesh(v, f).convex_hull for v, f in parts]
