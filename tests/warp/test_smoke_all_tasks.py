"""Every registered task runs unchanged on the Warp backend (Warp's CPU device, 2 envs, 4 steps).

A check-style smoke test: spaces, observation/reward/flag shapes and dtypes, finite values,
the info keys, a partial reset by env index, autoreset, and rendering data. Marked slow; each
task's scene compiles its own specialised kernels once (cached afterwards).
"""
from __future__ import annotations

import pytest
import torch

from tests.warp.helpers import make, task_ids

pytestmark = pytest.mark.slow
N = 2


@pytest.mark.parametrize("env_id", task_ids())
def test_task_runs_on_warp_cpu_device(env_id):
    envs = make(env_id, N, backend="warp", device="cpu", max_episode_steps=3)
    try:
        assert envs.sim.backend.name == "warp"
        obs, info = envs.reset(seed=0)
        assert obs.shape == (N, envs.single_observation_space.shape[0]) and obs.dtype == torch.float32
        assert torch.isfinite(obs).all()
        gen = torch.Generator().manual_seed(0)
        for t in range(4):
            action = torch.rand(N, 7, generator=gen) * 2 - 1
            obs, reward, terminated, truncated, info = envs.step(action)
            assert obs.shape[0] == reward.shape[0] == N and torch.isfinite(obs).all() and torch.isfinite(reward).all()
            assert terminated.dtype == truncated.dtype == torch.bool
            assert info["success"].shape == info["generated_success"].shape == (N,)
            assert all(v.shape == (N,) for v in info["reward_components"].values())
            if t == 2:  # episode length 3: SAME_STEP autoreset of every env
                assert truncated.all() and info["_final_obs"].all()
        obs, _ = envs.reset(options={"env_ids": [1]})
        assert torch.isfinite(obs).all()
        assert (envs.sim.backend.overflow() == 0).all()
        assert envs.sim.backend.mj_data(1).qpos.shape == (envs.built.model.nq,)
    finally:
        envs.close()
