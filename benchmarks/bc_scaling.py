"""BC from the data engine at CPU scale: the paper's Fig. 6 (success vs training tasks) and Fig. 5.

``python -m benchmarks.bc_scaling --out runs/bc_scaling [--update-results]``

1. The lift family (``generator.lift_family``: 100 training tasks, 10 held out).
2. Data: successful episodes on the training tasks from (a) the scripted oracle, the labelled
   stand-in for trained V2P policies (PPO checkpoints of 100 tasks do not fit this machine), and
   (b) Code-as-Policies plans from the offline template writer (rule-based, not a model).
3. BC (ResNet18 from random weights, the CPU preset) on the first N tasks' oracle episodes for
   each N, and on all CoP episodes; each evaluated on the 10 held-out tasks, 3 seeds x 10
   episodes, ground truth ``lifted``; CoP itself evaluated on the same tasks.
Every step's output is kept under ``--out`` and reused when the command runs again.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from baselines.bc.dataset import read_episodes, write_card, write_dataset
from baselines.bc.engine import CollectConfig, collect_task, oracle_for
from baselines.bc.evaluate import evaluate_actor, evaluate_task
from baselines.bc.train import PRESETS, load_policy, train_bc
from benchmarks.results_md import run_stamp, write_section
from generator.lift_family import family_specs, load_family, write_family

log = logging.getLogger(__name__)

FIGURES = Path(__file__).parent / "figures"


def cop_policy_for(env, kind: str):
    """The template writer's Code-as-Policies plan for the env's task (ours, checked, in-process)."""
    from baselines.methods.code_as_policies import load_plan
    from baselines.methods.primitives import PrimitivePolicy
    from generator.codegen.cap_template import write_template_plan

    source, _ = write_template_plan(env.scene, env.scene.task_title)
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(source)
    try:
        plan = load_plan(Path(f.name))
    finally:
        os.unlink(f.name)
    policy = PrimitivePolicy(env, plan)
    return _StatesPolicy(policy)


class _StatesPolicy:
    """``act(states)`` for the engine over a ``Policy`` that reads the simulator itself."""

    def __init__(self, policy) -> None:
        self.policy = policy

    def act(self, states):
        return self.policy.act(None)


def _collect(tasks, path: Path, config: CollectConfig, policy_for, label: str) -> tuple[int, int]:
    if path.is_file():
        episodes, _ = read_episodes(path)
        return len(episodes), -1
    episodes, attempts = [], 0
    for spec, folder in tqdm(tasks, desc=f"collect ({label})", disable=not config.progress):
        kept, tried = collect_task(folder, spec.kind, spec.split, config, policy_for)
        episodes += kept
        attempts += tried
    env_args = {"image_size": config.image_size, "policy": label,
                "randomization": {"action_noise": config.action_noise}, "tasks": [f.name for _, f in tasks]}
    write_dataset(path, episodes, env_args)
    write_card(path, episodes, env_args)
    return len(episodes), attempts


def _evaluate(run: Path, held_out, seeds: int, episodes: int, max_steps: int, progress: bool) -> dict:
    cached = run / "eval.json"
    if cached.is_file():
        return json.loads(cached.read_text())
    net, config = load_policy(run)
    rows = [evaluate_task(net, config.image_size, folder, spec.kind, spec.split, episodes, seed, max_steps)
            for spec, folder in tqdm(held_out, desc=f"eval {run.name}", disable=not progress) for seed in range(seeds)]
    out = _summary(rows, seeds)
    cached.write_text(json.dumps(out, indent=1) + "\n")
    return out


def _trained_with(run: Path, preset) -> bool:
    """Whether ``run`` holds a policy trained with ``preset`` (threads and device aside); a run of
    another recipe is trained again, and its cached evaluation dropped."""
    meta = run / "bc.json"
    if not meta.is_file():
        return False
    ignored = {"threads", "device", "image_size"}  # the data decides the image size
    wanted = {k: v for k, v in asdict(preset).items() if k not in ignored}
    had = {k: v for k, v in json.loads(meta.read_text())["config"].items() if k not in ignored}
    if had == wanted:
        return True
    log.warning("%s was trained with another recipe (field: had, wanted %s); training it again",
                run, {k: (had.get(k), wanted[k]) for k in wanted if had.get(k) != wanted[k]})
    (run / "eval.json").unlink(missing_ok=True)
    return False


def evaluate_runs(runs: dict[str, Path], held_out, seeds: int, episodes: int, max_steps: int,
                  progress: bool) -> dict[str, dict]:
    """Each trained policy folder on the held-out tasks (cached in the folder's eval.json)."""
    return {name: _evaluate(run, held_out, seeds, episodes, max_steps, progress) for name, run in runs.items()}


def results_table(results: dict[str, dict]) -> list[str]:
    """Markdown rows: per policy, held-out success overall and per held-out split."""
    lines = ["| policy | held-out success (mean +- std over seeds) | novel colour/scale of seen kinds | unseen kinds |",
             "|---|---|---|---|"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['mean']:.2f} +- {r['std']:.2f} | {r['by_split'].get('held_out_seen', float('nan')):.2f} "
                     f"| {r['by_split'].get('held_out_unseen', float('nan')):.2f} |")
    return lines


