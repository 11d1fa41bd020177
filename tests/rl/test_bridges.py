"""The env bridges: time-outs, final observations and bootstrapping, checked on the real env."""
from __future__ import annotations

import numpy as np
import torch

from baselines.rl import make_env
from baselines.rl.rl_games_adapter import RlGamesVecEnv
from baselines.rl.sb3_adapter import SB3VecEnv

from .conftest import TASK


def _run_to_timeout(step, n_steps):
    out = None
    for _ in range(n_steps):
        out = step()
    return out


def test_rl_games_vecenv_time_outs_are_tensors():
    env = make_env(TASK, 3, max_episode_steps=4)
    try:
        vec = RlGamesVecEnv(env, seed=0)
        obs = vec.reset()
        assert isinstance(obs, torch.Tensor) and vec.get_env_info()["observation_space"].shape == obs.shape[1:]
        for t in range(4):
            obs, rew, done, info = vec.step(torch.zeros(3, 7))
            assert isinstance(info["time_outs"], torch.Tensor) and info["time_outs"].dtype == torch.bool
            assert bool(done.all()) == (t == 3) and torch.equal(info["time_outs"], done)
        assert info["final_obs"].shape == obs.shape and not torch.equal(info["final_obs"], obs)
    finally:
        env.close()


def test_rl_games_agent_bootstraps_from_final_obs(rl_games_run):
    """V2PA2CAgent adds gamma * V(final_obs) / reward_scale on time-outs and drops ``time_outs``."""
    from baselines.rl.rl_games_adapter import V2PA2CAgent

    class Stub(V2PA2CAgent):
        def __init__(self):  # only what env_step uses
            self.value_bootstrap, self.gamma, self.ppo_device = True, 0.99, "cpu"
            self.rewards_shaper = type("S", (), {"scale_value": 0.01})()

        def get_values(self, obs):
            return obs["obs"][:, :1] * 0 + 2.0  # V = 2 everywhere

    final_obs = torch.zeros(2, 3)
    info = {"time_outs": torch.tensor([True, False]), "final_obs": final_obs}

    def fake_step(self, actions):  # what a2c_common.env_step returns
        return {"obs": final_obs}, torch.ones(2, 1), torch.tensor([True, False]), dict(info)

    import rl_games.algos_torch.a2c_continuous as a2c

    original = a2c.A2CAgent.env_step
    a2c.A2CAgent.env_step = fake_step
    try:
        _, rewards, _, infos = Stub().env_step(torch.zeros(2, 7))
    finally:
        a2c.A2CAgent.env_step = original
    assert "time_outs" not in infos
    assert rewards[:, 0].tolist() == [1.0 + 0.99 * 2.0 / 0.01, 1.0]


def test_sb3_bridge_terminal_observation():
    env = make_env(TASK, 2, max_episode_steps=3)
    try:
        vec = SB3VecEnv(env)
        vec.seed(0)
        obs = vec.reset()
        assert isinstance(obs, np.ndarray) and obs.shape == (2,) + vec.observation_space.shape
        for t in range(3):
            vec.step_async(np.zeros((2, 7), dtype=np.float32))
            obs, rew, done, infos = vec.step_wait()
        assert done.all() and rew.dtype == np.float32
        for i in range(2):
            assert infos[i]["TimeLimit.truncated"] is True
            assert infos[i]["terminal_observation"].shape == obs[i].shape
            assert not np.array_equal(infos[i]["terminal_observation"], obs[i])
            assert set(infos[i]["episode"]) == {"r", "l"} and infos[i]["episode"]["l"] == 3
        assert vec.get_attr("num_envs") == [2, 2]
    finally:
        env.close()


def test_skrl_wrap_env_picks_the_gymnasium_vector_wrapper():
    from skrl.envs.wrappers.torch import wrap_env

    env = make_env(TASK, 2)
    try:
        wrapped = wrap_env(env)
        assert type(wrapped).__name__ == "GymnasiumWrapper" and wrapped.num_envs == 2
        obs, _ = wrapped.reset()
        assert obs.shape == (2, env.single_observation_space.shape[0])
        obs, rew, term, trunc, _ = wrapped.step(torch.zeros(2, 7))
        assert rew.shape == (2, 1) and term.dtype == torch.bool
    finally:
        env.close()


def test_rl_games_registration_makes_the_task_a_named_env():
    from rl_games.common import vecenv

    from baselines.rl.rl_games_adapter import register_rl_games_env

    name = register_rl_games_env(TASK, max_episode_steps=5)
    vec = vecenv.create_vec_env(name, 2)
    try:
        assert isinstance(vec, RlGamesVecEnv) and vec.env.num_envs == 2 and vec.env.max_episode_steps == 5
        assert vec.reset().shape == (2, vec.get_env_info()["observation_space"].shape[0])
    finally:
        vec.env.close()
