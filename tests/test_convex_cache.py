"""The convex-part cache: it keeps the mesh's bounds so that making a shipped env never loads a
mesh (trimesh alone costs ~0.5 s of start-up), and an older cache gains them without a new
decomposition."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from v2p_envs.convex import collision_cache, collision_parts, load_mesh

REPO = Path(__file__).resolve().parents[1]
SHIPPED_MESHES = sorted((REPO / "v2p_envs" / "generated").glob("*/meshes/*.obj"))


def test_shipped_caches_hold_the_bounds_trimesh_reads():
    assert SHIPPED_MESHES
    for mesh in SHIPPED_MESHES:
        manifest = json.loads((mesh.parent / f"{mesh.name}.collision" / "manifest.json").read_text())
        assert "bounds" in manifest, f"{mesh}: cache without bounds (run collision_parts on it)"
        np.testing.assert_array_equal(collision_cache(mesh).bounds, load_mesh(mesh).bounds)


def test_making_a_shipped_env_imports_no_mesh_library():
    code = ("import sys, gymnasium as gym, v2p_envs; gym.make('V2P-ThrowGarlic-v0').reset(seed=0); "
            "print('trimesh' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_an_old_cache_gains_bounds_and_keeps_its_parts(tmp_path):
    source = REPO / "v2p_envs" / "generated" / "throw_garlic" / "meshes" / "bowl.obj"
    mesh = tmp_path / "bowl.obj"
    shutil.copy(source, mesh)
    shutil.copytree(source.parent / "bowl.obj.collision", tmp_path / "bowl.obj.collision")
    manifest_path = tmp_path / "bowl.obj.collision" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["bounds"]
    manifest_path.write_text(json.dumps(manifest))
    before = {p.name: p.read_bytes() for p in (tmp_path / "bowl.obj.collision").glob("part_*.obj")}

    parts = collision_parts(mesh)

    assert {p.name: p.read_bytes() for p in parts} == before  # not decomposed again
    np.testing.assert_array_equal(json.loads(manifest_path.read_text())["bounds"], load_mesh(mesh).bounds)


def test_an_edited_mesh_is_not_sized_from_a_stale_cache(tmp_path):
    source = REPO / "v2p_envs" / "generated" / "reach_block" / "meshes" / "block.obj"
    mesh = tmp_path / "block.obj"
    shutil.copy(source, mesh)
    shutil.copytree(source.parent / "block.obj.collision", tmp_path / "block.obj.collision")
    stretched = load_mesh(mesh)
    stretched.apply_scale([2.0, 1.0, 1.0])
    stretched.export(mesh)
    np.testing.assert_allclose(collision_cache(mesh).bounds, stretched.bounds)
