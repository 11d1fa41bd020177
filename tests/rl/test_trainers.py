"""Smoke tests: each trainer trains for a few epochs, checkpoints, and its policy evaluates."""
from __future__ import annotations

import json

import pytest
import torch

from baselines.rl import RunInfo, TrainConfig, evaluate_checkpoints, load_policy, load_weights, make_env, train
from v2p_envs.errors import V2PError
from baselines.rl.rl_games_adapter import rl_games_params

from .conftest import SMALL, TASK


def _check_run(result, steps):
    run = json.loads((result.run_dir / "run.json").read_text())
    assert run["status"] == "done" and run["env_steps"] == result.env_steps >= steps
    assert result.checkpoint.is_file()
    rows = [json.loads(line) for line in (result.run_dir / "metrics.jsonl").read_text().splitlines()]
    assert rows and rows[-1]["env_steps"] == result.env_steps
    assert sum(r["episodes"] for r in rows) >= SMALL["num_envs"]  # 16-step episodes did end
    assert {"reach_reward", "action_penalty"} <= set(rows[-1]["components_step_mean"])
    assert list((result.run_dir / "tb").glob("events.out.tfevents.*"))
    return rows


def _check_policy(checkpoint):
    env = make_env(TASK, 4)
    try:
        policy = load_policy(checkpoint, env)
        obs, _ = env.reset(seed=0)
        a1, a2 = policy.act(obs), policy.act(obs)
        assert a1.shape == (4, 7) and torch.equal(a1, a2)  # deterministic
        assert float(a1.abs().max()) <= 1.0
    finally:
        env.close()


def test_rl_games_trains_logs_and_checkpoints(rl_games_run):
    rows = _check_run(rl_games_run, 768)
    assert len(rows) == 12  # one row per rl-games epoch
    _check_policy(rl_games_run.checkpoint)


def test_rl_games_params_cpu_sharp_edges():
    env = make_env(TASK, 8)
    try:
        c = rl_games_params(TrainConfig(TASK, num_envs=8, steps=1000, device="cpu"), env)["config"]
    finally:
        env.close()
    assert c["torch_compile"] is False and c["max_epochs"] == -1 and c["max_frames"] == 1000
    assert "max_steps" not in c
    batch = c["horizon_length"] * 8
    assert batch % c["minibatch_size"] == 0 and batch // c["minibatch_size"] >= 4


def test_rl_games_resume_continues_the_run(rl_games_run, tmp_path):
    import shutil

    run_dir = tmp_path / "resumed"
    shutil.copytree(rl_games_run.run_dir, run_dir)
    cfg = TrainConfig(TASK, steps=1024, run_dir=str(run_dir), resume=True, **SMALL)
    result = train(cfg)
    assert result.env_steps == 1024  # 768 before + 4 more epochs of 64
    state = load_weights(result.checkpoint)
    assert state["frame"] == 1024 and state["epoch"] == 16
    with pytest.raises(V2PError, match="resume"):
        train(TrainConfig(TASK, steps=64, run_dir=str(run_dir), **SMALL))


@pytest.mark.parametrize("trainer", ["sb3", "skrl"])
def test_plugin_trainers(trainer, tmp_path):
    result = train(TrainConfig(TASK, trainer=trainer, steps=256, run_dir=str(tmp_path / trainer), **SMALL))
    _check_run(result, 256)
    assert RunInfo.of_checkpoint(result.checkpoint).trainer == trainer
    _check_policy(result.checkpoint)


