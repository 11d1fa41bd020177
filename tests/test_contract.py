"""The task contract and the env's input checks: every silent case of issue 9 decided and tested,
Gymnasium's conventions (episode statistics, one time-limit owner, vector render), the paper's
order (observation keys before reward), per-env placement heights, and the one states list."""
from __future__ import annotations

import logging
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

import v2p_envs
from v2p_envs import TaskContractError, TaskRegistrationError
from v2p_envs.state_keys import state_key_names, state_shapes, states_markdown_table
from v2p_envs.vector_env import EnvArgumentError

from .task_folders import task_variant

ENV_ID = "V2P-ReachBlock-v0"
REACH_SUCCESS = 'return torch.norm(states["block_pos"] - states["eef_pos"], dim=-1) < 0.03'
REACH_REWARD = "return reach_reward - action_penalty, components"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def vec8():
    envs = v2p_envs.make_vec(ENV_ID, num_envs=8)
    envs.reset(seed=0)
    yield envs
    envs.close()


def _trusted_vec(folder, n=2, **kwargs):
    return v2p_envs.make_vec(folder, num_envs=n, trust_task_code=True, **kwargs)


# -- actions, seeds, lengths -----------------------------------------------------------
@pytest.mark.parametrize("shape", [(56,), (7, 8), (8, 6), (1, 7)])
def test_wrongly_shaped_actions_are_refused(vec8, shape):
    with pytest.raises(EnvArgumentError, match=r"shape \(8, 7\)"):
        vec8.step(torch.zeros(shape))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_actions_are_refused_naming_the_env(vec8, bad):
    actions = torch.zeros(8, 7)
    actions[5, 2] = bad
    with pytest.raises(EnvArgumentError, match=r"envs \[5\].*NaN or inf"):
        vec8.step(actions)


def test_out_of_range_actions_are_clipped_with_one_warning(vec8, caplog):
    vec8._warned_clip = False
    with caplog.at_level(logging.WARNING, logger="v2p_envs.vector_env"):
        vec8.step(torch.full((8, 7), 3.0))
        vec8.step(torch.full((8, 7), -3.0))
    warnings = [r for r in caplog.records if "clipped" in r.getMessage()]
    assert len(warnings) == 1


def test_single_env_refuses_a_batch_of_actions():
    env = gym.make(ENV_ID)
    try:
        env.reset(seed=0)
        with pytest.raises(EnvArgumentError, match=r"shape \(7,\)"):
            env.step(np.zeros((2, 7), dtype=np.float32))
    finally:
        env.close()


@pytest.mark.parametrize("value", [0, -3, 2.5, True])
def test_bad_episode_lengths_are_refused(value):
    with pytest.raises(EnvArgumentError, match="max_episode_steps"):
        v2p_envs.make_vec(ENV_ID, num_envs=1, max_episode_steps=value)


@pytest.mark.parametrize("seed", [-1, 2**63, 1.5, [0, -2]])
def test_bad_seeds_are_refused(vec8, seed):
    with pytest.raises(EnvArgumentError, match="seed"):
        vec8.reset(seed=seed if not isinstance(seed, list) else seed + [0] * 6)


def test_every_bit_of_the_seed_counts():
    envs = v2p_envs.make_vec(ENV_ID, num_envs=1)
    try:
        first = envs.reset(seed=7)[0]
        assert not torch.equal(first, envs.reset(seed=7 + 2**32)[0])
        assert torch.equal(first, envs.reset(seed=7)[0])
    finally:
        envs.close()


# -- task outputs ----------------------------------------------------------------------
@pytest.mark.parametrize("edit, category, words", [
    ({REACH_SUCCESS: "return torch.full((self.num_envs,), float('nan'))"}, "non_finite", "compute_success"),
    ({REACH_SUCCESS: "return torch.full((self.num_envs,), 0.5)"}, "shape", "0/1"),
    ({REACH_SUCCESS: "return torch.zeros(self.num_envs, 1, dtype=torch.bool)"}, "shape", "compute_success"),
    ({REACH_REWARD: "return reach_reward * float('nan'), components"}, "non_finite", "reward"),
    ({REACH_REWARD: "return reach_reward, {'bad': reach_reward[:1]}"}, "shape", "'bad'"),
    ({REACH_REWARD: "return reach_reward"}, "shape", "(reward, components)"),
])
def test_task_outputs_are_checked(tmp_path, edit, category, words):
    envs = _trusted_vec(task_variant(tmp_path, "reach_block", edit))
    try:
        with pytest.raises(TaskContractError) as err:
            envs.reset(seed=0)
        assert err.value.category == category and words in str(err.value)
    finally:
        envs.close()


