"""benchmarks.time_to_success through its entry point, on the template writer's code."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_template_code_with_the_demonstration_trains_and_is_scored_on_ground_truth(tmp_path):
    out = tmp_path / "tts"
    cmd = [sys.executable, "-m", "benchmarks.time_to_success", "--tasks", "PushLeft", "--seeds", "1", "--steps", "2048",
           "--num-envs", "8", "--code", "template", "--demonstration", "--out", str(out), "--no-progress"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "template-written task code with the demonstration as video" in proc.stdout
    code = (out / "V2P-PushLeft-v0" / "template" / "task" / "task.py").read_text()
    assert "rule-based writer" in code and "_VIDEO_PATH" in code  # the demonstration's path term
    run = json.loads((out / "V2P-PushLeft-v0" / "seed0" / "run.json").read_text())
    assert run["config"]["task_dir"].endswith("template/task") and run["env_steps"] >= 2048
    row = json.loads((out / "time_to_success.json").read_text())[0]
    assert row["last"]["per_seed"] and all(0.0 <= v <= 1.0 for v in row["last"]["per_seed"])
