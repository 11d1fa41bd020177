"""CPU env step throughput vs. bare MuJoCo physics of the same model (pytest-benchmark).

Run: python -m pytest benchmarks/test_env_step.py --benchmark-only -s
For each task and N it times (a) ``V2PVectorEnv.step`` with random actions and (b) the bare
physics it wraps: ``mujoco.batch`` stepping the same compiled model, same N, threads and
substeps (and, at N=1, a plain ``mj_step`` loop). benchmarks/conftest.py prints the overhead
ratio bare/env per row at the end of the session and writes it to env_step_latest.json.
"""
from __future__ import annotations

import gymnasium as gym
import mujoco
import pytest
import torch
from mujoco import batch as mj_batch

import v2p_envs  # noqa: F401

TASKS = ("V2P-PushLeft-v0", "V2P-ThrowGarlic-v0")
SIZES = (1, 16, 64)
STEPS = 50
RESULTS: dict[tuple[str, int, str], float] = {}


def _record(benchmark, task: str, n: int, kind: str) -> None:
    # the median round: other jobs on a shared machine slow single rounds, not the typical one
    RESULTS[(task, n, kind)] = n * STEPS / benchmark.stats.stats.median
    benchmark.extra_info["env_steps_per_s"] = RESULTS[(task, n, kind)]


@pytest.fixture(scope="module", params=[(t, n) for t in TASKS for n in SIZES], ids=lambda p: f"{p[0]}-N{p[1]}")
def vec_env(request):
    task, n = request.param
    envs = gym.make_vec(task, num_envs=n, vectorization_mode="vector_entry_point")
    envs.reset(seed=0)
    yield task, n, envs
    envs.close()


ROUNDS = 10


def _actions(n: int) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    return [torch.rand(n, 7, generator=gen) * 2 - 1 for _ in range(STEPS)]


def test_env_step(benchmark, vec_env):
    """Env steps from the same start state every round; records the controls it sends."""
    task, n, envs = vec_env
    actions = _actions(n)
    envs.controls = []

    def setup():
        envs.reset(seed=0)
        envs.controls.clear()

    def run():
        for a in actions:
            envs.step(a)
            envs.controls.append(envs.sim.backend.ctrl.numpy().copy())

    benchmark.pedantic(run, setup=setup, rounds=ROUNDS)
    _record(benchmark, task, n, "env")


def test_bare_batch_physics(benchmark, vec_env):
    """The same physics trajectory without the env: replay the recorded controls."""
    task, n, envs = vec_env
    backend = envs.sim.backend
    bare = mj_batch.Batch(envs.built.model, nsim=n, nthread=backend.nthread, persistent=True)
    qpos, qvel, ctrl = bare.bind("qpos"), bare.bind("qvel"), bare.bind("ctrl")
    controls = envs.controls

    def setup():
        envs.reset(seed=0)
        bare.reset()
        qpos[:] = backend.qpos.numpy()
        qvel[:] = backend.qvel.numpy()
        bare.forward()

    def run():
        for c in controls:
            ctrl[:] = c
            bare.step(nstep=envs.built.config.substeps, stage=mujoco.mjtStage.mjSTAGE_VEL)

    benchmark.pedantic(run, setup=setup, rounds=ROUNDS)
    _record(benchmark, task, n, "bare")


def test_bare_mj_step_single(benchmark, vec_env):
    task, n, envs = vec_env
    if n != 1:
        pytest.skip("plain mj_step loop is the N=1 reference")
    model = envs.built.model
    data = envs.sim.backend.mj_data(0)

    def run():
        for _ in range(STEPS):
            mujoco.mj_step(model, data, nstep=envs.built.config.substeps)

    benchmark.pedantic(run, rounds=ROUNDS)
    _record(benchmark, task, n, "mj_step")
