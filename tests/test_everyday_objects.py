"""The everyday-object mesh catalogue: closed, real-sized, centred, light enough for MuJoCo."""
from pathlib import Path

import numpy as np
import pytest
import trimesh

from generator.assets import OBJECT_SIZES, make_object_mesh, write_object_mesh

KINDS = sorted(OBJECT_SIZES)
HOLLOW = ("bowl", "cup", "storage_box")
SIZE_TOL = 0.002  # metres
CENTRE_TOL = 0.001


@pytest.mark.parametrize("kind", KINDS)
def test_mesh_is_closed_real_sized_and_centred(kind: str) -> None:
    mesh = make_object_mesh(kind)
    assert mesh.is_watertight, f"{kind} is not watertight"
    assert mesh.is_winding_consistent
    np.testing.assert_allclose(mesh.extents, OBJECT_SIZES[kind], atol=SIZE_TOL)
    lo, hi = mesh.bounds
    np.testing.assert_allclose(lo, -hi, atol=CENTRE_TOL)
    assert len(mesh.faces) < 3000


@pytest.mark.parametrize("kind", KINDS)
def test_volume_is_plausible(kind: str) -> None:
    mesh = make_object_mesh(kind)
    box_volume = float(np.prod(OBJECT_SIZES[kind]))
    assert mesh.volume > 0
    fraction = mesh.volume / box_volume
    if kind in HOLLOW:
        assert fraction < 0.4, f"{kind} fills {fraction:.0%} of its box; it should be hollow"
        assert fraction > 0.05, f"{kind} fills only {fraction:.0%} of its box; walls too thin"
    else:
        assert 0.3 < fraction <= 1.0, f"{kind} fills {fraction:.0%} of its box"


def _surface_heights_on_z_axis(mesh: trimesh.Trimesh) -> np.ndarray:
    """Heights where the vertical line x = y = 0 meets the surface (no ray engine needed)."""
    tri = mesh.triangles
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    det = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (c[:, 0] - a[:, 0]) * (b[:, 1] - a[:, 1])
    ok = np.abs(det) > 1e-15
    u = ((-a[:, 0]) * (c[:, 1] - a[:, 1]) - (c[:, 0] - a[:, 0]) * (-a[:, 1]))[ok] / det[ok]
    v = ((b[:, 0] - a[:, 0]) * (-a[:, 1]) - (-a[:, 0]) * (b[:, 1] - a[:, 1]))[ok] / det[ok]
    inside = (u >= -1e-9) & (v >= -1e-9) & (u + v <= 1 + 1e-9)
    z = a[ok, 2] + u * (b[ok, 2] - a[ok, 2]) + v * (c[ok, 2] - a[ok, 2])
    return z[inside]


def test_hollow_objects_are_open_at_the_top() -> None:
    for kind in HOLLOW:
        mesh = make_object_mesh(kind)
        # looking down the axis, the first surface is the floor, well below the rim
        heights = _surface_heights_on_z_axis(mesh)
        assert len(heights) > 0, kind
        assert heights.max() < mesh.bounds[1, 2] - 0.5 * OBJECT_SIZES[kind][2], kind


def test_meshes_rest_flat_side_down() -> None:
    for kind in KINDS:
        mesh = make_object_mesh(kind)
        bottom = mesh.bounds[0, 2]
        on_table = mesh.triangles[:, :, 2].max(axis=1) < bottom + 1e-6
        down = (mesh.face_normals[:, 2] < -0.99) & on_table
        assert mesh.area_faces[down].sum() > 0, f"{kind} has no flat base"


def test_callers_get_independent_copies() -> None:
    first = make_object_mesh("garlic")
    first.apply_translation([1.0, 0.0, 0.0])
    second = make_object_mesh("garlic")
    np.testing.assert_allclose(second.bounds.mean(axis=0), 0.0, atol=CENTRE_TOL)


@pytest.mark.parametrize("kind", KINDS)
def test_obj_round_trip_keeps_extents(kind: str, tmp_path: Path) -> None:
    path = write_object_mesh(kind, tmp_path / "nested" / f"{kind}.obj")
    assert path.is_file()
    loaded = trimesh.load(path, force="mesh")
    np.testing.assert_allclose(loaded.extents, OBJECT_SIZES[kind], atol=SIZE_TOL)
    assert loaded.is_watertight


def test_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(ValueError) as excinfo:
        make_object_mesh("teapot")
    message = str(excinfo.value)
    assert "teapot" in message
    for kind in KINDS:
        assert kind in message
