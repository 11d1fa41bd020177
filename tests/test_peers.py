"""The side-by-side peers benchmark (benchmarks/peers.py) through its entry point. The peers'
venvs do not exist in a test run: ours is measured for real, a peer without its venv becomes a
row saying how to set it up, and the targets say "not measured" rather than inventing a figure."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "benchmarks.peers", "--no-progress", *args], capture_output=True,
                          text=True, cwd=REPO, timeout=600)


def test_ours_measured_and_a_missing_peer_is_a_row(tmp_path):
    out = _run("--peers", "ours", "fetch", "--measures", "single", "batched", "--rounds", "1",
               "--seconds", "0.3", "--venvs", str(tmp_path / "none"), "--out", str(tmp_path / "out"))
    assert out.returncode == 0, out.stderr[-2000:]
    rows = json.loads((tmp_path / "out" / "peers.json").read_text())
    ours = {r["measure"]: r for r in rows if r["peer"] == "ours"}
    assert ours["single"]["steps_per_s"] > 0 and ours["single"]["control_period_s"] == 0.02
    assert ours["batched"]["steps_per_s"] > 0 and ours["batched"]["sim_s_per_s"] > 0
    assert ours["batched"]["how"] == "native, N=256"
    fetch = [r for r in rows if r["peer"] == "fetch"]
    assert fetch and all("no venv" in r["error"] and "--setup" in r["error"] for r in fetch)
    table = (tmp_path / "out" / "peers.md").read_text()
    assert "fetch single failed: no venv" in table
    assert "single env sim s / wall s >= FetchPush's: not measured" in table


def test_refuses_a_bad_round_count(tmp_path):
    out = _run("--rounds", "0", "--out", str(tmp_path))
    assert out.returncode == 2 and "--rounds" in out.stderr and "Traceback" not in out.stderr
