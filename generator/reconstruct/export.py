"""Writing a reconstructed object: its metric visual mesh (OBJ), convex collision parts, a URDF
and an MJCF.

The collision parts are the env's own cached decomposition (``v2p_envs.convex``), so the scene
builder later finds them next to the mesh and never decomposes twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import trimesh

from v2p_envs.convex import collision_parts

__all__ = ["ObjectFiles", "write_object_files", "urdf_text"]


@dataclass(frozen=True)
class ObjectFiles:
    """Paths relative to the output folder, as the scene JSON names them."""

    mesh: str
    urdf: str
    mjcf: str | None
    collision: tuple[str, ...]


def write_object_files(out_dir: Path, name: str, mesh: trimesh.Trimesh, density: float,
                       collision: bool = True) -> ObjectFiles:
    """Write ``meshes/<name>.obj``, its convex parts (with ``collision``), ``urdf/<name>.urdf``
    and ``mjcf/<name>.xml`` under ``out_dir``. Without ``collision`` the URDF collides with the
    visual mesh (a physics engine takes its hull) and no MJCF is written."""
    mesh_rel, urdf_rel = f"meshes/{name}.obj", f"urdf/{name}.urdf"
    (out_dir / "meshes").mkdir(parents=True, exist_ok=True)
    (out_dir / "urdf").mkdir(parents=True, exist_ok=True)
    mesh.export(out_dir / mesh_rel)
    parts: tuple[str, ...] = ()
    mjcf_rel = None
    if collision:
        parts = tuple(p.relative_to(out_dir).as_posix() for p in collision_parts(out_dir / mesh_rel))
        mjcf_rel = f"mjcf/{name}.xml"
        (out_dir / "mjcf").mkdir(parents=True, exist_ok=True)
        (out_dir / mjcf_rel).write_text(_mjcf(name, mesh_rel, parts, density))
    (out_dir / urdf_rel).write_text(urdf_text(name, mesh_rel, parts or (mesh_rel,), mesh, density))
    return ObjectFiles(mesh_rel, urdf_rel, mjcf_rel, parts)


def urdf_text(name: str, mesh_rel: str, collision_rel: tuple[str, ...], mesh: trimesh.Trimesh, density: float) -> str:
    """A URDF for one object; paths are relative to the folder that holds ``urdf/`` and ``meshes/``."""
    solid = mesh if mesh.is_watertight else mesh.convex_hull
    solid = solid.copy()
    solid.density = density
    mass = max(float(solid.mass), 1e-4)
    com = solid.center_mass
    inertia = np.asarray(solid.moment_inertia)
    if not np.all(np.isfinite(inertia)) or np.any(np.linalg.eigvalsh(inertia) <= 0):
        inertia = np.eye(3) * mass * float(np.square(mesh.extents).sum()) / 12.0
    i = inertia

    def geometry(rel: str) -> str:
        return f'<geometry><mesh filename={quoteattr("../" + rel)} scale="1 1 1"/></geometry>'

    collisions = "\n    ".join(f"<collision>{geometry(rel)}</collision>" for rel in collision_rel)
    return f"""<?xml version="1.0"?>
<!-- written by generator.reconstruct: metric visual mesh; inertia of a solid of density {density} kg/m^3 -->
<robot name={quoteattr(name)}>
  <link name={quoteattr(name)}>
    <inertial>
      <origin xyz="{com[0]:.6g} {com[1]:.6g} {com[2]:.6g}" rpy="0 0 0"/>
      <mass value="{mass:.6g}"/>
      <inertia ixx="{i[0, 0]:.6g}" ixy="{i[0, 1]:.6g}" ixz="{i[0, 2]:.6g}" iyy="{i[1, 1]:.6g}" iyz="{i[1, 2]:.6g}" izz="{i[2, 2]:.6g}"/>
    </inertial>
    <visual>{geometry(mesh_rel)}</visual>
    {collisions}
  </link>
</robot>
"""


def _mjcf(name: str, mesh_rel: str, parts: tuple[str, ...], density: float) -> str:
    """A free body: the visual mesh (group 2, no contact) and one collision geom per convex part."""
    assets = [f'<mesh name={quoteattr(name + "_visual")} file={quoteattr(mesh_rel)}/>']
    geoms = [f'<geom type="mesh" mesh={quoteattr(name + "_visual")} group="2" contype="0" conaffinity="0" density="0"/>']
    for k, rel in enumerate(parts):
        assets.append(f'<mesh name={quoteattr(f"{name}_part{k}")} file={quoteattr(rel)}/>')
        geoms.append(f'<geom type="mesh" mesh={quoteattr(f"{name}_part{k}")} group="3" density="{density:g}"/>')
    nl = "\n    "
    return f"""<mujoco model={quoteattr(name)}>
  <!-- written by generator.reconstruct: visual mesh plus convex collision parts, density {density:g} kg/m^3 -->
  <compiler meshdir=".." angle="radian"/>
  <asset>
    {nl.join(assets)}
  </asset>
  <worldbody>
    <body name={quoteattr(name)}>
      <freejoint/>
      {(nl + "  ").join(geoms)}
    </body>
  </worldbody>
</mujoco>
"""
