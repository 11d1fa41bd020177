"""The push tracer (benchmarks/push_trace.py) through its entry point: it reads a push from the
oracle the way the oracle was written (low, far enough, upright) and traces a trained checkpoint."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "benchmarks.push_trace", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=300)


def test_the_oracle_push_is_traced_as_written(tmp_path):
    out = _run("--oracle", "V2P-PushRight-v0", "--object", "cup", "--direction", "y-", "--episodes", "3",
               "--json", str(tmp_path / "trace.json"))
    assert out.returncode == 0, out.stderr[-2000:]
    traces = json.loads((tmp_path / "trace.json").read_text())
    assert [t["seed"] for t in traces] == [1000, 1001, 1002]
    for t in traces:
        # PushRightOracle pushes 1.2 cm above the table through 23 cm of hand travel, slowly
        assert t["success"] and t["push_start_step"] is not None
        assert 0.5 < t["push_height_cm"] < 3.0 and t["furthest_push_cm"] > 15.0
        assert t["drift_cm"] < 2.0 and t["min_up_z"] > 0.95
    assert "Success 3/3" in out.stdout and "| 1002 |" in out.stdout


def test_a_checkpoint_is_traced(rl_games_run):
    checkpoint = Path(rl_games_run.checkpoint)
    out = _run(str(checkpoint), "--object", "block", "--direction", "x+", "--episodes", "2")
    assert out.returncode == 0, out.stderr[-2000:]
    rows = [line for line in out.stdout.splitlines() if line.startswith("| 100")]
    assert len(rows) == 2 and str(checkpoint) in out.stdout


def test_bad_requests_are_named():
    out = _run("--oracle", "V2P-PushRight-v0", "--object", "mug", "--direction", "y-", "--episodes", "1")
    assert out.returncode == 2 and "'mug' is not an object of V2P-PushRight-v0" in out.stderr and "['cup']" in out.stderr
    both = _run("x.pth", "--oracle", "V2P-PushRight-v0", "--object", "cup", "--direction", "y-")
    assert both.returncode == 2 and "not both" in both.stderr
    missing = _run(str(REPO / "no_such.pth"), "--object", "cup", "--direction", "y-")
    assert missing.returncode == 2 and "does not exist" in missing.stderr
