"""GPU env step throughput on MuJoCo Warp vs. a bare ``mjwarp.step`` loop (pytest-benchmark).

Run on a CUDA machine:
    python -m pytest benchmarks/test_warp_step.py -m gpu --benchmark-only -s
(``bash benchmarks/gpu_check.sh OUT`` times the same code with the rest of the GPU check.)

For PushLeft and ThrowGarlic (state observations) at N = 1024, 4096, 8192 it times, in the
same session and on the same device (``benchmarks.gpu.warp_bench.WarpStepBench``):
  (a) ``V2PVectorEnv.step`` with random actions (controller, physics, states, observation,
      generated reward and success, ground-truth success: everything a trainer pays for);
  (b) the bare physics of the same model: its own ``mjw.Data`` with N worlds stepped by a
      CUDA graph of ``substeps`` x ``mjw.step``, replaying the controls the env sent.
The ratio env / bare (median round times) is the env layer's overhead (issue 3's target: <= 1.3).
It also records peak GPU memory (Warp's memory pool high-water mark + torch's peak) at each N.
Results go to ``benchmarks/warp_step_latest.json``.

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
from benchmarks.gpu.warp_bench import SIZES as DEFAULT_SIZES
from benchmarks.gpu.warp_bench import TASKS, PeakMemory, WarpStepBench

DEVICE = os.environ.get("V2P_WARP_BENCH_DEVICE", "cuda")
SIZES = tuple(int(s) for s in os.environ.get("V2P_WARP_BENCH_SIZES", ",".join(map(str, DEFAULT_SIZES))).split(","))
STEPS = int(os.environ.get("V2P_WARP_BENCH_STEPS", "100"))
ROUNDS = int(os.environ.get("V2P_WARP_BENCH_ROUNDS", "5"))
RESULTS: dict[tuple[str, int], dict[str, float]] = {}

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(DEVICE.startswith("cuda") and not torch.cuda.is_available(),
                       reason="needs a CUDA device and CUDA torch"),
]


@pytest.fixture(scope="module", autouse=True)
def write_results():
    yield
    if not RESULTS:
        return
    rows = [{"task": t, "num_envs": n, **r} for (t, n), r in RESULTS.items()]
    for row in rows:
        if "env_steps_per_s" in row and "bare_steps_per_s" in row:
            row["env_over_bare"] = round(row["bare_steps_per_s"] / row["env_steps_per_s"], 3)
    device = torch.cuda.get_device_name() if DEVICE.startswith("cuda") else DEVICE
    out = Path(__file__).with_name("warp_step_latest.json")
    out.write_text(json.dumps({"device": device, "steps": STEPS, "rows": rows}, indent=1) + "\n")
    print("\n" + "\n".join(json.dumps(r) for r in rows))


@pytest.fixture(scope="module", params=[(t, n) for t in TASKS for n in SIZES], ids=lambda p: f"{p[0]}-N{p[1]}")
def bench(request):
    task, n = request.param
    if task not in gym.registry:
        pytest.skip(f"{task} is not registered")
    memory = PeakMemory(DEVICE)
    memory.start()
    b = WarpStepBench(task, n, DEVICE, STEPS)
    b.memory = memory
    yield b
    b.close()


def test_warp_env_step(benchmark, bench):
    benchmark.pedantic(bench.env_run, setup=bench.env_setup, rounds=ROUNDS)
    row = RESULTS.setdefault((bench.task, bench.num_envs), {})
    row["env_steps_per_s"] = round(bench.num_envs * STEPS / benchmark.stats.stats.median)
    row.update(bench.memory.read())
    benchmark.extra_info.update(row)


def test_bare_mjwarp_step(benchmark, bench):
    """The same model, N and substeps as a graph-captured ``mjw.step`` loop, no env around it."""
    setup, run = bench.bare()
    benchmark.pedantic(run, setup=setup, rounds=ROUNDS)
    rate = round(bench.num_envs * STEPS / benchmark.stats.stats.median)
    RESULTS.setdefault((bench.task, bench.num_envs), {})["bare_steps_per_s"] = rate
    benchmark.extra_info["bare_steps_per_s"] = rate
