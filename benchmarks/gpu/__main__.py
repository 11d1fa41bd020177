"""The GPU check's Python side: machine info, the Warp step benchmark, the training plan, the summary.

``bash benchmarks/gpu_check.sh`` runs it, from the repository root, as ``python -m benchmarks.gpu CMD``:

- ``info``: machine, versions, commit and date as JSON;
- ``bench``: env-step throughput of ``V2PVectorEnv.step`` (state observations, random actions)
  against the bare MuJoCo Warp physics of the same model replaying the env's controls, their
  ratio, and peak GPU memory, for each task and N;
- ``plan``: the ``--steps`` upper bound of a ``v2p train --max-time`` run (prints it);
- ``summary``: ``summary.json`` and ``summary.md`` of an output folder (prints the Markdown).
"""
from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
from pathlib import Path

from .machine import machine_info
from .plan import TRAIN_TASK, make_plan
from .summary import TARGET_TRAIN_S, write_summary
from .warp_bench import SIZES, TASKS, bench_one

log = logging.getLogger("benchmarks.gpu")


def cmd_info(args: argparse.Namespace) -> int:
    info = machine_info()
    args.out.write_text(json.dumps(info, indent=1) + "\n")
    print(json.dumps(info))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    import torch

    cuda = str(args.device).startswith("cuda")
    if cuda and not torch.cuda.is_available():
        log.error("device %s: torch sees no CUDA device", args.device)
        return 1
    device_name = (torch.cuda.get_device_name() if cuda
                   else f"{platform.processor() or platform.machine()} (Warp CPU device)")
    out = {"device": device_name, "torch_device": args.device, "steps": args.steps, "rounds": args.rounds,
           "rate": "env steps/s = N x steps / median round time; env_over_bare = median env round / median bare round",
           "rows": []}
    failed = 0
    for task in args.tasks:
        for n in args.sizes:  # in the order given (the target size first by default)
            log.info("bench %s N=%d on %s", task, n, args.device)
            try:
                row = bench_one(task, n, args.device, args.steps, args.rounds)
            except Exception as exc:  # record it and go on with the other sizes
                log.exception("bench %s N=%d failed", task, n)
                row, failed = {"task": task, "num_envs": n, "error": f"{type(exc).__name__}: {exc}"}, failed + 1
            out["rows"].append(row)
            print(json.dumps(row), flush=True)
            args.out.write_text(json.dumps(out, indent=1) + "\n")  # after each row: a timeout keeps the rest
    return 1 if failed else 0


def cmd_plan(args: argparse.Namespace) -> int:
    plan = make_plan(args.bench, args.task, args.num_envs, args.max_time, args.margin, args.fallback_rate)
    if args.out:
        args.out.write_text(json.dumps(plan, indent=1) + "\n")
    print(plan["steps"])
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    print(write_summary(args.dir, args.mode))
    return 0


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.ArgumentDefaultsHelpFormatter
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu", description=__doc__.split("\n")[0],
                                     formatter_class=fmt)
    sub = parser.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("info", help="machine, versions, commit, date", formatter_class=fmt)
    p.add_argument("--out", type=Path, required=True, help="JSON file to write")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("bench", help="Warp env step vs bare physics, peak GPU memory", formatter_class=fmt)
    p.add_argument("--device", default="cuda", help="cuda or cpu (Warp's CPU device)")
    p.add_argument("--tasks", nargs="+", default=list(TASKS), help="env ids")
    p.add_argument("--sizes", nargs="+", type=int, default=list(SIZES), help="numbers of envs N")
    p.add_argument("--steps", type=int, default=100, help="env steps per timed round")
    p.add_argument("--rounds", type=int, default=3, help="timed rounds (the median counts)")
    p.add_argument("--out", type=Path, required=True, help="bench.json to write (after each row)")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("plan", help="the --steps upper bound of a `v2p train --max-time` run", formatter_class=fmt)
    p.add_argument("--bench", type=Path, required=True, help="bench.json (the env's rate at this N)")
    p.add_argument("--task", default=TRAIN_TASK, help="the env id trained")
    p.add_argument("--num-envs", type=int, default=8192, help="the run's --num-envs")
    p.add_argument("--max-time", type=float, default=TARGET_TRAIN_S, help="the run's --max-time, seconds")
    p.add_argument("--margin", type=float, default=2.0,
                   help="steps = env rate x max-time x margin: the time limit, not the steps, ends training")
    p.add_argument("--fallback-rate", type=float, default=1_000_000, help="env steps/s if bench.json lacks the row")
    p.add_argument("--out", type=Path, help="also write the plan as JSON here")
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("summary", help="write summary.json and summary.md into an output folder", formatter_class=fmt)
    p.add_argument("dir", type=Path, help="gpu_check.sh's output folder")
    p.add_argument("--mode", choices=("gpu", "tiny"), default="gpu", help="tiny: targets not assessed")
    p.set_defaults(func=cmd_summary)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("benchmarks").setLevel(logging.INFO)
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
