"""benchmarks/gpu_check.sh: the prepared GPU check, end to end on Warp's CPU device (--tiny), and
its training plan and summary on made-up GPU figures."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.gpu.plan import make_plan, plan_steps
from benchmarks.gpu.summary import build_summary, summary_markdown
from benchmarks.gpu.warp_bench import SIZES, TASKS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_tiny_gpu_check_end_to_end(tmp_path):
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    # one size per task and 2 training envs keep this to a few minutes on 2 cores
    env.update(V2P_GPU_CHECK_SIZES="2", V2P_GPU_CHECK_TRAIN_ENVS="2")
    proc = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), "--tiny", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    for name in ("gpu_check.log", "summary.json", "summary.md", "bench.json", "eval_last.json"):
        assert (out / name).is_file(), name
    s = json.loads((out / "summary.json").read_text())
    assert s["mode"] == "tiny" and s["machine"]["warp-lang"] and s["machine"]["commit"]

    rows = s["bench"]["rows"]
    assert {(r["task"], r["num_envs"]) for r in rows} == {(t, 2) for t in TASKS}
    for r in rows:
        assert r["env_steps_per_s"] > 0 and r["bare_steps_per_s"] > 0 and r["env_over_bare"] > 0, r

    plan, train = s["train_plan"], s["train"]
    epoch = 2 * plan["horizon"]
    assert plan["num_envs"] == 2 and plan["max_time_s"] == 2 and plan["steps"] % epoch == 0
    assert "bench.json (N=2)" in plan["rate_from"]
    # `v2p train --backend warp --device cpu --max-time 2`: the time limit ends it after an epoch or so
    assert train["status"] == "done" and train["backend"] == "warp" and train["device"] == "cpu"
    assert train["max_time_s"] == 2 and train["steps"] == plan["steps"] and train["ended_by"] == "time limit"
    assert 0 < train["env_steps"] < plan["steps"] and train["env_steps"] % epoch == 0

    last = s["eval"]["last"]  # `v2p eval --backend warp`: the task's episode length, as on the GPU
    assert last["episodes"] == 1 and last["seeds"] == [0, 1] and len(last["per_seed_success"]) == 2
    assert 0.0 <= last["mean"] <= 1.0 and last["episode_length"] == 300

    tests = s["tests"]  # `pytest -m gpu tests/warp` on a machine without CUDA: collected, all skipped
    assert tests["tests"] > 0 and tests["skipped"] == tests["tests"] and not tests["failed"]
    stages = {r["stage"]: r["rc"] for r in s["stages"]}
    assert {k: v for k, v in stages.items() if k != "eval_best"} == {"bench": 0, "train": 0, "eval_last": 0, "tests": 0}
    md = (out / "summary.md").read_text()
    assert "Env step vs bare MuJoCo Warp physics" in md and "V2P-ThrowGarlic-v0" in md
    assert "ended by time limit" in md and (out / "train_curve.png").is_file()


def test_bench_runs_the_target_size_first():
    assert SIZES[0] == 8192 and sorted(SIZES) == [1024, 4096, 8192]
    script = (ROOT / "benchmarks" / "gpu_check.sh").read_text()
    assert 'SIZES=${V2P_GPU_CHECK_SIZES:-8192 4096 1024}' in script


def test_training_steps_bound():
    # 500k env steps/s x 180 s x 2 = 180M steps -> up to whole epochs of 8192 x 32 = 262,144 steps
    assert plan_steps(500_000, 180, 2, 8192, 32) == 687 * 262_144
    assert plan_steps(10, 1, 2, 4, 32) == 2 * 128  # at least two epochs


def test_plan_takes_the_rate_at_or_below_n(tmp_path):
    bench = tmp_path / "bench.json"
    rows = [{"task": "V2P-PushLeft-v0", "num_envs": n, "env_steps_per_s": n * 100} for n in (1024, 4096)]
    rows += [{"task": "V2P-PushLeft-v0", "num_envs": 8192, "error": "RuntimeError: out of memory"},
             {"task": "V2P-ThrowGarlic-v0", "num_envs": 8192, "env_steps_per_s": 1}]
    _write(bench, {"rows": rows})
    plan = make_plan(bench, "V2P-PushLeft-v0", 8192, 180, 2, fallback_rate=1e6)
    assert plan["env_steps_per_s"] == 409_600 and plan["rate_from"].endswith("(N=4096)")
    assert plan["steps"] == plan_steps(409_600, 180, 2, 8192, plan["horizon"])
    fallback = make_plan(tmp_path / "missing.json", "V2P-PushLeft-v0", 8192, 180, 2, fallback_rate=1e6)
    assert fallback["rate_from"] == "fallback" and fallback["env_steps_per_s"] == 1e6


def _write(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def test_summary_of_gpu_figures(tmp_path):
    """The summary of a GPU run's files (made-up figures): targets judged, markdown rows written."""
    _write(tmp_path / "work" / "env.json", {"date": "2026-12-02T00:00:00+00:00", "commit": "abc", "gpu": "NVIDIA H200",
                                            "torch": "2.11.0+cu130", "warp-lang": "1.19.0"})
    rows = [{"task": t, "num_envs": n, "steps": 100, "rounds": 3, "build_s": 90.0, "env_steps_per_s": 600_000,
             "bare_steps_per_s": 700_000, "env_over_bare": 1.167, "peak_gpu_mem_gib": 3.5, "peak_torch_gib": 0.5,
             "peak_warp_pool_gib": 3.0, "smi_used_gib": 5.0} for t in TASKS for n in SIZES]
    rows.append({"task": "V2P-Cover-v0", "num_envs": 8192, "error": "RuntimeError: out of memory"})
    _write(tmp_path / "bench.json", {"device": "NVIDIA H200", "steps": 100, "rounds": 3, "rows": rows})
    _write(tmp_path / "work" / "plan.json", {"num_envs": 8192, "max_time_s": 180, "margin": 2,
                                             "env_steps_per_s": 600_000, "steps": 216_006_656})
    _write(tmp_path / "work" / "run" / "run.json", {
        "status": "done", "env_steps": 66_584_576, "wall_time_s": 181.2, "steps_per_s": 367_464.5,
        "config": {"num_envs": 8192, "device": "cuda", "backend": "warp", "steps": 216_006_656, "max_time_s": 180.0}})
    _write(tmp_path / "eval_best.json", {"mean": 0.9333, "std": 0.047, "per_seed_success": [0.9, 1.0, 0.9],
                                         "seeds": [0, 1, 2], "episodes": 10, "episode_length": 300,
                                         "wall_time_s": {"train": 181.2, "eval": 12.0}})
    # the training log: success 0, 0.3, 0.6, 0.9, 0.95, 0.95 per 10 s; rolling mean of 3 >= 0.9 at 60 s
    metrics = [{"period": i, "env_steps": (i + 1) * 262_144, "wall_time_s": 10.0 * (i + 1), "episodes": 800,
                "success_rate": r, "episode_return": 100.0 * r} for i, r in enumerate((0, .3, .6, .9, .95, .95))]
    (tmp_path / "work" / "run" / "metrics.jsonl").write_text("".join(json.dumps(m) + "\n" for m in metrics))
    (tmp_path / "work" / "stages.tsv").write_text("bench\t0\t150\t240\ntrain\t0\t200\t270\neval_last\t124\t60\t60\n")
    (tmp_path / "work" / "pytest_gpu.xml").write_text(
        '<testsuites><testsuite tests="16" failures="1" errors="0" skipped="0" time="95.5">'
        '<testcase classname="tests.warp.test_gpu" name="test_a"/>'
        '<testcase classname="tests.warp.test_gpu" name="test_b"><failure message="x"/></testcase>'
        '</testsuite></testsuites>')
    proc = subprocess.run([sys.executable, "-m", "benchmarks.gpu", "summary", str(tmp_path), "--mode", "gpu"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    s = json.loads((tmp_path / "summary.json").read_text())
    t = s["targets"]
    assert t["env_steps_per_s"]["met"] and t["env_over_bare"]["met"] and t["push_left_success"]["met"]
    assert t["push_left_success"]["checkpoint"] == "best" and s["eval"]["last"] is None
    assert s["train"]["ended_by"] == "time limit" and s["train"]["backend"] == "warp"
    assert s["train"]["train_over_env_rate"] == pytest.approx(0.612, abs=1e-3)
    assert s["train"]["time_to_target"] == {"env_steps": 6 * 262_144, "wall_time_s": 60.0}
    assert (tmp_path / "train_curve.png").stat().st_size > 1000
    assert s["tests"]["passed"] == 15 and s["tests"]["failed"] == ["tests.warp.test_gpu::test_b"]
    md = (tmp_path / "summary.md").read_text()
    assert "| V2P-PushLeft-v0 | 8,192 | 600,000 | 700,000 | 1.167 | 3.50 (0.50 + 3.00) |" in md
    assert "error: RuntimeError: out of memory" in md and "| eval_last | 124 | 60 | 60 |" in md
    assert "--max-time 180 --steps 216006656" in md and "ended by time limit" in md
    assert "first reached 0.9 after 60.0 s of training (1,572,864 env steps)" in md
    # rows sorted by task and N whatever order the benchmark ran them in (the target size first)
    assert md.index("| V2P-PushLeft-v0 | 1,024 |") < md.index("| V2P-PushLeft-v0 | 8,192 |")


def test_summary_judges_only_8192_envs(tmp_path):
    """Without a PushLeft row at 8192 envs (failed there), the throughput targets are not met."""
    rows = [{"task": "V2P-PushLeft-v0", "num_envs": 4096, "env_steps_per_s": 900_000, "env_over_bare": 1.1},
            {"task": "V2P-PushLeft-v0", "num_envs": 8192, "error": "RuntimeError: out of memory"}]
    _write(tmp_path / "bench.json", {"rows": rows})
    t = build_summary(tmp_path, "gpu")["targets"]
    assert not t["env_steps_per_s"]["met"] and t["env_steps_per_s"]["value"] is None
    assert not t["env_over_bare"]["met"] and not t["push_left_success"]["met"]
    assert "first reached 0.9 not within the run" in summary_markdown(build_summary(tmp_path, "gpu"))
