"""Job functions for tests/test_jobs.py (imported by the job's child process)."""
from __future__ import annotations

import os
import time


def add(a: int, b: int) -> dict:
    return {"sum": a + b, "pid": os.getpid()}


def fail(message: str) -> dict:
    raise ValueError(message)


def die() -> dict:
    os._exit(3)  # a child that dies without a traceback


def sleep_forever() -> dict:
    while True:
        time.sleep(1)


def allocate() -> dict:
    block = bytearray(8 * 2**30)  # 8 GiB: beyond the job's memory limit
    return {"size": len(block)}


def count_calls(marker: str) -> dict:
    with open(marker, "a") as f:
        f.write("x")
    return {"calls": len(open(marker).read())}
