"""What one env step spends its time on (issue 11): torch operators per step and time per part.

    python -m benchmarks.profile_env_step --task PushLeft --num-envs 1 --steps 300

The operator count comes from the torch profiler (top-level ``aten::`` calls, i.e. those not
issued by another operator), the time split from cProfile's cumulative time of the functions
that make a step. Eager torch costs a roughly fixed few microseconds per operator whatever the
batch size, so the count is what bounds the small-N step; the split says where to cut.
"""
from __future__ import annotations

import argparse
import collections
import cProfile
import json
import pstats
import time
from typing import Any

import gymnasium as gym
import numpy as np

#: (label, file suffix, function name) of the parts of a step, as cProfile names them.
PARTS = (
    ("physics (mujoco.batch, all substeps)", "~", "<built-in method mujoco._batch.step>"),
    ("state refresh from MuJoCo", "v2p_envs/sim.py", "refresh"),
    ("controller", "v2p_envs/controller.py", "compute"),
    ("task reward", "task.py", "compute_reward"),
    ("generated success", "task.py", "compute_success"),
    ("ground truth", "v2p_envs/vector_env.py", "_ground_truth"),
    ("observation", "v2p_envs/vector_env.py", "_observe"),
    ("action checks", "v2p_envs/vector_env.py", "_check_actions"),
    ("finite checks", "v2p_envs/vector_env.py", "_check_finite"),
    ("single-env numpy conversion", "v2p_envs/env.py", "_to_python"),
)


def _make(env_id: str, num_envs: int) -> tuple[Any, Any]:
    import v2p_envs  # noqa: F401  (registers the ids)

    env = gym.make(env_id) if num_envs == 1 else gym.make_vec(env_id, num_envs=num_envs)
    env.reset(seed=0)
    return env, np.zeros(env.action_space.shape, dtype=np.float32)


def operator_counts(env: Any, action: Any, steps: int = 20) -> dict[str, Any]:
    """Top-level and all ``aten::`` operators per step, and the most frequent top-level ones."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            env.step(action)
    events = [e for e in prof.events() if e.name.startswith("aten::")]
    top = [e for e in events if e.cpu_parent is None or not e.cpu_parent.name.startswith("aten::")]
    return {"top_level_ops_per_step": len(top) / steps, "all_ops_per_step": len(events) / steps,
            "most_frequent_per_step": [(name, n / steps) for name, n in
                                       collections.Counter(e.name for e in top).most_common(8)]}


def time_split(env: Any, action: Any, steps: int) -> dict[str, float]:
    """Milliseconds per step of each part in :data:`PARTS` (cumulative, cProfile on)."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        env.step(action)
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # {(file, line, name): (cc, nc, tt, ct, callers)}
    split = {"step (with cProfile)": sum(v[2] for v in stats.values()) * 1e3 / steps}
    for label, suffix, name in PARTS:
        total = sum(v[3] for (file, _, fn), v in stats.items() if fn == name and file.endswith(suffix))
        split[label] = total * 1e3 / steps
    return split


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.profile_env_step", description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--task", default="PushLeft", help="task name or env id")
    p.add_argument("--num-envs", type=int, default=1, help="1: a single gym.make env; more: gym.make_vec")
    p.add_argument("--steps", type=int, default=300, help="steps timed and profiled")
    args = p.parse_args(argv)
    if args.num_envs < 1 or args.steps < 1:
        p.error("--num-envs and --steps must be >= 1")
    env_id = args.task if args.task.startswith("V2P-") else f"V2P-{args.task}-v0"
    env, action = _make(env_id, args.num_envs)
    for _ in range(50):
        env.step(action)
    start = time.perf_counter()
    for _ in range(args.steps):
        env.step(action)
    result = {"task": env_id, "num_envs": args.num_envs,
              "step_ms": (time.perf_counter() - start) * 1e3 / args.steps,
              **operator_counts(env, action), "ms_per_step": time_split(env, action, args.steps)}
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
