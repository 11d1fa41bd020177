"""GPU env step throughput on MuJoCo Warp vs. a bare ``mjwarp.step`` loop (pytest-benchmark).

Run on a CUDA machine:
    python -m pytest benchmarks/test_warp_step.py -m gpu --benchmark-only -s

For PushLeft and ThrowGarlic (state observations) at N = 1024, 4096, 8192 it times, in the
same session and on the same device:
  (a) ``V2PVectorEnv.step`` with random actions (controller, physics, states, observation,
      generated reward and success, ground-truth success: everything a trainer pays for);
  (b) the bare physics of the same model: its own ``mjw.Data`` with N worlds stepped by a
      CUDA graph of ``substeps`` x ``mjw.step``, replaying the controls the env sent.
The ratio env / bare is the env layer's overhead (issue 3's target: <= 1.3). It also records
peak GPU memory (Warp's memory pool high-water mark + torch's peak) at each N. Results go to
``benchmarks/warp_step_latest.json``.

Everything here is marked ``gpu``. For a dry run of this file's code on Warp's CPU device
(no figures worth reporting): V2P_WARP_BENCH_DEVICE=cpu V2P_WARP_BENCH_SIZES=2 V2P_WARP_BENCH_STEPS=2.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import gymnasium as gym
import pytest
import torch

import v2p_envs  # noqa: F401

DEVICE = os.environ.get("V2P_WARP_BENCH_DEVICE", "cuda")
TASKS = ("V2P-PushLeft-v0", "V2P-ThrowGarlic-v0")
SIZES = tuple(int(s) for s in os.environ.get("V2P_WARP_BENCH_SIZES", "1024,4096,8192").split(","))
STEPS = int(os.environ.get("V2P_WARP_BENCH_STEPS", "100"))
ROUNDS = int(os.environ.get("V2P_WARP_BENCH_ROUNDS", "5"))
RESULTS: dict[tuple[str, int], dict[str, float]] = {}

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(DEVICE.startswith("cuda") and not torch.cuda.is_available(),
                       reason="needs a CUDA device and CUDA torch"),
]


def _sync() -> None:
    if DEVICE.startswith("cuda"):
        torch.cuda.synchronize()


def _peak_memory_bytes() -> int:
    if not DEVICE.startswith("cuda"):
        return 0
    import warp as wp

    return int(wp.get_mempool_used_mem_high(DEVICE)) + int(torch.cuda.max_memory_allocated())


@pytest.fixture(scope="module", autouse=True)
def write_results():
    yield
    if not RESULTS:
        return
    rows = [{"task": t, "num_envs": n, **{k: round(v, 3) for k, v in r.items()}} for (t, n), r in RESULTS.items()]
    for row in rows:
        if "env_steps_per_s" in row and "bare_steps_per_s" in row:
            row["overhead"] = round(row["bare_steps_per_s"] / row["env_steps_per_s"], 3)
    device = torch.cuda.get_device_name() if DEVICE.startswith("cuda") else DEVICE
    out = Path(__file__).with_name("warp_step_latest.json")
    out.write_text(json.dumps({"device": device, "steps": STEPS, "rows": rows}, indent=1) + "\n")
    print("\n" + "\n".join(json.dumps(r) for r in rows))


@pytest.fixture(scope="module", params=[(t, n) for t in TASKS for n in SIZES], ids=lambda p: f"{p[0]}-N{p[1]}")
def vec_env(request):
    task, n = request.param
    if task not in gym.registry:
        pytest.skip(f"{task} is not registered")
    if DEVICE.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    envs = gym.make_vec(task, num_envs=n, vectorization_mode="vector_entry_point", device=DEVICE,
                         backend="warp").unwrapped
    envs.reset(seed=0)
    gen = torch.Generator(device="cpu").manual_seed(0)
    actions = [(torch.rand(n, 7, generator=gen) * 2 - 1).to(envs.device) for _ in range(STEPS)]
    # One untimed pass: compiles/captures, and records the controls for the bare-physics replay.
    controls = torch.empty(STEPS, n, envs.sim.backend.model.nu, device=envs.device)
    for i, a in enumerate(actions):
        envs.step(a)
        controls[i] = envs.sim.backend.ctrl
    _sync()
    yield task, n, envs, actions, controls
    envs.close()


def test_warp_env_step(benchmark, vec_env):
    task, n, envs, actions, _ = vec_env

    def setup():
        envs.reset(seed=0)
        _sync()

    def run():
        for a in actions:
            envs.step(a)
        _sync()

    benchmark.pedantic(run, setup=setup, rounds=ROUNDS)
    rate = n * STEPS / benchmark.stats.stats.mean
    row = RESULTS.setdefault((task, n), {})
    row["env_steps_per_s"] = rate
    row["peak_gpu_mem_gib"] = _peak_memory_bytes() / 2 ** 30
    benchmark.extra_info.update(row)


def test_bare_mjwarp_step(benchmark, vec_env):
    """The same model, N and substeps as a graph-captured ``mjw.step`` loop, no env around it."""
    import mujoco_warp as mjw
    import warp as wp

    task, n, envs, _, controls = vec_env
    backend = envs.sim.backend
    device = backend.wp_device
    with wp.ScopedDevice(device):
        model = mjw.put_model(backend.model)
        data = mjw.make_data(backend.model, nworld=n, nconmax=backend.wp_data.naconmax // n, njmax=backend.wp_data.njmax)
        qpos, qvel, ctrl = (wp.to_torch(getattr(data, f)) for f in ("qpos", "qvel", "ctrl"))
        mocap_pos, mocap_quat = wp.to_torch(data.mocap_pos), wp.to_torch(data.mocap_quat)

        def substeps():
            for _ in range(backend.substeps):
                mjw.step(model, data)

        graph = None
        if device.is_cuda:
            with wp.ScopedCapture() as capture:
                substeps()
            graph = capture.graph

        def setup():
            envs.reset(seed=0)
            qpos.copy_(backend.qpos)
            qvel.copy_(backend.qvel)
            mocap_pos.copy_(backend.mocap_pos)
            mocap_quat.copy_(backend.mocap_quat)
            _sync()

        def run():
            for c in controls:
                ctrl.copy_(c)
                if graph is not None:
                    wp.capture_launch(graph)
                else:
                    substeps()
            _sync()

        benchmark.pedantic(run, setup=setup, rounds=ROUNDS)
    rate = n * STEPS / benchmark.stats.stats.mean
    RESULTS.setdefault((task, n), {})["bare_steps_per_s"] = rate
    benchmark.extra_info["bare_steps_per_s"] = rate
