"""General policies (issue 15): the lift family, the data engine, the dataset, BC through ``v2p bc``."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from baselines.bc.dataset import PROPRIO_DIM, Episode, FramePairs, read_episodes, write_dataset
from baselines.bc.model import BCPolicyNet, ResNet18, load_backbone
from generator.lift_family import SEEN_KINDS, UNSEEN_KINDS, family_specs, load_family, write_family
from v2p.cli import main

pytest.importorskip("h5py")


@pytest.fixture(scope="module")
def family(tmp_path_factory):
    out = tmp_path_factory.mktemp("family")
    write_family(out, family_specs(train=2, held_out_seen=0, held_out_unseen=1, seed=0), progress=False)
    return out


def test_family_splits_kinds_and_colours():
    specs = family_specs()
    assert len(specs) == 110 and [s.split for s in specs].count("train") == 100
    assert {s.kind for s in specs if s.split == "train"} == set(SEEN_KINDS)
    unseen = [s for s in specs if s.split == "held_out_unseen"]
    assert len(unseen) == 5 and all(s.kind in UNSEEN_KINDS for s in unseen)
    assert not {s.kind for s in unseen} & set(SEEN_KINDS)
    seen = [s for s in specs if s.split == "held_out_seen"]
    assert len(seen) == 5 and all(s.kind in SEEN_KINDS for s in seen)
    # every object fits the gripper across its narrower side
    assert all(min(s.size[:2]) <= 0.065 + 1e-9 for s in specs)
    assert len({s.rgba for s in specs}) == len(specs)
    with pytest.raises(ValueError, match="train >= 1"):
        family_specs(train=0)


def test_family_folders_load_as_envs(family):
    import v2p_envs

    tasks = load_family(family)
    assert [s.split for s, _ in tasks] == ["train", "train", "held_out_unseen"]
    spec, folder = tasks[0]
    scene = json.loads((folder / "scene.json").read_text())
    assert scene["objects"][0]["rgba"] == list(spec.rgba)
    provenance = json.loads((folder / "provenance.json").read_text())
    assert "not a model" in provenance["writer"]
    env = v2p_envs.make_vec(folder, num_envs=2, width=24, height=24).unwrapped
    try:
        env.reset(seed=[0, 1])
        rgb, seg = env.render_batch(segmentation=True)
        assert rgb.shape == (2, 24, 24, 3) and seg.shape == (2, 24, 24)
        assert set(np.unique(seg)) <= {0, 1, 2} and (seg == 2).any()  # the object is in view
    finally:
        env.close()


def test_dataset_round_trip_and_frame_pairs(tmp_path):
    def episode(t, value):
        return Episode("task", "block", "train", np.full((t, 8, 8, 3), value, np.uint8), np.zeros((t, 8, 8), np.uint8),
                       np.full((t, 7), value / 255, np.float32), np.zeros((t, 3), np.float32),
                       np.zeros((t, 4), np.float32), np.zeros((t, 1), np.float32))
    path = write_dataset(tmp_path / "d.hdf5", [episode(3, 10), episode(2, 200)], {"image_size": 8})
    episodes, env_args = read_episodes(path)
    assert [len(e) for e in episodes] == [3, 2] and env_args == {"image_size": 8}
    assert read_episodes(path, tasks={"other"})[0] == []
    pairs = FramePairs(episodes)
    assert len(pairs) == 5 and pairs[0][1].shape == (PROPRIO_DIM,)
    first_of_second = pairs[3][0]  # the first frame of an episode is paired with itself, not the last one
    assert torch.allclose(first_of_second[0], first_of_second[1]) and float(first_of_second[0].mean()) == pytest.approx(200 / 255)
    with pytest.raises(FileNotFoundError, match="v2p bc collect"):
        read_episodes(tmp_path / "missing.hdf5")


def test_backbone_takes_torchvision_names_and_refuses_others(tmp_path):
    from safetensors.torch import save_file

    source = ResNet18()
    state = {k: v.clone() for k, v in source.state_dict().items()}
    state["fc.weight"] = torch.zeros(1000, 512)  # the classifier of a torchvision checkpoint is skipped
    save_file(state, str(tmp_path / "r18.safetensors"))
    target = ResNet18()
    assert load_backbone(target, tmp_path / "r18.safetensors") == []
    assert torch.equal(target.conv1.weight, source.conv1.weight)
    save_file({"encoder.weight": torch.zeros(2)}, str(tmp_path / "bad.safetensors"))
    with pytest.raises(ValueError, match="not a resnet18"):
        load_backbone(ResNet18(), tmp_path / "bad.safetensors")
    out = BCPolicyNet()(torch.rand(3, 2, 3, 32, 32))
    assert out.shape == (3, 7) and out.abs().max() <= 1
    with_state = BCPolicyNet(proprio_dim=PROPRIO_DIM)
    assert with_state(torch.rand(3, 2, 3, 32, 32), torch.rand(3, PROPRIO_DIM)).shape == (3, 7)
    with pytest.raises(ValueError, match="robot's state"):
        with_state(torch.rand(3, 2, 3, 32, 32))
    # a rollout encodes each frame once and reuses it: the same action as the two-frame forward
    frames, proprio = torch.rand(3, 2, 3, 32, 32), torch.rand(3, PROPRIO_DIM)
    with torch.no_grad():
        with_state.eval()
        features = torch.stack([with_state.backbone(frames[:, 0]), with_state.backbone(frames[:, 1])], dim=1)
        assert torch.allclose(with_state.act(features, proprio), with_state(frames, proprio), atol=1e-6)


def test_collect_train_eval_through_v2p(family, tmp_path, capsys):
    data = tmp_path / "data.hdf5"
    assert main(["bc", "collect", str(family), "--out", str(data), "--episodes", "2", "--image-size", "16",
                 "--no-progress"]) == 0
    assert "4 of 4 episodes succeeded on 2 tasks" in capsys.readouterr().out
    episodes, env_args = read_episodes(data)
    assert env_args["image_size"] == 16 and "oracle" in env_args["policy"]
    assert all(e.images.shape[1:] == (16, 16, 3) and e.segmentation.shape[1:] == (16, 16) for e in episodes)
    assert all(np.abs(e.actions).max() <= 1 for e in episodes)
    assert data.with_suffix(".md").read_text().startswith("# Dataset card")
    run = tmp_path / "run"
    assert main(["bc", "train", str(data), "--out", str(run), "--epochs", "1", "--batch-size", "64",
                 "--no-progress"]) == 0
    record = json.loads((run / "bc.json").read_text())
    assert record["config"]["image_size"] == 16 and len(record["losses"]) == 1 and np.isfinite(record["losses"][0])
    assert record["config"]["proprio"] is True  # the cpu preset reads the robot's state
    from baselines.bc.train import load_policy

    torch.manual_seed(0)  # the run's seed: this is the network it started from
    start = BCPolicyNet(proprio_dim=PROPRIO_DIM)
    trained, _ = load_policy(run)
    for part in ("state", "head", "backbone"):  # every part learns, the state MLP too
        before, after = getattr(start, part).state_dict(), getattr(trained, part).state_dict()
        assert any(not torch.equal(before[k], after[k]) for k in before), part
    # a step budget repeats passes over the data: 2-3 batches of 64 per pass, 7 steps -> 3 or 4 passes
    stepped = tmp_path / "stepped"
    assert main(["bc", "train", str(data), "--out", str(stepped), "--steps", "7", "--images-only",
                 "--no-progress"]) == 0
    record = json.loads((stepped / "bc.json").read_text())
    batches = -(-record["samples"] // 64)
    assert record["config"]["proprio"] is False and len(record["losses"]) == -(-7 // batches)
    results = tmp_path / "eval.json"
    assert main(["bc", "eval", str(run), "--family", str(family), "--episodes", "2", "--seeds", "1",
                 "--max-steps", "5", "--json", str(results), "--no-progress"]) == 0
    rows = json.loads(results.read_text())
    assert [r["split"] for r in rows] == ["held_out_unseen"] and len(rows[0]["successes"]) == 2
    # a run folder without a checkpoint is one clear error
    assert main(["bc", "eval", str(tmp_path), "--family", str(family)]) == 2
    assert "no BC checkpoint" in capsys.readouterr().err


@pytest.mark.parametrize("mode", ["two_stage", "joint"])
def test_video_policy_trains_and_evaluates_through_v2p(family, tmp_path, capsys, mode):
    from baselines.bc.video_policy import FrameWindows
    from baselines.bc.train import load_policy

    data = tmp_path / "data.hdf5"
    assert main(["bc", "collect", str(family), "--out", str(data), "--tasks", "1", "--episodes", "1",
                 "--image-size", "16", "--no-progress"]) == 0
    episodes, _ = read_episodes(data)
    windows = FrameWindows(episodes, horizon=3)
    frames, future, proprio, action = windows[len(windows) - 1]
    assert frames.shape == (2, 3, 16, 16) and future.shape == (3, 3, 16, 16) and action.shape == (7,)
    assert proprio.shape == (PROPRIO_DIM,)
    assert torch.equal(future[0], future[2])  # clamped at the episode's end
    run = tmp_path / "video"
    assert main(["bc", "train", str(data), "--out", str(run), "--policy", "video", "--steps", "3", "--no-progress"]) == 2
    assert "--steps sets the resnet18 policy's budget" in capsys.readouterr().err
    assert main(["bc", "train", str(data), "--out", str(run), "--policy", "video", "--horizon", "3",
                 "--mode", mode, "--epochs", "2", "--batch-size", "32", "--no-progress"]) == 0
    record = json.loads((run / "bc.json").read_text())
    assert record["kind"] == "video" and record["config"]["mode"] == mode
    assert len(record["video_losses"]) == 4 and all(np.isfinite(record["losses"]))
    net, config = load_policy(run)
    stage2 = record["video_losses"][2:]
    if mode == "two_stage":  # the video model is frozen in stage 2: its loss is the same every epoch
        assert stage2[0] == pytest.approx(stage2[1], rel=1e-5)
    else:  # trained jointly, it keeps changing
        assert stage2[0] != pytest.approx(stage2[1], rel=1e-5)
    assert net(torch.rand(2, 2, 3, 16, 16), torch.rand(2, PROPRIO_DIM)).shape == (2, 7) and config.image_size == 16
    assert main(["bc", "eval", str(run), "--family", str(family), "--episodes", "1", "--seeds", "1",
                 "--max-steps", "3", "--no-progress"]) == 0


def test_scaling_runner_trains_again_a_run_of_another_recipe(tmp_path, caplog):
    from dataclasses import asdict, replace

    from baselines.bc.train import PRESETS
    from benchmarks.bc_scaling import _trained_with

    preset = replace(PRESETS["cpu"], threads=2)
    assert not _trained_with(tmp_path, preset)  # nothing trained yet
    (tmp_path / "bc.json").write_text(json.dumps({"config": asdict(replace(PRESETS["cpu"], image_size=32))}))
    assert _trained_with(tmp_path, preset)  # threads, device and the data's image size do not count
    (tmp_path / "bc.json").write_text(json.dumps({"config": asdict(replace(PRESETS["cpu"], steps=None, epochs=1))}))
    (tmp_path / "eval.json").write_text("{}")
    assert not _trained_with(tmp_path, preset) and not (tmp_path / "eval.json").exists()
    assert "'steps': (None, 400)" in caplog.text
