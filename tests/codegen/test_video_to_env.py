"""A video shipped with the package becomes a registered-format, check_env-clean env in one
command (reconstruct -> template -> trial -> emit), and its generated success agrees with a
hand-written ground truth on oracle rollouts."""
from __future__ import annotations

import json
import math
from functools import partial

from gymnasium.utils.env_checker import check_env

import v2p_envs
from baselines.oracles import registry as oracle_registry
from baselines.oracles.base import TopGraspLiftOracle
from baselines.policy import OraclePolicy
from baselines.rollout import rollout
from generator.reconstruct.testvideos import DATA_DIR
from v2p.cli import main
from v2p_envs.ground_truth import GROUND_TRUTH
from v2p_envs.ground_truth.single_object import lifted


class _MouseLiftOracle(TopGraspLiftOracle):
    object_name = "mouse"
    yaw_period = math.pi
    lift_height = 0.15


def test_shipped_video_to_env_in_one_command(tmp_path, monkeypatch, capsys):
    out, emitted = tmp_path / "run", tmp_path / "tasks"
    assert main(["generate", str(DATA_DIR / "lift_mouse" / "video.mp4"), "--caption", "lift mouse from the table",
                 "--objects", "mouse", "--backend", "template", "--out", str(out), "--emit", "--emit-dir",
                 str(emitted), "--no-progress"]) == 0
    assert "V2P-LiftMouseFromTheTable-v0" in capsys.readouterr().out
    folder = emitted / "lift_mouse_from_the_table"
    scene = json.loads((folder / "scene.json").read_text())
    assert scene["pose_frame"] == "table" and (folder / scene["objects"][0]["urdf_path"]).is_file()
    assert scene["objects"][0]["pose_delta"][2] > 0.10  # the video lifts the mouse (table frame, z up)
    env = v2p_envs.make(folder)
    try:
        check_env(env.unwrapped)
        assert env.unwrapped.vec.definition.trusted_by == "trial"
    finally:
        env.close()

    # the generated success against the lift ground truth, applied to the mouse, on oracle rollouts
    monkeypatch.setitem(GROUND_TRUTH, "LiftMouseFromTheTable", partial(lifted, name="mouse"))
    oracle_registry.get_oracle("LiftUp")  # fills the registry
    monkeypatch.setitem(oracle_registry.ORACLES, "LiftMouseFromTheTable", _MouseLiftOracle)
    envs = v2p_envs.make_vec(folder, num_envs=10).unwrapped
    try:
        assert envs.success_metric == "ground_truth"
        result = rollout(envs, OraclePolicy(envs), list(range(10)))
    finally:
        envs.close()
    agree = sum(a == b for a, b in zip(result.success, result.generated_success))
    assert sum(result.success) >= 5 and agree >= 9, (result.success, result.generated_success)