def test_float_success_of_zeros_and_ones_is_accepted(tmp_path):
    envs = _trusted_vec(task_variant(tmp_path, "reach_block", {REACH_SUCCESS: f"return ({REACH_SUCCESS[7:]}).float()"}))
    try:
        _, info = envs.reset(seed=0)
        assert info["generated_success"].dtype == torch.bool
    finally:
        envs.close()


def test_observation_keys_come_before_the_reward(tmp_path):
    """The paper's order: a key that compute_observation_key adds is readable in compute_reward."""
    folder = task_variant(tmp_path, "reach_block", {
        REACH_REWARD: "components['from_obs'] = states['eef_to_block'][:, 0]\n    " + REACH_REWARD})
    envs = _trusted_vec(folder)
    try:
        envs.reset(seed=0)
        _, _, _, _, info = envs.step(torch.zeros(2, 7))
        assert "from_obs" in info["reward_components"]
        torch.testing.assert_close(info["reward_components"]["from_obs"],
                                   envs.sim.states["block_pos"][:, 0] - envs.sim.states["eef_pos"][:, 0])
    finally:
        envs.close()


# -- Gymnasium conventions ------------------------------------------------------------
def test_record_episode_statistics_on_gym_make():
    env = gym.wrappers.RecordEpisodeStatistics(gym.make(ENV_ID, max_episode_steps=5))
    try:
        env.reset(seed=0)
        for step in range(5):
            _, _, terminated, truncated, info = env.step(env.action_space.sample())
            assert ("episode" in info) == (step == 4)
        assert truncated and info["episode"]["l"] == 5
    finally:
        env.close()


def test_gym_make_owns_the_time_limit():
    env = gym.make(ENV_ID, max_episode_steps=400)
    try:
        env.reset(seed=0)
        truncated_at = None
        for step in range(1, 401):
            *_, truncated, _ = env.step(np.zeros(7, dtype=np.float32))
            if truncated:
                truncated_at = step
                break
        assert truncated_at == 400
    finally:
        env.close()


def test_sb3_counts_exactly_the_real_episodes():
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    vec = make_vec_env(lambda: gym.make(ENV_ID, max_episode_steps=10), n_envs=1, seed=0)
    model = PPO("MlpPolicy", vec, n_steps=40, batch_size=20, n_epochs=1, seed=0, device="cpu")
    model.learn(total_timesteps=40)
    assert len(model.ep_info_buffer) == 4 and {e["l"] for e in model.ep_info_buffer} == {10}
    vec.close()


def test_vector_episode_statistics_only_where_episodes_ended():
    envs = v2p_envs.make_vec(ENV_ID, num_envs=3, max_episode_steps=4)
    try:
        envs.reset(seed=0)
        envs.reset(options={"env_ids": [1]})
        for step in range(4):
            *_, truncated, info = envs.step(torch.zeros(3, 7))
            assert ("episode" in info) == bool(truncated.any())
        assert info["_episode"].all() and info["episode"]["l"].eq(4).all()
    finally:
        envs.close()


def test_vector_render_returns_one_frame_per_env_at_the_asked_size():
    envs = v2p_envs.make_vec(ENV_ID, num_envs=3, render_mode="rgb_array", width=96, height=64)
    try:
        envs.reset(seed=0)
        frames = envs.render()
        assert len(frames) == 3 and all(f.shape == (64, 96, 3) for f in frames)
        assert not np.array_equal(frames[0], frames[1])  # each env its own block position
    finally:
        envs.close()
    env = gym.make(ENV_ID, render_mode="rgb_array", width=128, height=96)
    try:
        env.reset(seed=0)
        assert env.render().shape == (96, 128, 3)
    finally:
        env.close()


