"""Writing a reconstructed object: its metric visual mesh (OBJ) and a minimal URDF.

Convex collision parts are made by the env's scene builder, not here.
"""
from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import trimesh

__all__ = ["write_object_files"]


def write_object_files(out_dir: Path, name: str, mesh: trimesh.Trimesh, density: float) -> tuple[str, str]:
    """Write ``meshes/<name>.obj`` and ``urdf/<name>.urdf`` under ``out_dir``; returns both paths
    relative to ``out_dir`` (as the scene JSON names them)."""
    mesh_rel, urdf_rel = f"meshes/{name}.obj", f"urdf/{name}.urdf"
    (out_dir / "meshes").mkdir(parents=True, exist_ok=True)
    (out_dir / "urdf").mkdir(parents=True, exist_ok=True)
    mesh.export(out_dir / mesh_rel)
    (out_dir / urdf_rel).write_text(_urdf(name, f"../{mesh_rel}", mesh, density))
    return mesh_rel, urdf_rel


def _urdf(name: str, mesh_file: str, mesh: trimesh.Trimesh, density: float) -> str:
    solid = mesh if mesh.is_watertight else mesh.convex_hull
    solid = solid.copy()
    solid.density = density
    mass = max(float(solid.mass), 1e-4)
    com = solid.center_mass
    inertia = np.asarray(solid.moment_inertia)
    if not np.all(np.isfinite(inertia)) or np.any(np.linalg.eigvalsh(inertia) <= 0):
        inertia = np.eye(3) * mass * float(np.square(mesh.extents).sum()) / 12.0
    i = inertia
    geometry = f'<geometry><mesh filename={quoteattr(mesh_file)} scale="1 1 1"/></geometry>'
    return f"""<?xml version="1.0"?>
<!-- written by generator.reconstruct: metric visual mesh; inertia of a solid of density {density} kg/m^3 -->
<robot name={quoteattr(name)}>
  <link name={quoteattr(name)}>
    <inertial>
      <origin xyz="{com[0]:.6g} {com[1]:.6g} {com[2]:.6g}" rpy="0 0 0"/>
      <mass value="{mass:.6g}"/>
      <inertia ixx="{i[0, 0]:.6g}" ixy="{i[0, 1]:.6g}" ixz="{i[0, 2]:.6g}" iyy="{i[1, 1]:.6g}" iyz="{i[1, 2]:.6g}" izz="{i[2, 2]:.6g}"/>
    </inertial>
    <visual>{geometry}</visual>
    <collision>{geometry}</collision>
  </link>
</robot>
"""
