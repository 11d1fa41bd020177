"""Vector env semantics: per-env determinism, SAME_STEP autoreset, partial resets, rewards."""
import gymnasium as gym
import numpy as np
import torch

import v2p_envs  # noqa: F401
from v2p_envs.vector_env import SUCCESS_BONUS

ENV_ID = "V2P-ReachBlock-v0"


def make_vec(num_envs, **kwargs):
    return gym.make_vec(ENV_ID, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)


def test_vector_copy_matches_single_env_with_same_seed():
    envs, single = make_vec(64), gym.make(ENV_ID)
    try:
        i, seed = 37, 100
        obs_v, _ = envs.reset(seed=seed)
        obs_s, _ = single.reset(seed=seed + i)
        np.testing.assert_array_equal(obs_v[i].numpy(), obs_s)
        gen = torch.Generator().manual_seed(0)
        for _ in range(50):
            actions = torch.rand(64, 7, generator=gen) * 2 - 1
            obs_v, reward_v, *_ = envs.step(actions)
            obs_s, reward_s, *_ = single.step(actions[i].numpy())
            np.testing.assert_array_equal(obs_v[i].numpy(), obs_s)
            assert float(reward_v[i]) == reward_s
        # and copies with different seeds really differ
        assert not torch.equal(obs_v[0], obs_v[1])
    finally:
        envs.close()
        single.close()


def test_autoreset_returns_final_obs_of_the_ended_episode():
    horizon = 5
    envs = make_vec(4, max_episode_steps=horizon)
    reference = make_vec(4, max_episode_steps=horizon, auto_reset=False)
    try:
        envs.reset(seed=3)
        reference.reset(seed=3)
        actions = torch.full((4, 7), 0.5)
        for step in range(horizon):
            obs, _, terminated, truncated, info = envs.step(actions)
            ref_obs, *_ = reference.step(actions)
            if step < horizon - 1:
                assert "final_obs" not in info and not truncated.any()
        assert truncated.all() and not terminated.any()
        assert info["_final_obs"].all() and info["_final_info"].all()
        torch.testing.assert_close(info["final_obs"], ref_obs, rtol=0, atol=0)
        assert not torch.equal(obs, ref_obs)  # the returned obs starts the next episode
        assert (envs.sim.episode_step == 0).all()
        assert info["final_info"]["episode"]["l"].eq(horizon).all()
    finally:
        envs.close()
        reference.close()


def test_partial_reset_only_touches_given_envs():
    envs = make_vec(3)
    try:
        envs.reset(seed=0)
        for _ in range(10):
            envs.step(torch.full((3, 7), 0.3))
        before = envs.sim.states["eef_pos"].clone()
        envs.reset(options={"env_ids": [1]})
        after = envs.sim.states["eef_pos"]
        torch.testing.assert_close(after[[0, 2]], before[[0, 2]])
        assert not torch.allclose(after[1], before[1])
        assert envs.sim.episode_step.tolist() == [10.0, 0.0, 10.0]
    finally:
        envs.close()


def test_reward_is_generated_reward_plus_success_bonus():
    envs = make_vec(2)
    try:
        envs.reset(seed=0)
        actions = torch.zeros(2, 7)
        _, reward, _, _, info = envs.step(actions)
        components = info["reward_components"]
        expected = components["reach_reward"] + components["action_penalty"]
        expected = expected + SUCCESS_BONUS * info["generated_success"].float()
        torch.testing.assert_close(reward, expected)
        assert info["success"].dtype == torch.bool
    finally:
        envs.close()


def test_staggered_first_episodes_end_at_different_steps():
    envs = make_vec(8, max_episode_steps=20)
    try:
        envs.reset(seed=0, options={"stagger_episodes": True})
        ends = [[] for _ in range(8)]
        for t in range(1, 41):
            *_, truncated, _ = envs.step(torch.zeros(8, 7))
            for i in torch.nonzero(truncated).flatten().tolist():
                ends[i].append(t)
        firsts = [e[0] for e in ends]
        assert len(set(firsts)) > 3 and all(1 <= f <= 20 for f in firsts)
        assert all(e[1] - e[0] == 20 for e in ends)  # later episodes run the full length
    finally:
        envs.close()