def test_evaluation_record(rl_games_run, tmp_path):
    record = evaluate_checkpoints([rl_games_run.checkpoint], seeds=[0, 1, 2], episodes=3, max_episode_steps=20)
    data = record.to_json()
    for key in ("task", "method", "seeds", "per_seed_success", "mean", "std", "steps", "wall_time_s", "device",
                "package_version", "git_commit"):
        assert key in data, key
    assert data["task"] == TASK and data["seeds"] == [0, 1, 2] and len(data["per_seed_success"]) == 3
    assert data["steps"] == 768 and data["wall_time_s"]["train"] > 0 and data["method"] == "v2p/rl_games"
    assert data["episode_length"] == 20
    path = record.write(tmp_path / "eval.json")
    assert json.loads(path.read_text())["mean"] == pytest.approx(sum(data["per_seed_success"]) / 3, abs=1e-3)
    assert data["metric"] == "ground_truth" and data["task_trusted_by"] == "shipped"
    assert [len(e) for e in data["per_episode_success"]] == [3, 3, 3]
    with pytest.raises(V2PError, match="one per seed"):
        evaluate_checkpoints([rl_games_run.checkpoint] * 2, seeds=[0, 1, 2])


def test_max_time_ends_training_after_the_epoch(tmp_path):
    result = train(TrainConfig(TASK, steps=100_000, run_dir=str(tmp_path / "run"), max_time_s=1e-3, **SMALL))
    assert result.env_steps == 64  # one rl-games epoch of 8 envs x 8 steps, then the time limit
    run = RunInfo.of_checkpoint(result.checkpoint)
    assert run.status == "done" and run.config.max_time_s == 1e-3


def test_every_trainer_starts_exploring_at_the_shipped_std():
    """rl-games reads sigma_init itself; SB3 and skrl are given the same initial log std."""
    from baselines.rl.config import load_ppo_config
    from baselines.rl.sb3_adapter import _ppo_kwargs
    from baselines.rl.skrl_adapter import make_agent

    shipped = load_ppo_config(TASK)["params"]["network"]["space"]["continuous"]["sigma_init"]["val"]
    assert shipped == -1.0  # the shared configuration (issue 11: std 0.37, not 1.0)
    cfg = TrainConfig(TASK, num_envs=8, steps=1000, device="cpu")
    env = make_env(TASK, 8)
    try:
        space = rl_games_params(cfg, env)["network"]["space"]["continuous"]
        agent = make_agent(cfg, env.single_observation_space, env.single_action_space, 8)
    finally:
        env.close()
    assert space["sigma_init"] == {"name": "const_initializer", "val": shipped} and space["fixed_sigma"]
    assert _ppo_kwargs(cfg, 8)["policy_kwargs"]["log_std_init"] == shipped
    assert torch.allclose(agent.models["policy"].log_std.detach(), torch.full((7,), shipped))


@pytest.mark.parametrize("init", [{"name": "orthogonal_initializer"}, {"name": "const_initializer", "val": "small"}, 3])
def test_an_unusable_sigma_init_is_named(init):
    from baselines.rl.config import initial_log_std

    params = {"network": {"space": {"continuous": {"sigma_init": init}}}}
    with pytest.raises(V2PError, match=r"task/ppo.yaml: network.space.continuous.sigma_init: expected"):
        initial_log_std(params, "task/ppo.yaml")
    assert initial_log_std({"network": {}}) == 0.0  # absent: rl-games' std of 1


def test_train_job_starts_an_interrupted_attempt_over(rl_games_run, tmp_path):
    """A job runner reruns a job that never finished; the half-written run folder it left must not
    fail the rerun (it did, and a resumed Table-1 sweep scored that seed 0)."""
    import shutil

    from baselines.rl.jobs import train_job
    from v2p_envs import resolve_task

    run_dir = tmp_path / "interrupted"
    shutil.copytree(rl_games_run.run_dir, run_dir)
    run = json.loads((run_dir / "run.json").read_text())
    (run_dir / "run.json").write_text(json.dumps({**run, "status": "running"}))
    (run_dir / "stale.txt").write_text("from the attempt that died")
    task_dir = resolve_task(TASK).kwargs["task_dir"]
    result = train_job(task_dir, seed=0, run_dir=str(run_dir), steps=128, num_envs=8, episode_length=16,
                       ppo_overrides={"horizon_length": 8})
    assert result["env_steps"] == 128  # started over, not continued from the 768 steps before
    assert json.loads((run_dir / "run.json").read_text())["status"] == "done"
    assert not (run_dir / "stale.txt").exists()
