"""Env-step throughput of ``V2PVectorEnv.step`` on MuJoCo Warp against the bare physics of the
same model, and the peak GPU memory of one measurement."""
from __future__ import annotations

import ctypes
import gc
import logging
import statistics
import subprocess
import time
from collections.abc import Callable
from typing import Any

__all__ = ["SIZES", "TASKS", "PeakMemory", "WarpStepBench", "bench_one", "time_rounds"]

log = logging.getLogger(__name__)

TASKS = ("V2P-PushLeft-v0", "V2P-ThrowGarlic-v0")
#: the target size first: a time limit on the benchmark then cuts the smaller sizes, not the target row
SIZES = (8192, 4096, 1024)
GIB = 2 ** 30


class WarpStepBench:
    """One (task, N) of the Warp env-step benchmark.

    Builds the vector env on ``device`` with the Warp backend, draws ``steps`` random actions,
    and runs them once untimed (kernel compilation, CUDA graph capture) while recording the
    controls the env sent, for the bare-physics replay. ``env_setup``/``env_run`` time the env;
    ``bare()`` returns the same pair for a plain ``substeps x mjw.step`` loop (graph-captured on
    CUDA) of the same model, N, contact/constraint sizes and controls, with no env around it.
    """

    def __init__(self, task: str, num_envs: int, device: str = "cuda", steps: int = 100, seed: int = 0) -> None:
        import gymnasium as gym
        import torch

        import v2p_envs  # noqa: F401  (registers the tasks)

        self.task, self.num_envs, self.steps = task, num_envs, steps
        self.is_cuda = str(device).startswith("cuda")
        self.envs = gym.make_vec(task, num_envs=num_envs, vectorization_mode="vector_entry_point", device=device,
                                 backend="warp").unwrapped
        self.envs.reset(seed=seed)
        gen = torch.Generator(device="cpu").manual_seed(seed)
        n_act = self.envs.single_action_space.shape[0]
        self.actions = [(torch.rand(num_envs, n_act, generator=gen) * 2 - 1).to(self.envs.device) for _ in range(steps)]
        backend = self.envs.sim.backend
        self.controls = torch.empty(steps, num_envs, backend.model.nu, device=self.envs.device)
        for i, a in enumerate(self.actions):
            self.envs.step(a)
            self.controls[i] = backend.ctrl
        self.sync()
        self._bare_keepalive = None

    def sync(self) -> None:
        if self.is_cuda:
            import torch

            torch.cuda.synchronize()

    def env_setup(self) -> None:
        self.envs.reset(seed=0)
        self.sync()

    def env_run(self) -> None:
        for a in self.actions:
            self.envs.step(a)
        self.sync()

    def bare(self) -> tuple[Callable[[], None], Callable[[], None]]:
        """(setup, run) of the bare-physics replay; ``run`` steps all controls once."""
        import mujoco_warp as mjw
        import warp as wp

        backend = self.envs.sim.backend
        device = backend.wp_device
        n = self.num_envs
        with wp.ScopedDevice(device):
            model = mjw.put_model(backend.model)
            data = mjw.make_data(backend.model, nworld=n, nconmax=backend.wp_data.naconmax // n,
                                 njmax=backend.wp_data.njmax)
            qpos, qvel, ctrl = (wp.to_torch(getattr(data, f)) for f in ("qpos", "qvel", "ctrl"))
            mocap_pos, mocap_quat = wp.to_torch(data.mocap_pos), wp.to_torch(data.mocap_quat)

            def substeps() -> None:
                for _ in range(backend.substeps):
                    mjw.step(model, data)

            graph = None
            if device.is_cuda:
                with wp.ScopedCapture() as capture:
                    substeps()
                graph = capture.graph

        def setup() -> None:
            self.envs.reset(seed=0)
            qpos.copy_(backend.qpos)
            qvel.copy_(backend.qvel)
            mocap_pos.copy_(backend.mocap_pos)
            mocap_quat.copy_(backend.mocap_quat)
            self.sync()

        def run() -> None:
            with wp.ScopedDevice(device):
                for c in self.controls:
                    ctrl.copy_(c)
                    if graph is not None:
                        wp.capture_launch(graph)
                    else:
                        substeps()
            self.sync()

        self._bare_keepalive = (model, data, graph)
        return setup, run

    def close(self) -> None:
        self._bare_keepalive = None
        self.envs.close()


