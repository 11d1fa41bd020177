"""The Table-1 runner: a one-task, one-seed run at a tiny budget, and its RESULTS.md section."""
from __future__ import annotations

from benchmarks.results_md import write_section
from benchmarks.table1 import main, resolve_tasks


def test_table1_writes_its_run_folder_and_updates_results_only_when_asked(tmp_path):
    out = tmp_path / "RESULTS.md"
    before = "# Benchmark results\n\n## env step\nothers' figures\n"
    out.write_text(before)
    argv = ["--method", "v2p", "--tasks", "ReachBlock", "--seeds", "1", "--steps", "64", "--num-envs", "4",
            "--episodes", "2", "--runs-dir", str(tmp_path / "runs"), "--out", str(out), "--quiet"]
    assert main(argv) == 0
    assert out.read_text() == before  # the recorded table is not touched by default
    table = (tmp_path / "runs" / "table1_v2p.md").read_text()
    assert "| V2P-ReachBlock-v0 |" in table and "**average**" in table
    assert "--episodes 2" in table and "--runs-dir" in table  # the full command line is recorded
    assert (tmp_path / "runs" / "V2P-ReachBlock-v0" / "eval.json").is_file()
    assert main(argv + ["--reuse", "--update-results"]) == 0
    text = out.read_text()
    assert "others' figures" in text and "| V2P-ReachBlock-v0 |" in text


def test_all_means_the_twelve_table1_tasks():
    tasks = resolve_tasks(["all"])
    assert len(tasks) == 12 and "V2P-ReachBlock-v0" not in tasks and "V2P-GraspBlock-v0" not in tasks
    assert tasks[0] == "V2P-PushLeft-v0" and tasks[-1] == "V2P-ThrowGarlic-v0"


def test_write_section_replaces_only_its_own(tmp_path):
    out = tmp_path / "RESULTS.md"
    out.write_text("head\n<!-- table1:v2p:begin -->\nold\n<!-- table1:v2p:end -->\ntail\n")
    write_section("<!-- table1:v2p:begin -->\nnew\n<!-- table1:v2p:end -->", "table1:v2p", out)
    assert out.read_text() == "head\n<!-- table1:v2p:begin -->\nnew\n<!-- table1:v2p:end -->\ntail\n"
