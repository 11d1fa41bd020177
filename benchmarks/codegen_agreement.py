"""How the template backend's task code agrees with the hand-written ground truth (issue 10).

    python -m benchmarks.codegen_agreement --episodes 20 --out runs/codegen_agreement [--update-results]

For each of the 12 Table-1 scenes (the reference scenes, captions = the paper's task titles) it
runs ``v2p generate --backend template`` (code policy + trial included: the runnable rate), then
plays the generated task's env with the task's scripted oracle and with uniform random actions
and compares, per episode, the generated success (at any step) with the ground truth (at any
step): confusion counts, and the correlation of the two success rates over tasks (the paper's
Fig. 10 reports 0.83 for V2P's model-written success functions). The template's building
blocks were written by the people who wrote the ground truth, so this measures the template's
consistency with the hand-written semantics, not what a model would write.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

import v2p_envs
from baselines.policy import OraclePolicy, RandomPolicy
from baselines.rollout import rollout
from generator.codegen.generate import GenerateConfig, generate_task
from generator.codegen.intent import parse_intent
from generator.reference_tasks import REFERENCE_TASKS, build_reference_scene
from v2p_envs.ground_truth import TABLE1_TASKS

from .results_md import RESULTS_MD, write_section

__all__ = ["measure_task", "main"]


def _confusion(truth: list[bool], generated: list[bool]) -> dict[str, int]:
    return {"tp": sum(t and g for t, g in zip(truth, generated)), "fn": sum(t and not g for t, g in zip(truth, generated)),
            "fp": sum(g and not t for t, g in zip(truth, generated)),
            "tn": sum(not t and not g for t, g in zip(truth, generated))}


def measure_task(class_name: str, out: Path, episodes: int, progress: bool) -> dict[str, Any]:
    task = next(t for t in REFERENCE_TASKS if t.class_name == class_name)
    scene = build_reference_scene(task, out / "scenes" / class_name)
    result = generate_task(scene, out / "runs" / class_name, GenerateConfig(progress=False))
    row: dict[str, Any] = {"task": class_name, "caption": task.title, "runnable": result.task_dir is not None,
                           "family": None}
    if result.task_dir is None:
        row["error"] = result.attempts[-1].message
        return row
    row["family"] = parse_intent(task.title, scene).family
    env = v2p_envs.make_vec(result.task_dir, num_envs=episodes).unwrapped
    try:
        for name, policy, first_seed in (("oracle", OraclePolicy(env), 0), ("random", RandomPolicy(0), 10_000)):
            r = rollout(env, policy, [first_seed + i for i in range(episodes)], progress=progress)
            row[name] = {**_confusion(r.success, r.generated_success), "ground_truth_rate": r.success_rate,
                         "generated_rate": float(np.mean(r.generated_success))}
    finally:
        env.close()
    return row


def markdown(rows: list[dict[str, Any]], episodes: int, command: str, wall_s: float) -> str:
    runnable = sum(r["runnable"] for r in rows)
    ok = [r for r in rows if r["runnable"]]
    totals = {k: {c: sum(r[k][c] for r in ok) for c in ("tp", "fn", "fp", "tn")} for k in ("oracle", "random")}
    agree = {k: (t["tp"] + t["tn"]) / max(sum(t.values()), 1) for k, t in totals.items()}
    gt = [r["oracle"]["ground_truth_rate"] for r in ok]
    gen = [r["oracle"]["generated_rate"] for r in ok]
    corr = float(np.corrcoef(gt, gen)[0, 1]) if len(ok) > 1 and np.std(gt) > 0 and np.std(gen) > 0 else float("nan")
    date = dt.date.today().isoformat()
    machine = f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs"
    lines = ["<!-- codegen:template:begin -->",
             f"### Template task code vs ground truth ({len(rows)} Table-1 scenes, {episodes} episodes per policy)", "",
             f"{date} · {machine} · {wall_s / 60:.1f} min · `{command}`", "",
             f"Runnable (code policy + trial): **{runnable}/{len(rows)}**. Per-episode agreement of the generated "
             f"success with the ground truth: oracle rollouts **{agree['oracle']:.3f}**, random rollouts "
             f"**{agree['random']:.3f}**; false successes on random rollouts: **{totals['random']['fp']}**; "
             f"correlation of the per-task success rates on oracle rollouts: **{corr:.3f}** (the paper's Fig. 10: "
             "0.83 for V2P, model-written).", "",
             "| task | caption | oracle GT rate | oracle generated rate | oracle TP/FN/FP/TN | random TP/FN/FP/TN |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        if not r["runnable"]:
            lines.append(f"| {r['task']} | {r['caption']} | not runnable | | | |")
            continue
        o, q = r["oracle"], r["random"]
        lines.append(f"| {r['task']} | {r['caption']} | {o['ground_truth_rate']:.2f} | {o['generated_rate']:.2f} | "
                     f"{o['tp']}/{o['fn']}/{o['fp']}/{o['tn']} | {q['tp']}/{q['fn']}/{q['fp']}/{q['tn']} |")
    lines.append("<!-- codegen:template:end -->")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.codegen_agreement", description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--tasks", nargs="+", default=list(TABLE1_TASKS), help="Table-1 task class names")
    p.add_argument("--episodes", type=int, default=20, help="episodes per policy and task")
    p.add_argument("--out", type=Path, default=Path("runs/codegen_agreement"))
    p.add_argument("--update-results", action="store_true", help="replace this section of benchmarks/RESULTS.md")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    if args.episodes < 1:
        p.error("--episodes must be >= 1")
    command = shlex.join(["python", "-m", "benchmarks.codegen_agreement", *(sys.argv[1:] if argv is None else argv)])
    start = time.perf_counter()
    rows = []
    for name in args.tasks:
        rows.append(measure_task(name, args.out, args.episodes, not args.no_progress))
        r = rows[-1]
        print(f"{name}: runnable {r['runnable']}" + (f", oracle {r['oracle']}, random {r['random']}" if r["runnable"]
                                                       else f" ({r.get('error')})"), flush=True)
    text = markdown(rows, args.episodes, command, time.perf_counter() - start)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "agreement.json").write_text(json.dumps(rows, indent=1) + "\n")
    (args.out / "agreement.md").write_text(text + "\n")
    if args.update_results:
        write_section(text, "codegen:template", RESULTS_MD)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
