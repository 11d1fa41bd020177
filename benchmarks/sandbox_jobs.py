"""What the sandbox costs a job (issue 26): start-up and training steps/s, sandboxed against not.

    python -m benchmarks.sandbox_jobs --repeats 3 --steps 20480 --num-envs 64

Alternates the two (so load on a shared machine falls on both alike) and reports each figure's
median and the ratio, measured in this one run: an empty job (a child's start-up: bubblewrap,
the interpreter, the job's imports, the guard) and a training job of a shipped task (the
trainer's own steps/s, from its record, and the job's wall time).
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from generator.jobs import Job, LocalRunner
from v2p_envs import resolve_task
from v2p_envs.untrusted.sandbox import NO_SANDBOX_VARIABLE, isolation_problem


def _job(kind: str, work: Path, steps: int, num_envs: int, i: int) -> Job:
    if kind == "empty":
        return Job(f"empty{i}", "benchmarks.sandbox_jobs:empty_job", timeout_s=300)
    task_dir = resolve_task("V2P-ReachBlock-v0").kwargs["task_dir"]
    run_dir = work / f"run{i}"
    return Job(f"train{i}", "baselines.rl.jobs:train_job",
               {"task_dir": task_dir, "seed": 0, "run_dir": str(run_dir), "steps": steps, "num_envs": num_envs},
               timeout_s=3600, writable=(str(run_dir),))


def empty_job() -> dict:
    return {}


def _once(kind: str, sandboxed: bool, work: Path, steps: int, num_envs: int, i: int) -> tuple[float, float | None]:
    if sandboxed:
        os.environ.pop(NO_SANDBOX_VARIABLE, None)
    else:
        os.environ[NO_SANDBOX_VARIABLE] = "1"
    start = time.perf_counter()
    result = LocalRunner().run([_job(kind, work, steps, num_envs, i)], work / f"jobs{i}")[0]
    wall = time.perf_counter() - start
    if not result.ok or result.isolated != sandboxed:
        raise SystemExit(f"{kind} job (sandboxed={sandboxed}) did not run as expected: {result.status} {result.error}")
    rate = result.result["env_steps"] / result.result["wall_time_s"] if kind == "train" else None
    return wall, rate


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.sandbox_jobs", description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--steps", type=int, default=20480, help="env steps of each training job")
    p.add_argument("--num-envs", type=int, default=64)
    args = p.parse_args(argv)
    if (problem := isolation_problem()) is not None:
        raise SystemExit(f"this host cannot isolate: {problem}")
    figures: dict[tuple[str, bool], list[tuple[float, float | None]]] = {}
    with tempfile.TemporaryDirectory(prefix="v2p_sandbox_cost_") as tmp:
        i = 0
        for _ in range(args.repeats):
            for kind in ("empty", "train"):
                for sandboxed in (True, False):
                    i += 1
                    figures.setdefault((kind, sandboxed), []).append(
                        _once(kind, sandboxed, Path(tmp), args.steps, args.num_envs, i))
    med = {key: (statistics.median(w for w, _ in v), statistics.median(r for _, r in v) if key[0] == "train" else None)
           for key, v in figures.items()}
    lines = ["| job | sandboxed | not sandboxed | ratio |", "|---|---|---|---|",
             f"| empty job, wall (s) | {med['empty', True][0]:.2f} | {med['empty', False][0]:.2f} | "
             f"{med['empty', True][0] / med['empty', False][0]:.2f} |",
             f"| training job ({args.steps} steps, {args.num_envs} envs), wall (s) | {med['train', True][0]:.1f} | "
             f"{med['train', False][0]:.1f} | {med['train', True][0] / med['train', False][0]:.2f} |",
             f"| training job, trainer's env steps/s | {med['train', True][1]:.0f} | {med['train', False][1]:.0f} | "
             f"{med['train', True][1] / med['train', False][1]:.2f} |"]
    print("\n".join(lines))  # noqa: T201 - the benchmark's report
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
