"""Time to success (issue 11): per task and seed, train, evaluate, and read when success arrived.

    python -m benchmarks.time_to_success --tasks ReachBlock PushLeft PushRight LiftUp TipOver --seeds 3 \\
        --steps 3000000 --out runs/tts [--update-results]

Each (task, seed) is one ``v2p train`` run (rl-games, the task's ppo.yaml, ``--num-envs`` CPU
envs) of ``--steps`` env steps; finished runs in ``--out`` are reused. Each run's best-training-
reward checkpoint (rl-games' choice, no ground truth involved) and final checkpoint are evaluated
with the paper's protocol (10 episodes x evaluation seeds 0, 1, 2, ground truth at any step).
Time to success: the first logging period at which the training policy's ground-truth success
over the episodes that ended (a rolling mean over 3 periods with episodes) reached ``--target``;
its env steps and training wall time. The table gives per task the median and range over seeds;
learning curves (success and return over env steps, one line per seed) go to
``<out>/curves_<task>.png``.

``--code template`` trains what the offline template writer (rule-based, not a model) writes for
the task's reference scene and caption instead of the shipped reference code: the code a user
gets from ``v2p generate`` without a model. It is written once into ``<out>/<task>/template/``
and evaluated on the task's hand-written ground truth, like the reference code. With
``--demonstration`` the writer also sees the task's simulated demonstration as its video (the
push distance, lift height and path term it sets).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from baselines.rl import RunInfo, TrainConfig, evaluate_checkpoints, train

from .results_md import RESULTS_MD, add_section_arguments, write_section
from .training_curves import first_crossing, plot_curves, run_metrics

__all__ = ["run_task_seed", "main"]


def template_task_dir(env_id: str, out: Path, demonstration: bool = False) -> Path:
    """The template writer's task folder for ``env_id``'s reference scene (written once into
    ``out``); ``demonstration``: with the task's simulated demonstration as its video information."""
    from generator.codegen.generate import GenerateConfig, generate_task
    from generator.reference_tasks import REFERENCE_TASKS, build_reference_scene

    class_name = env_id.removeprefix("V2P-").removesuffix("-v0")
    task = next((t for t in REFERENCE_TASKS if t.class_name == class_name), None)
    if task is None:
        raise SystemExit(f"--code template: {env_id} has no reference scene; known: "
                         f"{[t.class_name for t in REFERENCE_TASKS]}")
    folder = out / "template" / "task"
    if not (folder / "task.py").is_file():
        scene = build_reference_scene(task, out / "template" / "scene", demonstration=demonstration)
        result = generate_task(scene, out / "template" / "generate", GenerateConfig(backend="template", progress=False))
        if result.task_dir is None:
            raise SystemExit(f"--code template: the template code for {env_id} did not pass its trial "
                             f"({out / 'template' / 'generate'})")
        folder.parent.mkdir(parents=True, exist_ok=True)
        import shutil

        shutil.copytree(result.task_dir, folder)
    return folder


def run_task_seed(env_id: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    run_dir = args.out / env_id / f"seed{seed}"
    done = run_dir / "run.json"
    task_dir = (template_task_dir(env_id, args.out / env_id, args.demonstration) if args.code == "template"
                else None)
    if not (done.is_file() and RunInfo.read(run_dir).status == "done"):
        if done.is_file():
            import shutil

            shutil.rmtree(run_dir)
        train(TrainConfig(env_id, num_envs=args.num_envs, steps=args.steps, seed=seed, run_dir=str(run_dir),
                          progress=not args.no_progress, task_dir=None if task_dir is None else str(task_dir)))
    run = RunInfo.read(run_dir)
    row: dict[str, Any] = {"task": env_id, "seed": seed, "env_steps": run.env_steps, "train_wall_s": run.wall_time_s,
                           "steps_per_s": run.data.get("steps_per_s")}
    for name in ("best", "last"):
        checkpoint = run.best_checkpoint if name == "best" else run.checkpoint
        if checkpoint is None:
            row[name] = None
            continue
        record = evaluate_checkpoints([Path(checkpoint)], seeds=[0, 1, 2], episodes=10)
        row[name] = {"mean": record.mean, "per_seed": record.per_seed_success}
    row["to_target"] = first_crossing(run_metrics(run_dir), args.target)
    return row


def _plot(env_id: str, rows: list[dict[str, Any]], out: Path) -> Path:
    runs = {f"seed {row['seed']}": run_metrics(out / env_id / f"seed{row['seed']}") for row in rows}
    return plot_curves(runs, env_id, out / f"curves_{env_id}.png")


def _code_label(args: argparse.Namespace) -> str:
    if args.code != "template":
        return ""
    return ", template-written task code" + (" with the demonstration as video" if args.demonstration else "")


def _range(values: list[float]) -> str:
    if not values:
        return "not reached"
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f})"


