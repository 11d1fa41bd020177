"""Table 1 runner: train each task with its shipped reward, evaluate with the paper's protocol.

    python -m benchmarks.table1 --method v2p --tasks all --seeds 3
    python -m benchmarks.table1 --method v2p --tasks ReachBlock PushLeft PushRight --seeds 3 \\
        --steps 200000 --num-envs 128            # the reduced CPU budget recorded in RESULTS.md

For each task and seed s = 0..S-1 it trains ``v2p train`` (rl-games, the task's ppo.yaml) with
seed s and evaluates that run's best-training-reward checkpoint (rl-games' own choice, made
without ground truth; the final one if none was kept) on 10 episodes with evaluation seed s; the table
gives mean +- std (population std over seeds) of ground-truth success per task and the
average over tasks. ``--tasks all`` is the paper's 12 Table-1 tasks (not the curriculum seeds).
Evaluation records go to ``<runs-dir>/<task>/eval.json`` and the Markdown table, with the full
command line that made it, to ``<runs-dir>/table1_<method>.md``; ``--update-results`` also
replaces this method's section of ``benchmarks/RESULTS.md`` (between its markers).
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

import numpy as np

from baselines.rl import TrainConfig, evaluate_checkpoints, train

from .results_md import RESULTS_MD, write_section

#: methods this runner can train; the other Table-1 baselines plug in here as they land
METHODS = {"v2p": "rl_games"}


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


def run_task(env_id: str, method: str, seeds: list[int], args: argparse.Namespace) -> dict:
    checkpoints, train_times = [], []
    for seed in seeds:
        run_dir = Path(args.runs_dir) / env_id / f"{method}_seed{seed}"
        done = run_dir / "run.json"
        if args.reuse and done.is_file() and json.loads(done.read_text()).get("status") == "done":
            run = json.loads(done.read_text())
            checkpoints.append(Path(run.get("best_checkpoint") or run["checkpoint"]))
            train_times.append(run["wall_time_s"])
            continue
        if done.is_file():
            import shutil

            shutil.rmtree(run_dir)
        result = train(TrainConfig(env_id, trainer=METHODS[method], num_envs=args.num_envs, steps=args.steps,
                                   device=args.device, seed=seed, run_dir=str(run_dir), progress=not args.quiet,
                                   max_episode_steps=args.episode_length))
        checkpoints.append(result.best_checkpoint or result.checkpoint)
        train_times.append(result.wall_time_s)
    record = evaluate_checkpoints(checkpoints, seeds, episodes=args.episodes, device=args.device, method=method)
    record.write(Path(args.runs_dir) / env_id / "eval.json")
    return record.to_json()


def markdown(method: str, records: list[dict], args: argparse.Namespace, wall: float, command: str) -> str:
    date = dt.date.today().isoformat()
    machine = f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs" + (
        "" if args.device == "cpu" else f", {args.device}")
    lines = [f"<!-- table1:{method}:begin -->",
             f"### Table 1 ({method}): ground-truth success, {len(records[0]['seeds'])} seeds x "
             f"{args.episodes} episodes",
             "",
             f"{date} · {machine} · budget {args.steps} env steps per run, {args.num_envs} envs, training "
             f"episode length {args.episode_length or 300}, rl-games with each task's ppo.yaml · total wall time "
             f"{wall / 60:.0f} min · `{command}`",
             "",
             "| task | success (mean +- std) | per seed | train wall time / run | git commit |",
             "|---|---|---|---|---|"]
    for r in records:
        per_seed = ", ".join(f"{s:.1f}" for s in r["per_seed_success"])
        lines.append(f"| {r['task']} | {r['mean']:.2f} +- {r['std']:.2f} | {per_seed} | "
                     f"{r['wall_time_s']['train']:.0f} s | {(r['git_commit'] or '')[:8]} |")
    mean = float(np.mean([r["mean"] for r in records]))
    lines += [f"| **average** | **{mean:.2f}** | | | |", f"<!-- table1:{method}:end -->"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.table1", description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--method", choices=sorted(METHODS), default="v2p")
    p.add_argument("--tasks", nargs="+", default=["all"],
                   help="'all' (the 12 Table-1 tasks) or task names (PushLeft or V2P-PushLeft-v0)")
    p.add_argument("--seeds", type=int, default=3, help="number of training runs (seeds 0..S-1)")
    p.add_argument("--episodes", type=int, default=10)
    p.add_argument("--steps", type=int, default=20_000_000, help="env steps per training run")
    p.add_argument("--num-envs", type=int, default=4096)
    p.add_argument("--episode-length", type=int, help="training episode length (default: the task's, 300)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--runs-dir", default="runs/table1")
    p.add_argument("--update-results", action="store_true",
                   help="also replace this method's section of the results file (--out)")
    p.add_argument("--out", type=Path, default=RESULTS_MD, help="results file for --update-results")
    p.add_argument("--reuse", action="store_true", help="reuse finished runs in --runs-dir")
    p.add_argument("--quiet", "--no-progress", dest="quiet", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    command = shlex.join(["python", "-m", "benchmarks.table1", *(sys.argv[1:] if argv is None else argv)])
    for name in ("seeds", "episodes", "steps", "num_envs"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    start = time.perf_counter()
    seeds = list(range(args.seeds))
    records = []
    for env_id in resolve_tasks(args.tasks):
        records.append(run_task(env_id, args.method, seeds, args))
        print(f"{env_id}: {records[-1]['mean']:.2f} +- {records[-1]['std']:.2f}", flush=True)
    text = markdown(args.method, records, args, time.perf_counter() - start, command)
    table = Path(args.runs_dir) / f"table1_{args.method}.md"
    table.write_text(text + "\n")
    if args.update_results:
        write_section(text, f"table1:{args.method}", args.out)
    print(text)
    print(f"table: {table}" + (f" · section updated in {args.out}" if args.update_results else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
