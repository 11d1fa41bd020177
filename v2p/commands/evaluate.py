"""``v2p eval``: the paper's protocol on checkpoints (ground-truth success, or the family ground
truth of a generated task's goal.json); a JSON record that names the metric."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from .common import HelpFormatter, add_progress_flag, non_negative_int, output_console, positive_int, success_phrase

__all__ = ["add_parser"]


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("eval", help="evaluate checkpoints with ground-truth success; write a JSON record",
                              formatter_class=HelpFormatter)
    p.add_argument("--checkpoint", type=Path, nargs="+", required=True,
                   help="one checkpoint (evaluated with every seed) or one per seed (one training run per seed)")
    p.add_argument("--episodes", type=positive_int, default=10)
    p.add_argument("--seeds", type=non_negative_int, nargs="+", default=[0, 1, 2])
    p.add_argument("--device", default="cpu")
    p.add_argument("--backend", choices=("mujoco", "warp"), help="physics backend (default: the run's)")
    p.add_argument("--video", type=Path, help="write an mp4 of env 0 for the first seed")
    p.add_argument("--out", type=Path, help="JSON record path (default: eval.json in the first checkpoint's run)")
    p.add_argument("--method", help="method name in the record (default v2p/<trainer>)")
    add_progress_flag(p)
    p.set_defaults(handler=_eval)


def _eval(args: argparse.Namespace) -> int:

    from baselines.rl import RunInfo, evaluate_checkpoints

    record = evaluate_checkpoints(args.checkpoint, args.seeds, args.episodes, args.device, args.video, args.method,
                                  progress=not args.no_progress, backend=args.backend)
    out = args.out or RunInfo.of_checkpoint(args.checkpoint[0]).run_dir / "eval.json"
    record.write(out)
    console = output_console()
    console.print_json(json.dumps(record.to_json()))
    console.print(f"{record.task}: {success_phrase(record.metric)} {record.mean:.2f} +- {record.std:.2f} "
                  f"over seeds {record.seeds} "
                  f"({record.episodes} episodes each; task code {record.task_trusted_by}) · record {out}")
    return 0
