"""Independent jobs (a training run per reward sample and seed, a benchmark cell) on a local
process pool or on Ray: the same job description and the same child process on both.

A ``Job`` names a function by import path (``"baselines.rl.jobs:train_job"``) and JSON
arguments. Every job runs in its own child process with the untrusted-code limits (wall-clock
timeout, address-space limit), because the code it trains may be a model's. Its result is a
JSON file ``<results_dir>/<key>.json``: a rerun skips the jobs whose file says ``done``. A job
that raises, crashes without a word, runs out of time or memory is a recorded result with its
status, never an exception or a hang of the caller (Eureka's loop waits forever on a child that
dies without a traceback).

    runner = LocalRunner(workers=2)                 # or RayRunner("auto") / RayRunner("ray://host:10001")
    results = runner.run(jobs, results_dir)
"""
from __future__ import annotations

import json
import logging
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from v2p_envs.errors import V2PError
from v2p_envs.untrusted.child import Limits, run_python_child
from v2p_envs.untrusted.sandbox import Sandbox

__all__ = ["Job", "JobResult", "JobRunner", "LocalRunner", "RayRunner", "run_job_in_child", "make_runner"]

log = logging.getLogger(__name__)
STATUSES = ("done", "failed", "timeout", "memory", "crashed")


@dataclass(frozen=True)
class Job:
    key: str  # unique among the jobs of a results folder; the result file's name
    function: str  # "package.module:function", imported in the child
    kwargs: dict[str, Any] = field(default_factory=dict)  # JSON-serialisable
    timeout_s: float = 3600.0
    memory_mb: int | None = 8192
    # the folders the job writes (a run folder, a task folder's caches) besides its results folder,
    # and extra folders it reads (the sandbox shows it nothing else of the host)
    writable: tuple[str, ...] = ()
    readable: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.key or "/" in self.key or self.key.startswith("."):
            raise V2PError(f"job key must be a plain file name, got {self.key!r}")
        if ":" not in self.function:
            raise V2PError(f"job function must be 'module:function', got {self.function!r}")
        # absolute (the child's guard resolves them in its own working folder), tuples (JSON gives lists)
        object.__setattr__(self, "writable", tuple(str(Path(p).absolute()) for p in self.writable))
        object.__setattr__(self, "readable", tuple(str(Path(p).absolute()) for p in self.readable))


@dataclass
class JobResult:
    key: str
    status: str  # one of STATUSES
    result: dict[str, Any] | None
    error: str | None
    seconds: float
    isolated: bool = False  # the job's child ran inside the sandbox

    @property
    def ok(self) -> bool:
        return self.status == "done"


def _result_file(results_dir: Path, key: str) -> Path:
    return Path(results_dir) / f"{key}.json"


def _read_result(path: Path) -> JobResult | None:
    try:
        return JobResult(**json.loads(path.read_text()))
    except (OSError, json.JSONDecodeError, TypeError):
        return None


def run_job_in_child(job: Job, results_dir: Path) -> JobResult:
    """Run ``job`` in a sandboxed child process with its limits; write and return its result.

    The child sees and writes a private folder of its own (``.<key>.child/``: the job's spec in,
    its result out), never the other jobs' results; this process checks what it wrote and
    writes the job's record itself."""
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    record_file = _result_file(results_dir, job.key)
    record_file.unlink(missing_ok=True)
    private = results_dir / f".{job.key}.child"
    shutil.rmtree(private, ignore_errors=True)
    private.mkdir()
    spec, out = private / "job.json", private / "result.json"
    spec.write_text(json.dumps(asdict(job)))
    sandbox = Sandbox(writable=(private, *map(Path, job.writable)), readable=tuple(map(Path, job.readable)))
    outcome = run_python_child(["-m", "generator.job_child", str(spec), str(out)], Limits(job.timeout_s, job.memory_mb),
                               sandbox=sandbox)
    result = _read_result(out) if outcome.returncode == 0 else None
    shutil.rmtree(private, ignore_errors=True)
    if result is None or result.key != job.key or result.status not in STATUSES:
        tail = " | ".join(outcome.stderr_tail.strip().splitlines()[-3:])
        if outcome.timed_out:
            status, error = "timeout", f"no result within {job.timeout_s:.0f} s"
        elif any(w in outcome.stderr_tail for w in ("MemoryError", "Cannot allocate memory", "std::bad_alloc")):
            status, error = "memory", tail
        else:
            status, error = "crashed", f"the child exited with status {outcome.returncode} and no result: {tail}"
        result = JobResult(job.key, status, None, error, round(outcome.seconds, 2))
    result.isolated = outcome.isolated
    tmp = record_file.with_name(f".{record_file.name}.tmp")
    tmp.write_text(json.dumps(asdict(result), indent=1) + "\n")
    tmp.replace(record_file)
    log.info("job %s: %s (%.0f s)", job.key, result.status, result.seconds)
    return result


class JobRunner(Protocol):
    def run(self, jobs: list[Job], results_dir: Path) -> list[JobResult]:
        """Every job's result, in the order of ``jobs``; finished ones (status done) are not rerun."""


def _finished(jobs: list[Job], results_dir: Path) -> dict[str, JobResult]:
    done = {}
    for job in jobs:
        result = _read_result(_result_file(results_dir, job.key))
        if result is not None and result.ok:
            done[job.key] = result
    return done


class LocalRunner:
    """A local pool of ``workers`` jobs at a time (each in its own child process)."""

    def __init__(self, workers: int = 1) -> None:
        if workers < 1:
            raise V2PError(f"workers must be >= 1, got {workers}")
        self.workers = workers

    def run(self, jobs: list[Job], results_dir: Path) -> list[JobResult]:
        results_dir = Path(results_dir)
        done = _finished(jobs, results_dir)
        todo = [j for j in jobs if j.key not in done]
        if done:
            log.info("%d of %d jobs already done in %s", len(done), len(jobs), results_dir)
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            for result in pool.map(lambda j: run_job_in_child(j, results_dir), todo):
                done[result.key] = result
        return [done[j.key] for j in jobs]


class RayRunner:
    """The same jobs as Ray tasks (``ray.init(address)``: "auto", "ray://host:port", or None for a
    local cluster); each task runs the same child process, so limits and results are the same."""

    def __init__(self, address: str | None = None, num_cpus_per_job: float = 1.0) -> None:
        try:
            import ray
        except ImportError as exc:
            raise V2PError("the Ray runner needs ray: pip install -e '.[ray]'") from exc
        self.ray = ray
        if not ray.is_initialized():
            ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
        self.num_cpus_per_job = num_cpus_per_job

    def run(self, jobs: list[Job], results_dir: Path) -> list[JobResult]:
        results_dir = Path(results_dir).resolve()
        done = _finished(jobs, results_dir)
        remote = self.ray.remote(num_cpus=self.num_cpus_per_job)(_ray_job)
        refs = {j.key: remote.remote(asdict(j), str(results_dir)) for j in jobs if j.key not in done}
        for key, ref in refs.items():
            done[key] = JobResult(**self.ray.get(ref))
        return [done[j.key] for j in jobs]


def _ray_job(job: dict[str, Any], results_dir: str) -> dict[str, Any]:
    return asdict(run_job_in_child(Job(**job), Path(results_dir)))


def make_runner(workers: int = 1, ray_address: str | None = None) -> JobRunner:
    """Ray when an address is given ("auto" for a running cluster), else a local pool."""
    return RayRunner(ray_address) if ray_address else LocalRunner(workers)
