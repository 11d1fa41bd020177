"""The video-prediction policy against BC at CPU scale: 2-stage vs joint, horizons K.

``python -m benchmarks.video_policy --out runs/bc_scaling [--update-results]``

Reads what ``benchmarks.bc_scaling`` left in ``--out`` (the lift family, the oracle dataset and
the BC runs; run that first), trains the video policy on the first ``--tasks`` training tasks'
episodes for each setting (2-stage at each K, joint at one K), and evaluates it with the same
protocol (10 held-out tasks, seeds x episodes, ground truth) beside BC trained on the same tasks.
"""
from __future__ import annotations

import argparse
import json
import logging
import shutil
import time
from pathlib import Path

from baselines.bc.video_policy import VideoPolicyConfig, train_video_policy
from benchmarks.bc_scaling import FIGURES, evaluate_runs, results_table
from benchmarks.results_md import run_stamp, write_section
from generator.lift_family import load_family


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.video_policy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("runs/bc_scaling"), help="(default %(default)s)")
    parser.add_argument("--horizons", type=int, nargs="+", default=[1, 4, 8], help="K for 2-stage (default %(default)s)")
    parser.add_argument("--joint-horizon", type=int, default=4, help="K of the joint run (default %(default)s)")
    parser.add_argument("--tasks", type=int, default=20, help="training tasks N (default %(default)s)")
    parser.add_argument("--width", type=int, default=16,
                        help="channels of the U-Net's first level (default %(default)s; the library's is 32)")
    parser.add_argument("--epochs", type=int, default=3, help="per stage (default %(default)s)")
    parser.add_argument("--eval-seeds", type=int, default=3, help="(default %(default)s)")
    parser.add_argument("--eval-episodes", type=int, default=10, help="(default %(default)s)")
    parser.add_argument("--max-steps", type=int, default=150, help="(default %(default)s)")
    parser.add_argument("--update-results", action="store_true")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    data = args.out / "oracle.hdf5"
    if not data.is_file():
        parser.error(f"{data}: no dataset; run python -m benchmarks.bc_scaling --out {args.out} first")
    start = time.perf_counter()
    family = load_family(args.out / "family")
    held_out = [t for t in family if t[0].split.startswith("held_out")]
    tasks = set([folder.name for spec, folder in family if spec.split == "train"][: args.tasks])
    settings = [(k, "two_stage") for k in args.horizons] + [(args.joint_horizon, "joint")]
    runs = {}
    for k, mode in settings:
        run = args.out / f"video_{mode}_k{k}_n{args.tasks}"
        if not (run / "bc.json").is_file():
            config = VideoPolicyConfig(horizon=k, mode=mode, width=args.width, video_epochs=args.epochs,
                                       action_epochs=args.epochs)
            train_video_policy(data, run, config, tasks, progress=not args.no_progress)
        runs[f"video policy, {mode.replace('_', '-')}, K={k}"] = run
    results = evaluate_runs(runs, held_out, args.eval_seeds, args.eval_episodes, args.max_steps, not args.no_progress)
    bc = json.loads((args.out / "results.json").read_text())["results"] if (args.out / "results.json").is_file() else {}
    reference = {k: v for k, v in bc.items() if k.endswith(f"N={args.tasks}") or k.startswith("CoP")}
    minutes = (time.perf_counter() - start) / 60
    figure = _figure(args.out / f"video_policy_n{args.tasks}.png", {**reference, **results})
    lines = [f"### Video-prediction policy vs BC: {args.tasks} training tasks, {len(held_out)} held out, "
             f"{args.eval_seeds} seeds x {args.eval_episodes} episodes", "",
             run_stamp("benchmarks.video_policy", argv, minutes), "",
             f"Video policy: U-Net (width {args.width}) from random weights, {args.epochs} epochs per stage (joint: "
             f"{2 * args.epochs} epochs of both losses), with the robot's state in its action head, on the oracle "
             f"data of the first {args.tasks} training tasks; BC row: the same tasks' data (benchmarks.bc_scaling).",
             "", *results_table({**reference, **results})]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.update_results:
        write_section(f"<!-- bc:video:begin -->\n{text}<!-- bc:video:end -->", "bc:video")
        shutil.copy(figure, FIGURES / f"video_policy_cpu_n{args.tasks}.png")
    return 0


def _figure(path: Path, results: dict[str, dict]) -> Path:
    """Held-out success per policy, seeds' spread as error bars, split into the two held-out halves."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    names = list(results)
    y = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(6.5, 0.45 * len(names) + 1.2))
    ax.barh(y, [results[n]["mean"] for n in names], xerr=[results[n]["std"] for n in names], color="tab:blue",
            alpha=0.8, capsize=3, label="all held-out")
    for offset, split, marker in ((-0.2, "held_out_seen", "o"), (0.2, "held_out_unseen", "s")):
        ax.plot([results[n]["by_split"].get(split, np.nan) for n in names], y + offset, marker, color="black",
                markersize=4, linestyle="none", label=split.replace("held_out_", "held-out ").replace("seen", "seen kinds"))
    ax.set_yticks(y, names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("held-out success (ground truth)")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


if __name__ == "__main__":
    raise SystemExit(main())