def markdown(rows: list[dict[str, Any]], args: argparse.Namespace, command: str, wall: float) -> str:
    machine = f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs"
    lines = [f"<!-- {args.section}:begin -->",
             f"### Time to success: {args.steps:,} env steps per run, {args.num_envs} envs, seeds "
             f"0..{args.seeds - 1}{_code_label(args)}", "",
             f"{dt.date.today().isoformat()} · {machine} · {wall / 60:.0f} min in all · `{command}`", "",
             f"| task | eval best ckpt per seed | eval final ckpt per seed | seeds >= {args.target} (best) | "
             f"env steps to {args.target}: median (range) | train seconds to {args.target} | reached by |",
             "|---|---|---|---|---|---|---|"]
    for env_id in dict.fromkeys(r["task"] for r in rows):
        task_rows = [r for r in rows if r["task"] == env_id]
        best = [r["best"]["mean"] if r["best"] else (r["last"]["mean"] if r["last"] else 0.0) for r in task_rows]
        last = [r["last"]["mean"] if r["last"] else 0.0 for r in task_rows]
        reached = [r["to_target"] for r in task_rows if r["to_target"]]
        lines.append(f"| {env_id} | {', '.join(f'{b:.2f}' for b in best)} | {', '.join(f'{x:.2f}' for x in last)} | "
                     f"{sum(b >= args.target for b in best)}/{len(best)} | {_range([r['env_steps'] for r in reached])} | "
                     f"{_range([r['wall_time_s'] for r in reached])} | {len(reached)}/{len(task_rows)} seeds |")
    lines.append(f"<!-- {args.section}:end -->")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.time_to_success", description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--tasks", nargs="+", default=["ReachBlock", "PushLeft", "PushRight", "LiftUp", "TipOver"])
    p.add_argument("--seeds", type=int, default=3, help="training seeds 0..S-1")
    p.add_argument("--steps", type=int, default=3_000_000, help="env steps per training run")
    p.add_argument("--num-envs", type=int, default=256)
    p.add_argument("--target", type=float, default=0.8, help="ground-truth success that counts as solved")
    p.add_argument("--code", choices=("reference", "template"), default="reference",
                   help="the shipped reference task code, or what the template writer writes for the reference scene")
    p.add_argument("--demonstration", action="store_true",
                   help="--code template: give the writer the task's simulated demonstration as its video information")
    p.add_argument("--out", type=Path, default=Path("runs/time_to_success"))
    add_section_arguments(p, "tts:cpu")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    command = shlex.join(["python", "-m", "benchmarks.time_to_success", *(sys.argv[1:] if argv is None else argv)])
    start = time.perf_counter()
    rows = []
    for name in args.tasks:
        env_id = name if name.startswith("V2P-") else f"V2P-{name}-v0"
        task_rows = [run_task_seed(env_id, seed, args) for seed in range(args.seeds)]
        rows += task_rows
        _plot(env_id, task_rows, args.out)
        for r in task_rows:
            print(json.dumps(r), flush=True)
    text = markdown(rows, args, command, time.perf_counter() - start)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "time_to_success.json").write_text(json.dumps(rows, indent=1) + "\n")
    (args.out / "time_to_success.md").write_text(text + "\n")
    if args.update_results:
        write_section(text, args.section, RESULTS_MD)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
