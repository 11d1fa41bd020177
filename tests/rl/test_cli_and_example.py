"""`v2p train` / `v2p eval` end to end (tiny budget), and the bring-your-own-algorithm example."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from v2p.cli import main

from .conftest import TASK


def test_v2p_train_then_eval(tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert main(["train", TASK, "--num-envs", "4", "--steps", "256", "--seed", "3", "--episode-length", "16",
                 "--run-dir", str(run_dir), "--no-progress"]) == 0
    ckpt = run_dir / "checkpoints" / "last.pth"
    assert ckpt.is_file() and (run_dir / "metrics.jsonl").is_file()
    run = json.loads((run_dir / "run.json").read_text())
    assert run["config"]["seed"] == 3 and run["trainer"] == "rl_games"
    out = tmp_path / "eval.json"
    assert main(["eval", "--checkpoint", str(ckpt), "--episodes", "2", "--seeds", "0", "1", "--out", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["task"] == TASK and record["seeds"] == [0, 1] and record["episodes"] == 2
    assert record["episode_length"] == 300 and len(record["per_seed_success"]) == 2
    assert record["device"] == "cpu" and record["package_version"]
    assert "ground-truth success" in capsys.readouterr().out


def test_v2p_train_a_task_folder(tmp_path):
    """A task folder (e.g. a generated reward sample) trains and evaluates with its own code."""
    import shutil

    import v2p_envs

    folder = tmp_path / "reach_copy"
    shutil.copytree(Path(v2p_envs.GENERATED_DIR) / "reach_block", folder)
    task_py = folder / "task.py"
    task_py.write_text(task_py.read_text().replace('components = {"reach_reward"', 'components = {"marker": 0 * dist, "reach_reward"'))
    assert main(["train", str(folder), "--num-envs", "4", "--steps", "64", "--episode-length", "8",
                 "--run-dir", str(tmp_path / "run"), "--no-progress"]) == 0
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["env_id"] == TASK and run["config"]["task_dir"] == str(folder.resolve())
    rows = (tmp_path / "run" / "metrics.jsonl").read_text()
    assert '"marker"' in rows  # the folder's reward ran, not the shipped one
    out = tmp_path / "eval.json"
    assert main(["eval", "--checkpoint", str(tmp_path / "run" / "checkpoints" / "last.pth"), "--episodes", "1",
                 "--seeds", "0", "--out", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["task_dir"] == str(folder.resolve()) and record["task_trusted_by"] == "trial"
    # the shipped task is still what the id means
    assert v2p_envs.resolve_task(TASK).kwargs["task_dir"] == str(Path(v2p_envs.GENERATED_DIR) / "reach_block")


def test_custom_ppo_example_trains_on_make_vec():
    path = Path(__file__).resolve().parents[2] / "examples" / "custom_ppo.py"
    spec = importlib.util.spec_from_file_location("custom_ppo", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(spec.name, None)
    args = module.Args(env_id=TASK, num_envs=4, total_steps=128, episode_length=8, num_steps=16)
    agent, successes = module.train(args)
    assert len(successes) == 128 // 8  # 4 envs x 4 episodes of 8 steps, each reports ground-truth success
    assert agent.norm.count > 100


def test_v2p_run_with_a_checkpoint(rl_games_run, tmp_path, capsys):
    video = tmp_path / "run.mp4"
    assert main(["run", "--checkpoint", str(rl_games_run.checkpoint), "--episodes", "2", "--video", str(video),
                 "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "V2P-ReachBlock-v0" in out and "success rate" in out and video.stat().st_size > 1000
    assert main(["run", "V2P-PushLeft-v0", "--checkpoint", str(rl_games_run.checkpoint)]) == 2
    assert "trained on" in capsys.readouterr().err
