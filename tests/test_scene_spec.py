"""Bad scene.json input fails with one clear error naming the file and the field."""
import json
import shutil

import pytest

import v2p_envs
from v2p_envs.scene_spec import SceneSpecError, load_scene_spec

SOURCE = v2p_envs.GENERATED_DIR / "reach_block"


@pytest.fixture
def task_copy(tmp_path):
    folder = tmp_path / "reach_block"
    shutil.copytree(SOURCE, folder)
    return folder


def edit_scene(folder, edit):
    path = folder / "scene.json"
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    return path


def test_missing_field_names_file_and_field(task_copy):
    path = edit_scene(task_copy, lambda d: d["objects"][0].pop("size"))
    with pytest.raises(SceneSpecError) as err:
        load_scene_spec(path)
    assert str(path) in str(err.value) and "objects[0].size" in str(err.value) and "missing" in str(err.value)


def test_wrong_type_names_file_and_field(task_copy):
    path = edit_scene(task_copy, lambda d: d["objects"][0].update(size="5cm"))
    with pytest.raises(SceneSpecError, match=r"objects\[0\]\.size.*expected a list of 3 positive numbers"):
        load_scene_spec(path)
    path = edit_scene(task_copy, lambda d: d.update(task_title=3))
    with pytest.raises(SceneSpecError, match="task_title.*expected a non-empty string"):
        load_scene_spec(path)


def test_missing_mesh_file_names_file_and_field(task_copy):
    edit_scene(task_copy, lambda d: d["objects"][0].update(mesh_path="meshes/nope.obj"))
    with pytest.raises(SceneSpecError) as err:
        v2p_envs.make(task_copy)
    message = str(err.value)
    assert "scene.json" in message and "objects[0].mesh_path" in message and "nope.obj" in message


def test_scene_round_trip_keeps_pose_tracks(tmp_path):
    scene = load_scene_spec(SOURCE / "scene.json")
    track = ((0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0), (0.1, 0.0, 0.05, 1.0, 0.0, 0.0, 0.0))
    obj = scene.objects[0].__class__(**{**scene.objects[0].__dict__, "poses": track})
    data = {**scene.to_dict(), "objects": [obj.to_dict()]}
    assert data["objects"][0]["pose_delta"][:3] == pytest.approx([0.1, 0.0, 0.05])
    (tmp_path / "meshes").mkdir()
    shutil.copy(SOURCE / "meshes" / "block.obj", tmp_path / "meshes" / "block.obj")
    (tmp_path / "scene.json").write_text(json.dumps(data))
    assert load_scene_spec(tmp_path / "scene.json").objects[0].poses == track


def test_object_colour_is_checked_and_kept(task_copy):
    path = edit_scene(task_copy, lambda d: d["objects"][0].update(rgba=[1.2, 0, 0, 1]))
    with pytest.raises(SceneSpecError, match=r"objects\[0\]\.rgba.*in \[0, 1\]"):
        load_scene_spec(path)
    path = edit_scene(task_copy, lambda d: d["objects"][0].update(rgba=[0.1, 0.2, 0.3, 1.0]))
    scene = load_scene_spec(path)
    assert scene.objects[0].rgba == (0.1, 0.2, 0.3, 1.0) and scene.objects[0].to_dict()["rgba"] == [0.1, 0.2, 0.3, 1.0]
    env = v2p_envs.make_vec(task_copy, num_envs=1).unwrapped
    try:
        geom = env.built.model.geom(f"{scene.objects[0].name}_visual")
        assert list(geom.rgba) == pytest.approx([0.1, 0.2, 0.3, 1.0])
    finally:
        env.close()
