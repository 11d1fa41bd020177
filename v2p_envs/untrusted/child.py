"""Run a Python child process under a wall-clock timeout and a memory limit.

The common baseline for untrusted code (human-eval's reliability guard calls itself "not a
security sandbox"): a separate process, its own session so that the whole group is killed on
timeout, an address-space limit, no core dumps. Its outcome is data, never an exception.
"""
from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Limits", "ChildOutcome", "run_python_child"]

_TAIL = 4000


@dataclass(frozen=True)
class Limits:
    """``timeout_s``: wall clock for the whole child; ``memory_mb``: address space (None: unlimited)."""

    timeout_s: float = 120.0
    memory_mb: int | None = 4096

    def __post_init__(self) -> None:
        if not self.timeout_s > 0:
            raise ValueError(f"timeout_s must be > 0, got {self.timeout_s}")
        if self.memory_mb is not None and self.memory_mb < 256:
            raise ValueError(f"memory_mb must be >= 256 (Python with torch needs about 1.2 GB), got {self.memory_mb}")


@dataclass(frozen=True)
class ChildOutcome:
    returncode: int | None  # None when killed on timeout; negative: killed by that signal
    timed_out: bool
    seconds: float
    stdout_tail: str
    stderr_tail: str


def _limit(memory_mb: int | None):
    def apply() -> None:  # runs in the child between fork and exec
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if memory_mb is not None:
            size = memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (size, size))
    return apply


def run_python_child(args: list[str], limits: Limits, cwd: Path | None = None,
                     env: dict[str, str] | None = None) -> ChildOutcome:
    """``python <args>`` with ``limits``; the process group is killed when time runs out."""
    child_env = dict(os.environ if env is None else env)
    child_env.setdefault("OMP_NUM_THREADS", "1")
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, cwd=cwd, env=child_env, start_new_session=True,
                            preexec_fn=_limit(limits.memory_mb))
    timed_out = False
    try:
        out, err = proc.communicate(timeout=limits.timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
    decode = lambda b: b.decode("utf-8", "replace")[-_TAIL:]  # noqa: E731
    return ChildOutcome(None if timed_out else proc.returncode, timed_out, time.perf_counter() - start,
                        decode(out), decode(err))

