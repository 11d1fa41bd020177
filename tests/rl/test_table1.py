"""The Table-1 runner: a one-task, one-seed run at a tiny budget, and its RESULTS.md section."""
from __future__ import annotations

from benchmarks.table1 import main, write_section


def test_table1_writes_its_section(tmp_path):
    out = tmp_path / "RESULTS.md"
    out.write_text("# Benchmark results\n\n## env step\nothers' figures\n")
    assert main(["--method", "v2p", "--tasks", "ReachBlock", "--seeds", "1", "--steps", "64", "--num-envs", "4",
                 "--episodes", "2", "--runs-dir", str(tmp_path / "runs"), "--out", str(out), "--quiet"]) == 0
    text = out.read_text()
    assert "others' figures" in text and "| V2P-ReachBlock-v0 |" in text and "**average**" in text
    assert (tmp_path / "runs" / "V2P-ReachBlock-v0" / "eval.json").is_file()


def test_write_section_replaces_only_its_own(tmp_path):
    out = tmp_path / "RESULTS.md"
    out.write_text("head\n<!-- table1:v2p:begin -->\nold\n<!-- table1:v2p:end -->\ntail\n")
    write_section("<!-- table1:v2p:begin -->\nnew\n<!-- table1:v2p:end -->", "v2p", out)
    assert out.read_text() == "head\n<!-- table1:v2p:begin -->\nnew\n<!-- table1:v2p:end -->\ntail\n"
