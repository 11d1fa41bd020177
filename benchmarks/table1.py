"""Table 1 / Table 3 runner: methods x tasks, ground-truth success over seeds, the paper's beside.

    python -m benchmarks.table1 --methods cop robogen eureka v2p --backend template --tasks all --seeds 3 \\
        --budget cpu-small
    python -m benchmarks.table1 --methods v2p v2p-no-video v2p-no-pick v2p-no-reflection \\
        v2p-one-reward-sample --tasks PushLeft LiftUp           # Table 3's ablations
    python -m benchmarks.table1 --methods reference --tasks PushLeft --steps 2000000

Methods: ``reference`` trains the shipped task code (hand-written reward) with rl-games for
``--steps``; ``v2p``, ``eureka``, ``robogen``, ``cop`` and the ablations run the one loop of
``baselines.methods`` on the task's reference scene (its caption, objects and meshes, and as its
video information the tracked poses of a simulated demonstration: the paper's Something-Something
videos cannot be fetched here) with the chosen code-generation backend and budget. Every cell is mean +- std (population std) over
seeds of ground-truth success, 10 episodes per seed (the paper's protocol); the paper's own
figures are printed beside ours, labelled as the paper's. Records go to
``<runs-dir>/<task>/<method>/``; the Markdown table (with the full command line, backend,
budget and device) to ``<runs-dir>/table1.md``; a Fig. 4-style PNG of the reflection score
over iterations per task to ``<runs-dir>/fig4_<task>.png``; ``--update-results`` also replaces
the section in benchmarks/RESULTS.md. ``--tasks all`` is the paper's 12 Table-1 tasks.
"""
from __future__ import annotations

import argparse
import dataclasses
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

from baselines.methods import ABLATIONS, METHODS, Budget, method_config, run_method
from baselines.methods.config import BUDGET_PRESETS
from baselines.paper_figures import PAPER_TABLE1
from baselines.rl import TrainConfig, evaluate_checkpoints, train
from generator.codegen.generate import BACKENDS, GenerateConfig

from .results_md import RESULTS_MD, add_section_arguments, write_section

__all__ = ["resolve_tasks", "main"]

METHOD_NAMES = ["reference", *METHODS, *ABLATIONS]


def resolve_tasks(names: list[str]) -> list[str]:
    """Task ids from names: ``all`` is the 12 Table-1 tasks; PushLeft or V2P-PushLeft-v0 each."""
    import v2p_envs
    from v2p_envs.ground_truth import TABLE1_TASKS

    known = v2p_envs.registered_task_ids()
    if names == ["all"]:
        return [f"V2P-{name}-v0" for name in TABLE1_TASKS]
    out = []
    for name in names:
        env_id = name if name.startswith("V2P-") else f"V2P-{name}-v0"
        if env_id not in known:
            raise SystemExit(f"unknown task {name!r}; registered: {', '.join(known)}")
        out.append(env_id)
    return out


