"""What the OS sandbox costs a leaderboard worker: start-up and a step, sandboxed and not.

    python -m benchmarks.sandbox_cost --starts 10 --steps 200

Starts the leaderboard's policy worker (``leaderboard.remote.RemotePolicy``, the shipped random
entry's private copy) ``--starts`` times inside the sandbox and as many times without it
(``--no-sandbox``), alternating so that a change in the machine's load falls on both alike. A
start is timed from launching the process to its ``ready`` frame (interpreter, torch, the
weights, the guard, ``policy.py``); then ``--steps`` act round trips (observations out, actions
back) are timed on one worker of each kind, and, for the wrapper alone, a bare ``python -c
pass`` in the same sandbox (bwrap's namespaces and binds) and without it. Prints a Markdown table with the exact command; it
does not touch RESULTS.md.
"""
from __future__ import annotations

import argparse
import logging
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from leaderboard.failures import Redactor
from leaderboard.remote import RemotePolicy, worker_limits
from leaderboard.submission import POLICY_FILE, private_copy
from v2p_envs.untrusted.sandbox import Sandbox, child_environment, isolation_problem, sandboxed_command

__all__ = ["measure", "markdown", "main"]

log = logging.getLogger(__name__)

ENTRY = Path(__file__).resolve().parents[1] / "leaderboard" / "entries" / "random"
OBS_DIM = 40  # any size: the random entry ignores the observation
NUM_ENVS = 10


def _start(policy_file: Path, sandbox: bool) -> tuple[float, RemotePolicy]:
    start = time.perf_counter()
    policy = RemotePolicy(policy_file, "V2P-PushLeft-v0", NUM_ENVS, OBS_DIM, seed_label="0", redactor=Redactor(),
                          limits=worker_limits(4096, 600), sandbox=sandbox)
    seconds = time.perf_counter() - start
    if policy.failures:
        raise RuntimeError(f"the worker did not start ({'sandboxed' if sandbox else 'unsandboxed'}): "
                           f"{policy.failures[0]}")
    return seconds, policy


def _bare_start(scratch: Path, sandbox: bool) -> float:
    command = sandboxed_command([sys.executable, "-c", "pass"], Sandbox(writable=(scratch,), isolate=sandbox), scratch)
    start = time.perf_counter()
    subprocess.run(command, env=child_environment(), cwd=scratch, check=True)
    return time.perf_counter() - start


def measure(starts: int, steps: int) -> dict[str, dict[str, list[float]]]:
    """Seconds per start and per act round trip for ``sandboxed`` and ``unsandboxed`` workers, and
    per start of a bare interpreter (``bare``) of each kind."""
    out: dict[str, dict[str, list[float]]] = {kind: {"start": [], "step": [], "bare": []}
                                              for kind in ("sandboxed", "unsandboxed")}
    with tempfile.TemporaryDirectory(prefix="v2p_sandbox_cost_") as tmp:
        policy_file = private_copy(ENTRY, Path(tmp) / "submission") / POLICY_FILE
        obs = torch.zeros(NUM_ENVS, OBS_DIM)
        for i in range(starts):
            for kind, sandbox in (("sandboxed", True), ("unsandboxed", False)):
                out[kind]["bare"].append(_bare_start(Path(tmp) / "scratch", sandbox))
                seconds, policy = _start(policy_file, sandbox)
                out[kind]["start"].append(seconds)
                if i == 0:
                    for _ in range(steps):
                        start = time.perf_counter()
                        policy.act(obs)
                        out[kind]["step"].append(time.perf_counter() - start)
                policy.close()
                log.info("%s start %d: %.2f s", kind, i + 1, seconds)
    return out


def markdown(results: dict[str, dict[str, list[float]]], command: str, minutes: float) -> str:
    def row(kind: str) -> str:
        start, step, bare = results[kind]["start"], results[kind]["step"], results[kind]["bare"]
        return (f"| {kind} | {len(start)} | {statistics.median(start):.2f} s | {min(start):.2f}-{max(start):.2f} s | "
                f"{statistics.median(step) * 1e3:.2f} ms | {statistics.median(bare) * 1e3:.0f} ms |")

    def median_delta(key: str) -> float:
        return statistics.median(results["sandboxed"][key]) - statistics.median(results["unsandboxed"][key])

    delta, step_delta, bare_delta = median_delta("start"), median_delta("step"), median_delta("bare")
    return "\n".join([
        f"{time.strftime('%Y-%m-%d')} · {platform.machine()} {platform.system()} · {minutes:.1f} min · `{command}`",
        "",
        "| worker | starts | start-up (median) | start-up (range) | act round trip (median, 10 envs) | "
        "`python -c pass` (median) |",
        "|---|---|---|---|---|---|",
        row("sandboxed"), row("unsandboxed"),
        "",
        f"The sandbox adds {delta:+.2f} s to a worker's start (median), {step_delta * 1e3:+.3f} ms to a step, and "
        f"{bare_delta * 1e3:+.0f} ms to a bare interpreter's start (the wrapper alone).",
    ])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.sandbox_cost", description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--starts", type=int, default=10, help="worker starts of each kind")
    p.add_argument("--steps", type=int, default=200, help="act round trips timed on the first worker of each kind")
    p.add_argument("--verbose", action="store_true", help="log each start")
    args = p.parse_args(argv)
    if args.starts < 1 or args.steps < 1:
        p.error("--starts and --steps must be >= 1")
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    problem = isolation_problem()
    if problem is not None:
        p.error(f"this host cannot isolate, so there is nothing to compare: {problem}")
    command = shlex.join(["python", "-m", "benchmarks.sandbox_cost", *(sys.argv[1:] if argv is None else argv)])
    start = time.perf_counter()
    results = measure(args.starts, args.steps)
    print(markdown(results, command, (time.perf_counter() - start) / 60))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
