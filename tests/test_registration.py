"""Every shipped task is registered, makes, and passes Gymnasium's checker."""
import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import v2p_envs
from v2p_envs.vector_env import V2PVectorEnv

EXPECTED_IDS = [f"V2P-{name}-v0" for name in (
    "ReachBlock", "GraspBlock", "PushLeft", "PushRight", "LiftUp", "TipOver", "Cover", "Uncover", "PushWith",
    "PushNextTo", "DropInFrontOf", "InsertFork", "SlideRemoteToMouse", "ThrowGarlic")]


def test_all_fourteen_tasks_are_registered():
    assert sorted(v2p_envs.TASK_IDS) == sorted(EXPECTED_IDS)
    for env_id in EXPECTED_IDS:
        spec = gym.spec(env_id)
        assert spec.entry_point == "v2p_envs.env:V2PEnv"
        assert spec.vector_entry_point == "v2p_envs.vector_env:V2PVectorEnv"
        assert spec.max_episode_steps == 300


@pytest.mark.parametrize("env_id", EXPECTED_IDS)
def test_make_and_check_env(env_id):
    env = gym.make(env_id, render_mode="rgb_array")
    try:
        check_env(env.unwrapped)
        obs, info = env.reset(seed=0)
        assert obs.shape == env.observation_space.shape
        assert set(info) >= {"success", "generated_success", "reward_components"}
        frame = env.render()
        assert frame.shape == (256, 256, 3) and frame.std() > 5  # not a blank image
    finally:
        env.close()


def test_make_vec_returns_native_vector_env():
    envs = gym.make_vec("V2P-PushLeft-v0", num_envs=64, vectorization_mode="vector_entry_point")
    try:
        assert isinstance(envs, V2PVectorEnv)
        assert envs.metadata["autoreset_mode"] == gym.vector.AutoresetMode.SAME_STEP
        obs, _ = envs.reset(seed=0)
        assert obs.shape == (64, envs.single_observation_space.shape[0])
        # simulated seconds per step, as Gymnasium's MuJoCo envs report it: 2 ms x 10 substeps
        assert envs.dt == pytest.approx(0.02)
        single = gym.make("V2P-PushLeft-v0")
        assert single.unwrapped.dt == pytest.approx(0.02)
        single.close()
    finally:
        envs.close()