def _reference_cell(env_id: str, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The shipped task code trained with rl-games; each seed's best-training-reward checkpoint."""
    checkpoints, train_times = [], []
    for seed in range(args.seeds):
        run_dir = out / f"seed{seed}"
        done = run_dir / "run.json"
        if args.reuse and done.is_file() and json.loads(done.read_text()).get("status") == "done":
            run = json.loads(done.read_text())
            checkpoints.append(Path(run.get("best_checkpoint") or run["checkpoint"]))
            train_times.append(run["wall_time_s"])
            continue
        if done.is_file():
            import shutil

            shutil.rmtree(run_dir)
        result = train(TrainConfig(env_id, num_envs=args.num_envs, steps=args.steps, seed=seed, run_dir=str(run_dir),
                                   progress=not args.quiet, max_episode_steps=args.episode_length))
        checkpoints.append(result.best_checkpoint or result.checkpoint)
        train_times.append(result.wall_time_s)
    record = evaluate_checkpoints(checkpoints, list(range(args.seeds)), episodes=args.episodes, method="reference")
    record.write(out / "eval.json")
    return {"per_seed_success": record.per_seed_success, "mean": record.mean, "std": record.std,
            "metric": record.metric, "train_wall_s": float(np.mean(train_times)), "git_commit": record.git_commit}


def _method_cell(env_id: str, method: str, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    import v2p_envs
    from generator.reference_tasks import REFERENCE_TASKS, build_reference_scene

    record_file = out / "method.json"
    if args.reuse and record_file.is_file():
        return json.loads(record_file.read_text())
    class_name = v2p_envs.resolve_task(env_id).id.removeprefix("V2P-").removesuffix("-v0")
    task = next(t for t in REFERENCE_TASKS if t.class_name == class_name)
    # the task's video information: its simulated demonstration (generator/assets/demonstrations),
    # which only the methods that use video see (``MethodConfig.use_video``)
    scene = build_reference_scene(task, out / "scene", demonstration=True)
    codegen = GenerateConfig(backend=args.backend, model=args.model, base_url=args.base_url)
    return run_method(method_config(method), scene, out, _budget(args), codegen)


def _budget(args: argparse.Namespace) -> Budget:
    """The preset with this run's seeds, episodes, workers and any per-field overrides."""
    overrides = {name: getattr(args, name) for name in ("reflection_steps", "final_steps", "samples")
                 if getattr(args, name) is not None}
    return dataclasses.replace(Budget.preset(args.budget), seeds=args.seeds, eval_episodes=args.episodes,
                               workers=args.workers, ray_address=args.ray_address,
                               episode_length=args.episode_length, **overrides)


def _fig4(env_id: str, methods: list[str], runs: Path) -> Path | None:
    """Best reflection score (generated success) per iteration, one line per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lines = {}
    for method in methods:
        path = runs / env_id / method / "reflect" / "reflection.json"
        if path.is_file():
            lines[method] = json.loads(path.read_text())["best_score_per_iteration"]
    if not lines:
        return None
    fig, ax = plt.subplots(figsize=(5, 3.4))
    for method, values in lines.items():
        ax.plot(range(len(values)), [v if v is not None else float("nan") for v in values], marker="o", label=method)
    ax.set(xlabel="iteration", ylabel="best generated success", title=f"{env_id}: reward reflection",
           ylim=(-0.02, 1.02))
    ax.xaxis.get_major_locator().set_params(integer=True)  # iterations are whole
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = runs / f"fig4_{env_id}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _overridden(args: argparse.Namespace) -> bool:
    return any(getattr(args, name) is not None for name in ("reflection_steps", "final_steps", "samples"))


def markdown(cells: dict[tuple[str, str], dict[str, Any]], tasks: list[str], methods: list[str],
             args: argparse.Namespace, wall: float, command: str) -> str:
    machine = f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs"
    budget = (f"reference: {args.steps:,} env steps per seed" if methods == ["reference"] else
              f"budget {args.budget}{' with overrides' if _overridden(args) else ''} ({_budget(args)})")
    lines = [f"<!-- {args.section}:begin -->",
             f"### Methods x tasks: ground-truth success, {args.seeds} seeds x {args.episodes} episodes", "",
             f"{dt.date.today().isoformat()} · {machine} · code generation: {args.backend}"
             f"{' (rule-based, not a model)' if args.backend == 'template' else f' ({args.model})'} · {budget} · "
             f"{wall / 60:.0f} min · `{command}`", "",
             "| task | " + " | ".join(methods) + " | the paper's (CoP / RoboGen / Eureka / V2P) |",
             "|---|" + "---|" * len(methods) + "---|"]
    for env_id in tasks:
        name = env_id.removeprefix("V2P-").removesuffix("-v0")
        row = [f"{cells[(env_id, m)]['mean']:.2f} +- {cells[(env_id, m)]['std']:.2f}" for m in methods]
        paper = PAPER_TABLE1.get(name)
        paper_text = " / ".join(f"{paper[m][0]:.2f}" for m in ("cop", "robogen", "eureka", "v2p")) if paper else ""
        lines.append(f"| {env_id} | " + " | ".join(row) + f" | {paper_text} |")
    averages = [float(np.mean([cells[(t, m)]["mean"] for t in tasks])) for m in methods]
    lines.append("| **average** | " + " | ".join(f"**{a:.2f}**" for a in averages) + " | |")
    warnings = sorted({c["budget_warning"] for c in cells.values() if c.get("budget_warning")})
    lines += [f"\nBudget warning: {w}." for w in warnings]
    lines.append(f"<!-- {args.section}:end -->")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.table1", description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--methods", nargs="+", choices=METHOD_NAMES, default=["reference"])
    p.add_argument("--tasks", nargs="+", default=["all"],
                   help="'all' (the 12 Table-1 tasks) or task names (PushLeft or V2P-PushLeft-v0)")
    p.add_argument("--seeds", type=int, default=3, help="seeds 0..S-1: one training run and evaluation seed each")
    p.add_argument("--episodes", type=int, default=10, help="evaluation episodes per seed")
    p.add_argument("--backend", choices=BACKENDS, default="template", help="code generation for the methods")
    p.add_argument("--model", help="the model (openai backend)")
    p.add_argument("--base-url", help="the OpenAI-compatible endpoint (openai backend)")
    p.add_argument("--budget", choices=BUDGET_PRESETS, default="cpu-small", help="the methods' compute budget")
    p.add_argument("--reflection-steps", type=int, help="override the budget's env steps per reflection run")
    p.add_argument("--final-steps", type=int, help="override the budget's env steps per final training run")
    p.add_argument("--samples", type=int, help="override the budget's cap on task-code samples")
    p.add_argument("--steps", type=int, default=2_000_000, help="reference: env steps per training run")
    p.add_argument("--num-envs", type=int, default=256, help="reference: training envs")
    p.add_argument("--episode-length", type=int, help="training episode length (default: the task's, 300)")
    p.add_argument("--workers", type=int, default=1, help="training jobs at a time (local pool)")
    p.add_argument("--ray-address", help="run the jobs on Ray (e.g. 'auto')")
    p.add_argument("--runs-dir", type=Path, default=Path("runs/table1"))
    add_section_arguments(p, "table1")
    p.add_argument("--out", type=Path, default=RESULTS_MD, help="results file for --update-results")
    p.add_argument("--reuse", action="store_true", help="reuse finished runs in --runs-dir")
    p.add_argument("--quiet", "--no-progress", dest="quiet", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    for name in ("seeds", "episodes", "steps", "num_envs", "workers", "reflection_steps", "final_steps", "samples"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    command = shlex.join(["python", "-m", "benchmarks.table1", *(sys.argv[1:] if argv is None else argv)])
    start = time.perf_counter()
    tasks = resolve_tasks(args.tasks)
    cells = {}
    for env_id in tasks:
        for method in args.methods:
            out = args.runs_dir / env_id / method
            out.mkdir(parents=True, exist_ok=True)
            cell = _reference_cell(env_id, out, args) if method == "reference" else _method_cell(env_id, method, out,
                                                                                                  args)
            cells[(env_id, method)] = cell
            print(f"{env_id} {method}: {cell['mean']:.2f} +- {cell['std']:.2f} {cell['per_seed_success']}", flush=True)
        _fig4(env_id, args.methods, args.runs_dir)
    text = markdown(cells, tasks, args.methods, args, time.perf_counter() - start, command)
    (args.runs_dir / "table1.md").write_text(text + "\n")
    if args.update_results:
        write_section(text, args.section, args.out)
    print(text)
    print(f"table: {args.runs_dir / 'table1.md'}" + (f" · section updated in {args.out}" if args.update_results else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
