"""The Warp backend on a CUDA GPU: 8192 envs of every task, graph capture, zero-copy views.

Marked ``gpu``: skipped without CUDA (never run in this project's CPU-only sessions so far).
Run: python -m pytest tests/warp -m gpu

The PushLeft tests come first: they reuse kernels the check already compiled, so a time limit
cuts the per-task compiles of the 8192-env test, not the parity check.
"""
from __future__ import annotations

import pytest
import torch

from tests.warp.helpers import make, requires_cuda, task_ids

pytestmark = [pytest.mark.gpu, requires_cuda]
N = 8192


def test_views_share_cuda_memory_and_follow_torch_streams():
    envs = make("V2P-PushLeft-v0", 64, device="cuda")
    try:
        backend = envs.sim.backend
        assert backend.qpos.data_ptr() == backend.wp_data.qpos.ptr
        envs.reset(seed=0)
        stream = torch.cuda.Stream()
        with torch.cuda.stream(stream):
            start = envs.sim.states["eef_pos"].clone()
            action = torch.zeros(64, 7, device="cuda")
            action[:, 2] = 1.0
            for _ in range(3):
                envs.step(action)
            rise = envs.sim.states["eef_pos"][:, 2] - start[:, 2]
        torch.cuda.synchronize()
        assert (rise > 0.03).all()
    finally:
        envs.close()


def test_parity_with_mujoco_on_cuda():
    from tests.warp import test_parity

    cpu = make("V2P-PushLeft-v0", 2)
    gpu = make("V2P-PushLeft-v0", 2, device="cuda")
    try:
        from baselines.oracles import get_oracle

        oracle = get_oracle(cpu.scene.task_class_name)(cpu)
        cpu.reset(seed=3)
        gpu.reset(seed=3)
        oracle.reset()
        worst = 0.0
        for _ in range(test_parity.STEPS):
            action = oracle.act(cpu.sim.states)
            cpu.step(action)
            gpu.step(action.cuda())
            for key in ("eef_pos", "snack_box_pos"):
                gap = torch.linalg.vector_norm(cpu.sim.states[key] - gpu.sim.states[key].cpu(), dim=-1)
                worst = max(worst, float(gap.max()))
        assert worst < test_parity.TOLERANCE, worst
    finally:
        cpu.close()
        gpu.close()


@pytest.mark.parametrize("env_id", task_ids())
def test_task_at_8192_envs_on_cuda(env_id):
    envs = make(env_id, N, device="cuda", max_episode_steps=5)
    try:
        backend = envs.sim.backend
        assert backend.name == "warp" and backend.use_graph and backend.qpos.is_cuda
        obs, _ = envs.reset(seed=0)
        assert obs.is_cuda and obs.shape[0] == N
        for _ in range(6):  # crosses an autoreset of all envs
            obs, reward, terminated, truncated, info = envs.step(torch.rand(N, 7, device="cuda") * 2 - 1)
            assert obs.is_cuda and reward.is_cuda and info["success"].is_cuda
        assert backend._graph is not None
        assert torch.isfinite(obs).all() and torch.isfinite(reward).all()
        assert int((backend.overflow() != 0).sum()) == 0
    finally:
        envs.close()
