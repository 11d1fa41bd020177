"""What the env's integrity work costs per vector step (issue 9), as a share of the step.

    python -m benchmarks.contract_checks [--tasks V2P-PushLeft-v0 V2P-ThrowGarlic-v0] [--sizes 1 16 64]

Times, in one process and one run, a whole ``V2PVectorEnv.step`` with random actions and the
pieces issue 9 added to it: the copy of ``states`` that task code gets (``task_states``), the
action check, and the checks of success, reward and components (shapes, dtypes, NaN/inf).
Medians over rounds; the machine is shared, so read the shares, not the absolute times.
"""
from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import torch

import v2p_envs

__all__ = ["measure", "main"]


def _median_us(fn: Callable[[], object], calls: int, rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(times)


def measure(task: str, n: int, steps: int = 50) -> dict[str, float]:
    env = v2p_envs.make_vec(task, num_envs=n).unwrapped
    try:
        env.reset(seed=0)
        gen = torch.Generator().manual_seed(0)
        actions = torch.rand(n, 7, generator=gen) * 2 - 1
        with env.sim.backend.compute_context():
            states = env.sim.task_states()
            obs = env._observe(states)
            success = env.task.compute_success(states)
            reward = env.task.compute_reward(actions, states)
            checked_reward, components = env._as_reward(reward)
            parts = {
                "task_states_copy": _median_us(env.sim.task_states, 500),
                "check_actions": _median_us(lambda: env._check_actions(actions), 500),
                "check_success": _median_us(lambda: env._as_success(success), 500),
                "check_reward": _median_us(lambda: env._as_reward(reward), 500),
                "check_finite": _median_us(lambda: env._check_finite(obs, checked_reward, components), 500),
            }
        step = _median_us(lambda: env.step(actions), steps, rounds=3)
    finally:
        env.close()
    added = sum(parts.values())
    return {**parts, "added_us": added, "step_us": step, "share": added / step}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.contract_checks", description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--tasks", nargs="+", default=["V2P-PushLeft-v0", "V2P-ThrowGarlic-v0"])
    p.add_argument("--sizes", nargs="+", type=int, default=[1, 16, 64])
    args = p.parse_args(argv)
    print("| task | N | copy of states | action check | success check | reward check | NaN/inf check | "
          "added | whole step | share |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for task in args.tasks:
        for n in args.sizes:
            r = measure(task, n)
            print(f"| {task} | {n} | {r['task_states_copy']:.0f} us | {r['check_actions']:.0f} us | "
                  f"{r['check_success']:.0f} us | {r['check_reward']:.0f} us | {r['check_finite']:.0f} us | "
                  f"{r['added_us']:.0f} us | {r['step_us']:.0f} us | {100 * r['share']:.1f}% |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
