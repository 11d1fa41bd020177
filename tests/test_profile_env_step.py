"""The env-step profiler (benchmarks/profile_env_step.py) through its entry point: it counts
torch operators and splits the step into its parts, physics among them."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "benchmarks.profile_env_step", *args], capture_output=True,
                          text=True, cwd=REPO, timeout=300)


def test_profile_counts_operators_and_finds_every_part():
    out = _run("--task", "ReachBlock", "--steps", "3")
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    assert result["task"] == "V2P-ReachBlock-v0" and result["top_level_ops_per_step"] > 10
    assert result["all_ops_per_step"] >= result["top_level_ops_per_step"]
    parts = result["ms_per_step"]
    assert all(parts[name] > 0 for name in ("physics (mujoco.batch, all substeps)", "controller", "task reward",
                                            "ground truth", "single-env numpy conversion")), parts
    assert parts["physics (mujoco.batch, all substeps)"] < parts["step (with cProfile)"]


def test_profile_refuses_a_bad_count():
    out = _run("--steps", "0")
    assert out.returncode == 2 and "--steps" in out.stderr and "Traceback" not in out.stderr
