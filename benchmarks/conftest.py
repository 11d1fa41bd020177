"""Session summary for the throughput benchmarks: overhead of the env over bare physics."""
from __future__ import annotations

import json
import os
from pathlib import Path


def pytest_terminal_summary(terminalreporter):
    from benchmarks import test_env_step

    results = test_env_step.RESULTS
    rows = []
    for task in test_env_step.TASKS:
        for n in test_env_step.SIZES:
            env, bare = results.get((task, n, "env")), results.get((task, n, "bare"))
            if env and bare:
                rows.append({"task": task, "num_envs": n, "env_steps_per_s": round(env),
                             "bare_batch_steps_per_s": round(bare), "overhead": round(bare / env, 3),
                             "bare_mj_step_steps_per_s": round(results.get((task, n, "mj_step"), 0))})
    if not rows:
        return
    terminalreporter.write_sep("=", "env step vs bare physics (env steps/s; overhead = bare / env)")
    for row in rows:
        terminalreporter.write_line(json.dumps(row))
    out = Path(__file__).with_name("env_step_latest.json")
    out.write_text(json.dumps({"cpus": os.cpu_count(), "rows": rows}, indent=1) + "\n")
