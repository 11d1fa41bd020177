"""Jobs on the local pool: results as files, failures as data, finished jobs not rerun."""
from __future__ import annotations

import pytest

from pathlib import Path

from generator.jobs import Job as _Job, LocalRunner
from v2p_envs.errors import V2PError

F = "tests.job_fixtures"
TESTS = (str(Path(__file__).parent),)  # the sandboxed child reads the fixtures from here


def Job(key, function, kwargs=None, **options):  # noqa: N802 - the real Job, readable fixtures
    return _Job(key, function, kwargs or {}, readable=TESTS, **options)


def test_results_and_failures_are_data(tmp_path):
    jobs = [Job("ok", f"{F}:add", {"a": 2, "b": 3}), Job("raises", f"{F}:fail", {"message": "bad reward"}),
            Job("dies", f"{F}:die"), Job("hangs", f"{F}:sleep_forever", timeout_s=8),
            Job("greedy", f"{F}:allocate", memory_mb=2048)]
    results = LocalRunner(workers=2).run(jobs, tmp_path)
    by_key = {r.key: r for r in results}
    assert [r.key for r in results] == [j.key for j in jobs]
    assert by_key["ok"].status == "done" and by_key["ok"].result["sum"] == 5
    assert by_key["raises"].status == "failed" and "bad reward" in by_key["raises"].error
    assert by_key["dies"].status == "crashed" and "status 3" in by_key["dies"].error
    assert by_key["hangs"].status == "timeout"
    assert by_key["greedy"].status == "memory"
    assert all((tmp_path / f"{j.key}.json").is_file() for j in jobs)


def test_a_rerun_skips_finished_jobs(tmp_path):
    marker = tmp_path / "calls.txt"
    job = Job("once", f"{F}:count_calls", {"marker": str(marker)}, writable=(str(tmp_path),))
    first = LocalRunner().run([job], tmp_path / "results")[0]
    again = LocalRunner().run([job], tmp_path / "results")[0]
    assert first.result == again.result == {"calls": 1} and marker.read_text() == "x"


def test_bad_job_descriptions_are_refused():
    with pytest.raises(V2PError, match="plain file name"):
        Job("../escape", f"{F}:add")
    with pytest.raises(V2PError, match="module:function"):
        Job("k", "no_colon")


@pytest.mark.slow
def test_two_jobs_through_ray_on_a_local_cluster(tmp_path):
    ray = pytest.importorskip("ray")
    from generator.jobs import RayRunner

    try:
        runner = RayRunner(None, num_cpus_per_job=0.5)  # a local cluster
        results = runner.run([Job("a", f"{F}:add", {"a": 1, "b": 2}), Job("b", f"{F}:fail", {"message": "no"})],
                             tmp_path)
    finally:
        ray.shutdown()
    assert results[0].status == "done" and results[0].result["sum"] == 3
    assert results[1].status == "failed" and "no" in results[1].error
    assert (tmp_path / "a.json").is_file() and (tmp_path / "b.json").is_file()
