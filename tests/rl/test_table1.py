"""The Table-1 runner: a one-task, one-seed run at a tiny budget, and its RESULTS.md section."""
from __future__ import annotations

from benchmarks.results_md import write_section
from benchmarks.table1 import main, resolve_tasks


def test_table1_writes_its_run_folder_and_updates_results_only_when_asked(tmp_path):
    out = tmp_path / "RESULTS.md"
    before = "# Benchmark results\n\n## env step\nothers' figures\n"
    out.write_text(before)
    argv = ["--methods", "reference", "--tasks", "ReachBlock", "--seeds", "1", "--steps", "64", "--num-envs", "4",
            "--episodes", "2", "--runs-dir", str(tmp_path / "runs"), "--out", str(out), "--quiet"]
    assert main(argv) == 0
    assert out.read_text() == before  # the recorded table is not touched by default
    table = (tmp_path / "runs" / "table1.md").read_text()
    assert "| V2P-ReachBlock-v0 |" in table and "**average**" in table
    assert "--episodes 2" in table and "--runs-dir" in table  # the full command line is recorded
    assert (tmp_path / "runs" / "V2P-ReachBlock-v0" / "reference" / "eval.json").is_file()
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


def test_the_methods_run_end_to_end_offline(tmp_path):
    """cop, robogen and v2p through the one loop with the template backend at a smoke-test budget."""
    import json

    argv = ["--methods", "cop", "robogen", "v2p", "--tasks", "PushLeft", "--seeds", "1", "--episodes", "2",
            "--budget", "tiny", "--final-steps", "32", "--runs-dir", str(tmp_path / "runs"), "--quiet"]
    assert main(argv) == 0
    table = (tmp_path / "runs" / "table1.md").read_text()
    assert "| V2P-PushLeft-v0 |" in table and "1.00 / 1.00" in table  # the paper's RoboGen / Eureka / V2P
    assert "budget tiny with overrides" in table and "final_steps=32" in table
    v2p = json.loads((tmp_path / "runs" / "V2P-PushLeft-v0" / "v2p" / "method.json").read_text())
    assert v2p["backend"] == "template" and len(v2p["reflection"]["best_score_per_iteration"]) == 2
    assert v2p["metric"] == "ground_truth" and len(v2p["per_seed_success"]) == 1
    cop = json.loads((tmp_path / "runs" / "V2P-PushLeft-v0" / "cop" / "method.json").read_text())
    assert cop["plan_writer"].startswith("template") and cop["plan_errors"] == 0
    assert (tmp_path / "runs" / "fig4_V2P-PushLeft-v0.png").is_file()



def test_a_reflection_run_shorter_than_two_episodes_per_env_is_flagged():
    import argparse

    from baselines.methods.config import Budget
    from benchmarks.table1 import markdown

    assert Budget.preset("cpu-small").short_reflection_warning() is None  # 781 steps per env >= 2 x 300
    cpu = Budget.preset("cpu")  # every env plays 4 full episodes per reflection sample; final runs of 3M
    assert cpu.reflection_steps == 4 * 300 * cpu.num_envs and cpu.final_steps == 3_000_000
    assert Budget.preset("tiny").short_reflection_warning() is None  # 16 steps per env, 8-step episodes
    warning = Budget(reflection_steps=60_000, num_envs=256).short_reflection_warning()
    assert "234 steps" in warning and ">= 153,600 reflection steps" in warning
    args = argparse.Namespace(section="t", seeds=1, episodes=1, backend="template", budget="cpu-small", steps=1,
                              reflection_steps=60_000, final_steps=None, samples=None, workers=1, episode_length=None,
                              model=None, ray_address=None)
    cells = {("V2P-TipOver-v0", "v2p"): {"mean": 0.1, "std": 0.0, "budget_warning": warning}}
    assert f"Budget warning: {warning}." in markdown(cells, ["V2P-TipOver-v0"], ["v2p"], args, 60.0, "cmd")
