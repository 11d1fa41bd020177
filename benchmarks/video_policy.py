"""The video-prediction policy against BC at CPU scale: 2-stage vs joint, horizons K.

``python -m benchmarks.video_policy --out runs/bc_scaling [--update-results]``

Reads what ``benchmarks.bc_scaling`` left in ``--out`` (the lift family and the oracle dataset;
run that first), trains the video policy on every training task's episodes for each setting,
and evaluates it with the same protocol (10 held-out tasks, seeds x episodes, ground truth).
"""
from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

from baselines.bc.video_policy import VideoPolicyConfig, train_video_policy
from benchmarks.bc_scaling import evaluate_runs, results_table
from benchmarks.results_md import run_stamp, write_section
from generator.lift_family import load_family


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.video_policy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("runs/bc_scaling"), help="(default %(default)s)")
    parser.add_argument("--horizons", type=int, nargs="+", default=[1, 4, 8], help="K for 2-stage (default %(default)s)")
    parser.add_argument("--joint-horizon", type=int, default=4, help="K of the joint run (default %(default)s)")
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
    held_out = [t for t in load_family(args.out / "family") if t[0].split.startswith("held_out")]
    settings = [(k, "two_stage") for k in args.horizons] + [(args.joint_horizon, "joint")]
    runs = {}
    for k, mode in settings:
        run = args.out / f"video_{mode}_k{k}"
        if not (run / "bc.json").is_file():
            train_video_policy(data, run, VideoPolicyConfig(horizon=k, mode=mode, video_epochs=args.epochs,
                                                            action_epochs=args.epochs), progress=not args.no_progress)
        runs[f"video policy, {mode.replace('_', '-')}, K={k}"] = run
    results = evaluate_runs(runs, held_out, args.eval_seeds, args.eval_episodes, args.max_steps, not args.no_progress)
    bc = json.loads((args.out / "results.json").read_text())["results"] if (args.out / "results.json").is_file() else {}
    minutes = (time.perf_counter() - start) / 60
    lines = [f"### Video-prediction policy vs BC: {len(held_out)} held-out tasks, {args.eval_seeds} seeds x "
             f"{args.eval_episodes} episodes", "",
             run_stamp("benchmarks.video_policy", argv, minutes), "",
             f"Video policy: U-Net (width 32) from random weights, {args.epochs} epochs per stage, on the oracle data "
             "of every training task.", "",
             *results_table({**{k: v for k, v in bc.items() if k.endswith("N=100")}, **results})]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.update_results:
        write_section(f"<!-- bc:video:begin -->\n{text}<!-- bc:video:end -->", "bc:video")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
