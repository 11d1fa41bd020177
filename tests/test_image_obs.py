"""The sim-to-real observation options: camera images or segmentation masks plus proprioception,
and the rotation scale (issue 15, item 6)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import v2p_envs
from v2p_envs.controller import ControllerConfig
from v2p_envs.image_obs import ImageObservation
from v2p_envs.math3d import quat_conj, quat_mul, quat_to_axis_angle


@pytest.mark.parametrize("mode, channels", [("segmentation", 1), ("rgb", 3)])
def test_image_observations_with_proprioception(mode, channels):
    env = ImageObservation(v2p_envs.make_vec("V2P-LiftUp-v0", num_envs=2, width=24, height=20), mode=mode)
    try:
        obs, _ = env.reset(seed=[0, 1])
        assert env.observation_space.contains(obs) and obs["image"].shape == (2, 20, 24, channels)
        states = env.unwrapped.sim.states
        expected = torch.cat([states["eef_pos"], states["eef_quat"], states["gripper_width"][:, None]], dim=1)
        np.testing.assert_allclose(obs["proprio"], expected.numpy(), rtol=1e-6)
        if mode == "segmentation":  # table 0, robot 1, the sponge 2: all three are in view
            assert set(np.unique(obs["image"])) == {0, 1, 2}
        obs, *_ = env.step(torch.zeros(2, 7))
        assert env.observation_space.contains(obs)
    finally:
        env.close()
    with pytest.raises(ValueError, match="'rgb' or 'segmentation'"):
        ImageObservation(v2p_envs.make_vec("V2P-LiftUp-v0", num_envs=1), mode="depth")


def test_rotation_scale_is_the_controller_option():
    def steady_turn_per_step(scale: float) -> float:
        """Yaw per step at a full yaw command, once the arm has caught up (steps 8-11)."""
        config = ControllerConfig(max_delta_rot=0.15 * scale)
        env = v2p_envs.make_vec("V2P-ReachBlock-v0", num_envs=1, controller_config=config).unwrapped
        try:
            env.reset(seed=0)
            action = torch.zeros(1, 7)
            action[0, 5] = 1.0
            for _ in range(8):
                env.step(action)
            start = env.sim.states["eef_quat"].clone()
            for _ in range(4):
                env.step(action)
            rel = quat_mul(env.sim.states["eef_quat"], quat_conj(start))
            return float(torch.linalg.vector_norm(quat_to_axis_angle(rel))) / 4
        finally:
            env.close()
    assert steady_turn_per_step(0.2) == pytest.approx(0.2 * steady_turn_per_step(1.0), rel=0.2)
