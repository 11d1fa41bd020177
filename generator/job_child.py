"""The child side of ``generator.jobs``: import the job's function, call it, write its result.

    python -m generator.job_child JOB.json RESULT.json

The function returns a JSON-serialisable dict. An exception becomes a ``failed`` result (a
``MemoryError``: ``memory``) with its message (and the task-code category when it is a ``TaskContractError`` or a training run
that failed on one); anything worse (a crash, the memory limit, the timeout) leaves no file,
and the parent records that.
"""
from __future__ import annotations

import importlib
import json
import sys
import time
import traceback
from dataclasses import asdict
from pathlib import Path

from v2p_envs.untrusted.guard import install

from .jobs import Job, JobResult


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    spec, out = Path(argv[0]), Path(argv[1])
    job = Job(**json.loads(spec.read_text()))
    start = time.perf_counter()
    try:
        module, name = job.function.split(":")
        function = getattr(importlib.import_module(module), name)
        # the job's own imports are done; what it loads from here on (a model's task code) runs
        # under the guard: writes only to this job's folders, no processes, sockets or ctypes
        install([out.parent, *job.writable])
        result = function(**job.kwargs)
        record = JobResult(job.key, "done", result, None, 0.0)
    except Exception as exc:  # noqa: BLE001 - every failure of a job is its result
        category = getattr(exc, "category", None)
        message = f"{type(exc).__name__}: {exc}"
        status = "memory" if isinstance(exc, MemoryError) else "failed"
        record = JobResult(job.key, status, {"category": category} if category else None, message, 0.0)
        sys.stderr.write(traceback.format_exc()[-2000:])
    record.seconds = round(time.perf_counter() - start, 2)
    out.write_text(json.dumps(asdict(record), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
