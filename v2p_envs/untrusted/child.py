"""Run a Python child process in the sandbox, under a wall-clock timeout and rlimits.

Every process that runs untrusted code goes through here (the task trial, training jobs, a
Code-as-Policies plan): ``sandbox.py`` wraps it in its namespaces, the rlimits bound its
address space, CPU time, file size and processes, its own session lets the whole group be
killed on timeout, and its output is read as it comes and only the tail kept (a child that
writes megabytes costs the parent nothing). Its outcome is data, never an exception.
"""
from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .sandbox import Sandbox, child_environment, sandboxed_command

__all__ = ["Limits", "ChildOutcome", "run_python_child", "limit_preexec", "drain_tail"]

_TAIL = 4000
_CHUNK = 65536


@dataclass(frozen=True)
class Limits:
    """``timeout_s``: wall clock for the whole child; ``memory_mb``: address space (None: unlimited);
    ``cpu_s``: CPU seconds over all its threads (None: twice the timeout per core, which only a
    runaway reaches); ``file_mb``: the largest file it may write; ``processes``: how many more
    processes its user may start (the kernel does not count for root: there seccomp refuses all)."""

    timeout_s: float = 120.0
    memory_mb: int | None = 4096
    cpu_s: int | None = None
    file_mb: int = 2048
    processes: int = 64

    def __post_init__(self) -> None:
        if not self.timeout_s > 0:
            raise ValueError(f"timeout_s must be > 0, got {self.timeout_s}")
        if self.memory_mb is not None and self.memory_mb < 256:
            raise ValueError(f"memory_mb must be >= 256 (Python with torch needs about 1.2 GB), got {self.memory_mb}")
        if self.file_mb < 1 or self.processes < 1:
            raise ValueError(f"file_mb and processes must be >= 1, got {self.file_mb} and {self.processes}")


@dataclass(frozen=True)
class ChildOutcome:
    returncode: int | None  # None when killed on timeout; negative: killed by that signal
    timed_out: bool
    seconds: float
    stdout_tail: str
    stderr_tail: str
    isolated: bool = False  # ran inside the sandbox


def _own_process_count() -> int:
    uid = os.getuid()
    count = 0
    for entry in os.scandir("/proc") if os.path.isdir("/proc") else ():
        if entry.name.isdigit():
            try:
                count += entry.stat().st_uid == uid
            except OSError:
                pass
    return count


def limit_preexec(limits: Limits):
    cpu = limits.cpu_s if limits.cpu_s is not None else int(2 * limits.timeout_s * (os.cpu_count() or 1)) + 60
    processes = _own_process_count() + limits.processes

    def apply() -> None:  # runs in the child between fork and exec
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        size = limits.file_mb * 2**20
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
        if limits.memory_mb is not None:
            memory = limits.memory_mb * 2**20
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    return apply


def drain_tail(stream, keep: list[bytes]) -> None:
    """Read ``stream`` to its end, keeping only its last ``_TAIL`` bytes."""
    tail = b""
    for chunk in iter(lambda: stream.read(_CHUNK), b""):
        tail = (tail + chunk)[-_TAIL:]
    keep.append(tail)


def run_python_child(args: list[str], limits: Limits, cwd: Path | None = None, env: dict[str, str] | None = None,
                     sandbox: Sandbox = Sandbox()) -> ChildOutcome:
    """``python <args>`` with ``limits`` inside ``sandbox`` (see the module doc); the process group
    is killed when time runs out. ``env`` adds variables to the child's own environment.
    ``SandboxUnavailable`` when the host cannot isolate and the sandbox was not opted out of."""
    command = sandboxed_command([sys.executable, *args], sandbox, cwd)
    isolated = sandbox.isolated
    # its own environment even when opted out of the sandbox: the parent's secrets never reach it
    child_env = child_environment({**dict(sandbox.env), **(env or {})})
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            cwd=cwd, env=child_env, start_new_session=True, preexec_fn=limit_preexec(limits))
    out: list[bytes] = []
    err: list[bytes] = []
    readers = [threading.Thread(target=drain_tail, args=(proc.stdout, out), daemon=True),
               threading.Thread(target=drain_tail, args=(proc.stderr, err), daemon=True)]
    for reader in readers:
        reader.start()
    timed_out = False
    try:
        proc.wait(timeout=limits.timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    for reader in readers:
        reader.join(timeout=10)
    decode = lambda parts: (parts[0] if parts else b"").decode("utf-8", "replace")  # noqa: E731
    return ChildOutcome(None if timed_out else proc.returncode, timed_out, time.perf_counter() - start,
                        decode(out), decode(err), isolated=isolated)