def time_rounds(setup: Callable[[], None], run: Callable[[], None], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        setup()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return times


def _reset_pool_high_water(ordinal: int) -> bool:
    """Reset the CUDA default memory pool's used-memory high-water mark (what Warp's
    ``get_mempool_used_mem_high`` reads) through the driver API; False where that fails."""
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
        dev, pool, zero = ctypes.c_int(), ctypes.c_void_p(), ctypes.c_uint64(0)
        if cuda.cuDeviceGet(ctypes.byref(dev), ordinal) or cuda.cuDeviceGetDefaultMemPool(ctypes.byref(pool), dev):
            return False
        cu_mempool_attr_used_mem_high = 8
        return cuda.cuMemPoolSetAttribute(pool, cu_mempool_attr_used_mem_high, ctypes.byref(zero)) == 0
    except (OSError, AttributeError):
        return False


def _smi_used_mib(ordinal: int) -> float | None:
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits",
                              "-i", str(ordinal)], capture_output=True, text=True, timeout=20, check=False)
        return float(out.stdout.strip().splitlines()[0])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


class PeakMemory:
    """Peak GPU memory of one measurement: torch's allocator peak + the Warp pool's high water
    (and nvidia-smi's used memory, before and after). Nothing on a CPU device."""

    def __init__(self, device: str) -> None:
        self.cuda = str(device).startswith("cuda")
        self.ordinal = int(str(device).split(":")[1]) if ":" in str(device) else 0
        self.reset_ok: bool | None = None
        self.smi_before: float | None = None

    def start(self) -> None:
        if not self.cuda:
            return
        import torch

        gc.collect()
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        self.reset_ok = _reset_pool_high_water(self.ordinal)
        if not self.reset_ok:
            log.warning("could not reset the CUDA memory pool's high-water mark: the Warp peak may be an earlier one")
        self.smi_before = _smi_used_mib(self.ordinal)

    def read(self) -> dict[str, Any]:
        if not self.cuda:
            return {}
        import torch
        import warp as wp

        torch_peak = int(torch.cuda.max_memory_allocated())
        warp_peak = int(wp.get_mempool_used_mem_high(f"cuda:{self.ordinal}"))
        smi = _smi_used_mib(self.ordinal)
        return {"peak_gpu_mem_gib": round((torch_peak + warp_peak) / GIB, 3),
                "peak_torch_gib": round(torch_peak / GIB, 3),
                "peak_warp_pool_gib": round(warp_peak / GIB, 3), "warp_pool_high_reset": self.reset_ok,
                "warp_mempool_enabled": bool(wp.is_mempool_enabled(f"cuda:{self.ordinal}")),
                "smi_used_gib": None if smi is None else round(smi / 1024, 3),
                "smi_used_delta_gib": None if smi is None or self.smi_before is None
                else round((smi - self.smi_before) / 1024, 3)}


def bench_one(task: str, n: int, device: str, steps: int, rounds: int) -> dict[str, Any]:
    """One row of the benchmark: env and bare rates (N x steps / median round time), their
    ratio, the round times, build time and peak memory."""
    mem = PeakMemory(device)
    mem.start()
    start = time.perf_counter()
    bench = WarpStepBench(task, n, device, steps)
    row: dict[str, Any] = {"task": task, "num_envs": n, "steps": steps, "rounds": rounds,
                           "build_s": round(time.perf_counter() - start, 2)}
    try:
        env_t = time_rounds(bench.env_setup, bench.env_run, rounds)
        bare_t = time_rounds(*bench.bare(), rounds)
        row.update(mem.read())
    finally:
        bench.close()
    env_med, bare_med = statistics.median(env_t), statistics.median(bare_t)
    row.update(env_steps_per_s=round(n * steps / env_med), bare_steps_per_s=round(n * steps / bare_med),
               env_over_bare=round(env_med / bare_med, 3), env_round_s=[round(t, 4) for t in env_t],
               bare_round_s=[round(t, 4) for t in bare_t])
    return row
