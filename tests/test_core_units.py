"""Unit checks of the pieces under the env: RNG streams, rotations, the IK controller."""
import math

import torch

from v2p_envs.math3d import quat_from_axis_angle, quat_mul, quat_rotate, quat_to_axis_angle
from v2p_envs.rng import BatchedRNG


def test_rng_streams_are_independent_of_batch_layout():
    batch = BatchedRNG(8)
    batch.seed(torch.arange(8), torch.arange(8) + 50)
    alone = BatchedRNG(1)
    alone.seed(torch.arange(1), torch.tensor([55]))
    batch.uniform(torch.tensor([0, 1]), 4)  # drawing for other envs must not shift env 5
    torch.testing.assert_close(batch.uniform(torch.arange(8), 3)[5], alone.uniform(torch.arange(1), 3)[0])
    draws = batch.uniform(torch.arange(8), 2000)
    assert 0.0 <= float(draws.min()) and float(draws.max()) < 1.0
    assert abs(float(draws.mean()) - 0.5) < 0.01


def test_axis_angle_round_trip_and_rotation():
    rotvec = torch.tensor([[0.0, 0.0, math.pi / 2], [0.3, -0.2, 0.1]])
    q = quat_from_axis_angle(rotvec)
    torch.testing.assert_close(quat_to_axis_angle(q), rotvec, atol=1e-6, rtol=0)
    x = torch.tensor([[1.0, 0.0, 0.0]]).expand(2, 3)
    torch.testing.assert_close(quat_rotate(q, x)[0], torch.tensor([0.0, 1.0, 0.0]), atol=1e-6, rtol=0)
    torch.testing.assert_close(quat_mul(q, torch.tensor([1.0, 0, 0, 0]).expand(2, 4)), q)


def test_controller_moves_hand_by_commanded_delta():
    import gymnasium as gym

    import v2p_envs  # noqa: F401

    envs = gym.make_vec("V2P-ReachBlock-v0", num_envs=2, vectorization_mode="vector_entry_point")
    try:
        envs.reset(seed=0)
        start = envs.sim.states["eef_pos"].clone()
        actions = torch.zeros(2, 7)
        actions[0, 0] = 1.0   # +x at full speed
        actions[1, 2] = -0.5  # down at half speed
        for _ in range(10):
            envs.step(actions)
        moved = envs.sim.states["eef_pos"] - start
        # 10 steps x 3 cm = 30 cm commanded (x), 10 x 1.5 cm down (z): realised within ~15%
        assert 0.26 < float(moved[0, 0]) <= 0.34 and abs(float(moved[0, 1])) < 0.02
        assert -0.18 <= float(moved[1, 2]) < -0.13
    finally:
        envs.close()
