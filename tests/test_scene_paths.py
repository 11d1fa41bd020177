"""Paths in a task folder resolve inside the folder or are refused (issue 26): scene.json's
``mesh_path`` / ``urdf_path`` and the collision cache's manifest come with the folder, which may
be hostile; ``../../x.obj``, ``/etc/passwd`` or a link pointing out must not be read. The
refusal comes at scene load, names the file, the object and the field, and nothing is read."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import v2p_envs
from v2p_envs.convex import collision_cache
from v2p_envs.scene_spec import ObjectSpec, SceneSpec, SceneSpecError, load_scene_spec

SOURCE = v2p_envs.GENERATED_DIR / "reach_block"


@pytest.fixture
def task_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "tasks" / "reach_block"
    shutil.copytree(SOURCE, folder)
    return folder


@pytest.fixture
def outside_mesh(tmp_path: Path) -> Path:
    """A real mesh outside the task folder: were it loaded, the scene would build."""
    target = tmp_path / "elsewhere" / "x.obj"
    target.parent.mkdir()
    shutil.copy(SOURCE / "meshes" / "block.obj", target)
    return target


def _set_path(folder: Path, key: str, value: str) -> Path:
    path = folder / "scene.json"
    data = json.loads(path.read_text())
    data["objects"][0][key] = value
    path.write_text(json.dumps(data))
    return path


def _refused(path: Path, field: str, *words: str, check_files: bool = True) -> str:
    with pytest.raises(SceneSpecError) as err:
        load_scene_spec(path, check_files=check_files)
    message = str(err.value)
    assert str(path) in message and f"objects[0].{field}" in message and "'block'" in message, message
    for word in words:
        assert word in message, message
    return message


@pytest.mark.parametrize("field", ["mesh_path", "urdf_path"])
def test_a_path_up_and_out_of_the_folder_is_refused(task_copy, outside_mesh, field):
    path = _set_path(task_copy, field, "../../elsewhere/x.obj")
    assert (task_copy / "../../elsewhere/x.obj").is_file()  # it exists: the refusal is not "not found"
    _refused(path, field, "outside the task folder", str(outside_mesh))


@pytest.mark.parametrize("field", ["mesh_path", "urdf_path"])
@pytest.mark.parametrize("absolute", ["outside", "/etc/passwd"])
def test_absolute_paths_are_refused(task_copy, outside_mesh, field, absolute):
    value = str(outside_mesh) if absolute == "outside" else absolute
    _refused(_set_path(task_copy, field, value), field, "absolute path refused", value)


def test_an_absolute_path_into_the_folder_itself_is_refused_too(task_copy):
    """scene.json names files relative to its folder; a folder that moves must not point back."""
    value = str((task_copy / "meshes" / "block.obj").resolve())
    _refused(_set_path(task_copy, "mesh_path", value), "mesh_path", "absolute path refused")


def test_a_link_inside_the_folder_pointing_out_is_refused(task_copy, outside_mesh):
    (task_copy / "meshes" / "link.obj").symlink_to(outside_mesh)
    path = _set_path(task_copy, "mesh_path", "meshes/link.obj")
    _refused(path, "mesh_path", "through a symbolic link", str(outside_mesh))


def test_a_linked_folder_pointing_out_is_refused(task_copy, outside_mesh):
    (task_copy / "shared").symlink_to(outside_mesh.parent, target_is_directory=True)
    _refused(_set_path(task_copy, "mesh_path", "shared/x.obj"), "mesh_path", "through a symbolic link")


def test_refused_without_checking_files_as_well(task_copy):
    """``check_files=False`` (the task listing) still refuses: the check reads nothing."""
    _refused(_set_path(task_copy, "mesh_path", "/etc/passwd"), "mesh_path", check_files=False)
    _refused(_set_path(task_copy, "mesh_path", "../../../../../../etc/passwd"), "mesh_path", check_files=False)


def test_making_the_env_refuses_before_any_mesh_is_read(task_copy, outside_mesh, monkeypatch):
    import v2p_envs.convex as convex

    def no_reads(*args, **kwargs):
        raise AssertionError("a mesh was read")

    monkeypatch.setattr(convex, "load_mesh", no_reads)
    monkeypatch.setattr(convex, "_digest", no_reads)
    _set_path(task_copy, "mesh_path", "../../elsewhere/x.obj")
    with pytest.raises(SceneSpecError, match=r"objects\[0\]\.mesh_path.*outside the task folder"):
        v2p_envs.make(task_copy)


def test_a_link_inside_the_folder_to_a_file_inside_loads(task_copy):
    (task_copy / "meshes" / "alias.obj").symlink_to(task_copy / "meshes" / "block.obj")
    scene = load_scene_spec(_set_path(task_copy, "mesh_path", "meshes/alias.obj"))
    assert scene.resolve(scene.objects[0].mesh_path) == (task_copy / "meshes" / "block.obj").resolve()


def test_a_scene_built_in_code_resolves_only_inside_its_folder(tmp_path, outside_mesh):
    folder = tmp_path / "scene"
    folder.mkdir()
    inside = folder / "block.obj"
    shutil.copy(outside_mesh, inside)
    scene = SceneSpec("t", "T", "t", (ObjectSpec("block", (0.05, 0.05, 0.05), str(inside)),), source_dir=folder)
    assert scene.resolve(str(inside)) == inside.resolve()  # absolute but inside: a scene made in code
    with pytest.raises(SceneSpecError, match=r"objects\[0\]\.mesh_path.*outside the task folder"):
        scene.resolve(str(outside_mesh), "objects[0].mesh_path")


def test_collision_manifest_parts_stay_in_the_cache(tmp_path, outside_mesh):
    mesh = tmp_path / "task" / "block.obj"
    mesh.parent.mkdir()
    shutil.copy(SOURCE / "meshes" / "block.obj", mesh)
    cached = collision_cache(mesh)  # writes block.obj.collision/
    manifest = mesh.with_name("block.obj.collision") / "manifest.json"
    saved = json.loads(manifest.read_text())
    for bad in (str(outside_mesh), "../../elsewhere/x.obj", ".."):
        manifest.write_text(json.dumps({**saved, "parts": [bad]}))
        with pytest.raises(ValueError, match="field 'parts'"):
            collision_cache(mesh)
    link = manifest.parent / "link.obj"
    link.symlink_to(outside_mesh)
    manifest.write_text(json.dumps({**saved, "parts": ["link.obj"]}))
    with pytest.raises(ValueError, match="outside"):
        collision_cache(mesh)
    manifest.write_text(json.dumps(saved))
    assert collision_cache(mesh).parts == cached.parts


def test_a_collision_cache_linked_out_of_the_folder_is_refused(tmp_path):
    mesh = tmp_path / "task" / "block.obj"
    mesh.parent.mkdir()
    shutil.copy(SOURCE / "meshes" / "block.obj", mesh)
    elsewhere = tmp_path / "elsewhere.collision"
    elsewhere.mkdir()
    mesh.with_name("block.obj.collision").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(ValueError, match="link to .*outside the mesh's folder"):
        collision_cache(mesh)


def test_every_shipped_task_scene_loads():
    scenes = sorted(v2p_envs.GENERATED_DIR.glob("*/scene.json"))
    assert scenes
    for path in scenes:
        scene = load_scene_spec(path)
        for obj in scene.objects:
            assert scene.resolve(obj.mesh_path).is_relative_to(path.parent.resolve())