def _summary(rows, seeds: int) -> dict:
    per_seed = [float(np.mean([r.success_rate for r in rows if r.seed == s])) for s in range(seeds)]
    by_split = {split: float(np.mean([r.success_rate for r in rows if r.split == split]))
                for split in sorted({r.split for r in rows})}
    return {"mean": float(np.mean(per_seed)), "std": float(np.std(per_seed)), "per_seed": per_seed, "by_split": by_split}


def _evaluate_cop(held_out, seeds: int, episodes: int, max_steps: int, out: Path, progress: bool) -> dict:
    """CoP itself on the held-out tasks, same protocol (the plan acts; no images)."""
    cached = out / "cop_eval.json"
    if cached.is_file():
        return json.loads(cached.read_text())

    def plan_actor(kind: str):
        def make(env):
            policy = cop_policy_for(env, kind).policy
            policy.reset(None)
            return lambda: policy.act(None)
        return make

    rows = [evaluate_actor(folder, spec.kind, spec.split, plan_actor(spec.kind), episodes, seed, max_steps)
            for spec, folder in tqdm(held_out, desc="eval CoP", disable=not progress) for seed in range(seeds)]
    result = _summary(rows, seeds)
    cached.write_text(json.dumps(result, indent=1) + "\n")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bc_scaling", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("runs/bc_scaling"), help="(default %(default)s)")
    parser.add_argument("--tasks", type=int, nargs="+", default=[10, 20, 50, 100], help="training-task counts N")
    parser.add_argument("--episodes-per-task", type=int, default=4, help="collection attempts per task (default %(default)s)")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="cpu",
                        help="BC recipe: cpu (64 px, 400 steps at batch 64, robot state as input) or paper "
                             "(256 px, 30 epochs at batch 1024, RGB only; a GPU's)")
    parser.add_argument("--device", default="cpu", help="torch device for BC training (default %(default)s)")
    parser.add_argument("--image-size", type=int, help="override the preset's image size")
    parser.add_argument("--epochs", type=int, help="override the preset's budget: whole passes over the data")
    parser.add_argument("--steps", type=int, help="override the preset's budget: gradient steps")
    parser.add_argument("--eval-seeds", type=int, default=3, help="(default %(default)s)")
    parser.add_argument("--eval-episodes", type=int, default=10, help="(default %(default)s)")
    parser.add_argument("--max-steps", type=int, default=200, help="episode length (default %(default)s)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for training (default %(default)s)")
    parser.add_argument("--update-results", action="store_true", help="write the tables into benchmarks/RESULTS.md")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    start = time.perf_counter()
    progress = not args.no_progress
    family_dir = args.out / "family"
    if not (family_dir / "family.json").is_file():
        write_family(family_dir, family_specs(train=max(args.tasks)), progress=progress)
    tasks = load_family(family_dir)
    train = [t for t in tasks if t[0].split == "train"]
    held_out = [t for t in tasks if t[0].split.startswith("held_out")]
    preset = replace(PRESETS[args.preset], threads=args.threads, device=args.device)
    if args.image_size:
        preset = replace(preset, image_size=args.image_size)
    if args.epochs:
        preset = replace(preset, epochs=args.epochs, steps=None)
    if args.steps:
        preset = replace(preset, steps=args.steps)
    config = CollectConfig(args.episodes_per_task, preset.image_size, max_steps=args.max_steps, progress=progress)
    oracle_data, cop_data = args.out / "oracle.hdf5", args.out / "cop.hdf5"
    collected = {"oracle": _collect(train, oracle_data, config, oracle_for,
                                    "scripted oracle (privileged stand-in for V2P policies)"),
                 "cop": _collect(train, cop_data, config, cop_policy_for,
                                 "Code-as-Policies, template plans (rule-based, not a model)")}
    results = {}
    for n in args.tasks:
        run = args.out / f"bc_oracle_n{n}"
        if not _trained_with(run, preset):
            train_bc(oracle_data, run, preset, {f.name for _, f in train[:n]}, progress=progress)
        results[f"BC-V2P (oracle data), N={n}"] = _evaluate(run, held_out, args.eval_seeds, args.eval_episodes,
                                                             args.max_steps, progress)
    run = args.out / "bc_cop"
    if not _trained_with(run, preset):
        train_bc(cop_data, run, preset, {f.name for _, f in train[:max(args.tasks)]}, progress=progress)
    results["BC-CoP"] = _evaluate(run, held_out, args.eval_seeds, args.eval_episodes, args.max_steps, progress)
    results["CoP (template plans)"] = _evaluate_cop(held_out, args.eval_seeds, args.eval_episodes, args.max_steps,
                                                    args.out, progress)
    minutes = (time.perf_counter() - start) / 60
    (args.out / "results.json").write_text(json.dumps({"collected": collected, "results": results}, indent=1) + "\n")
    figure = _figure(args.out / "fig6_bc_scaling.png", args.tasks,
                     [results[f"BC-V2P (oracle data), N={n}"] for n in args.tasks], results["CoP (template plans)"]["mean"])
    lines = [f"### BC from generated data: {len(train)} training tasks, {len(held_out)} held out, "
             f"{args.eval_seeds} seeds x {args.eval_episodes} episodes", "",
             run_stamp("benchmarks.bc_scaling", argv, minutes), "",
             f"Data: oracle {collected['oracle'][0]} episodes, CoP {collected['cop'][0]} episodes "
             f"({args.episodes_per_task} attempts per task, {preset.image_size} px, action noise 0.02); "
             f"BC: ResNet18 from random weights, {args.preset} preset: {budget(preset)}.", "",
             *results_table(results)]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.update_results:
        write_section(f"<!-- bc:scaling:begin -->\n{text}<!-- bc:scaling:end -->", "bc:scaling")
        shutil.copy(figure, FIGURES / f"fig6_bc_scaling_{args.preset}.png")
    return 0


def budget(config) -> str:
    """A BC recipe's budget and inputs in words, for the tables."""
    amount = f"{config.steps} steps" if config.steps else f"{config.epochs} epochs"
    inputs = "two frames and the robot's state" if config.proprio else "two frames"
    return f"{amount} at batch {config.batch_size}, {config.image_size} px, {inputs}"


def _figure(path: Path, tasks: list[int], results: list[dict], cop: float) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    ax.errorbar(tasks, [r["mean"] for r in results], yerr=[r["std"] for r in results], marker="o", capsize=3,
                label="BC (oracle data)")
    ax.axhline(cop, color="grey", linestyle="--", label="CoP (template plans)")
    ax.set_xlabel("training tasks N")
    ax.set_ylabel("held-out success")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


if __name__ == "__main__":
    raise SystemExit(main())
