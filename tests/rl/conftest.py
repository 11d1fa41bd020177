"""Shared short training runs (real runs, tiny budgets) for the RL tests."""
from __future__ import annotations

import pytest
import torch

from baselines.rl import TrainConfig, train

TASK = "V2P-ReachBlock-v0"
#: 8 envs x horizon 8 = 64 transitions an epoch; 16-step episodes so that episodes end often
SMALL = dict(num_envs=8, max_episode_steps=16, progress=False, ppo_overrides={"horizon_length": 8})


@pytest.fixture(autouse=True)
def _restore_torch_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def rl_games_run(tmp_path_factory):
    """A real rl-games run: 12 epochs (768 env steps, 48 episodes) on ReachBlock."""
    run_dir = tmp_path_factory.mktemp("rl_games") / "run"
    return train(TrainConfig(TASK, trainer="rl_games", steps=768, run_dir=str(run_dir), **SMALL))