# -- registration and folders -----------------------------------------------------------
def test_a_user_folder_never_silently_replaces_a_shipped_id(tmp_path):
    folder = task_variant(tmp_path, "reach_block", append="\n# mine\n")
    with pytest.raises(TaskRegistrationError, match="already registered"):
        v2p_envs.register_task_dir(folder)
    assert v2p_envs.resolve_task(ENV_ID).kwargs["task_dir"] == str(v2p_envs.GENERATED_DIR / "reach_block")
    env_id = v2p_envs.register_task_dir(folder, env_id="V2P-MyReachBlock-v0")
    try:
        assert gym.spec(env_id).kwargs["task_dir"] == str(folder.resolve())
    finally:
        del gym.registry[env_id]


def test_samples_of_one_task_build_side_by_side(tmp_path):
    samples = [task_variant(tmp_path, "reach_block", {"0.03": f"0.0{k + 3}"}, name=f"sample_{k}") for k in range(3)]
    envs = [_trusted_vec(s) for s in samples]
    try:
        classes = {e.definition.task_class for e in envs}
        assert len(classes) == 3 and all(e.scene.task_class_name == "ReachBlock" for e in envs)
        for e in envs:
            e.reset(seed=0)
    finally:
        for e in envs:
            e.close()


def test_a_task_without_ground_truth_says_so(tmp_path, caplog):
    folder = task_variant(tmp_path, "reach_block", {'"ReachBlock"': '"ReachSomething"', "class ReachBlock(": "class ReachSomething("})
    scene = folder / "scene.json"
    scene.write_text(scene.read_text().replace('"ReachBlock"', '"ReachSomething"'))
    with caplog.at_level(logging.WARNING, logger="v2p_envs.vector_env"):
        envs = _trusted_vec(folder)
    try:
        assert envs.success_metric == "generated"
        assert any("no ground-truth success" in r.getMessage() for r in caplog.records)
        _, info = envs.reset(seed=0)
        assert torch.equal(info["success"], info["generated_success"])
    finally:
        envs.close()


# -- the narrow context and per-env placement heights ----------------------------------
def test_cover_places_the_cup_at_each_envs_own_height():
    envs = v2p_envs.make_vec("V2P-Cover-v0", num_envs=8, randomization={"object_size_scale_per_env": (0.8, 1.2)})
    try:
        envs.reset(seed=0)
        states = envs.sim.states
        height = states["cup_pos"][:, 2] - states["table_height"]
        half = states["cup_size"][:, 2] / 2
        assert states["cup_size"][:, 2].unique().numel() > 1  # sizes really differ
        torch.testing.assert_close(height, half + 1e-3, atol=2e-4, rtol=0)
    finally:
        envs.close()


def test_tasks_see_a_context_not_the_simulator(vec8):
    task = vec8.task
    assert not hasattr(task, "sim") and isinstance(task.context, v2p_envs.TaskContext)
    sizes = task.object_size("block", torch.arange(8))
    sizes += 1.0  # a copy: the simulator's sizes are unchanged
    assert torch.allclose(vec8.sim.env_object_sizes["block"], vec8.sim.object_sizes["block"].expand(8, 3))


# -- the one list of states keys --------------------------------------------------------
def test_the_simulator_produces_exactly_the_listed_keys(vec8):
    states = vec8.sim.states
    assert set(states) == set(state_key_names(["block"]))
    for key, shape in state_shapes(["block"]).items():
        assert tuple(states[key].shape) == (8, *shape), key


def test_readme_and_architecture_document_carry_the_states_table():
    table = states_markdown_table()
    for doc in ("README.md", "docs/architecture.md"):
        assert table in (ROOT / doc).read_text(), f"{doc}: regenerate with v2p_envs.state_keys.states_markdown_table()"


def test_the_architecture_document_carries_the_contract_table():
    from v2p_envs.task import contract_markdown_table

    assert contract_markdown_table() in (ROOT / "docs/architecture.md").read_text()
