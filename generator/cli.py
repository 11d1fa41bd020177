"""The ``v2p`` command line: run tasks (and, as they land, reconstruct, train, evaluate)."""
from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")

__all__ = ["main", "build_parser"]


def _add_run(subparsers) -> None:
    from baselines.rollout import POLICIES

    p = subparsers.add_parser("run", help="run episodes of a task with a policy, print success, write a video")
    p.add_argument("env_id", help="a registered task id, e.g. V2P-ThrowGarlic-v0")
    p.add_argument("--policy", choices=POLICIES, default="oracle")
    p.add_argument("--episodes", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--video", type=Path, help="write an mp4 of all episodes here")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from baselines.rollout import run_episodes

    results = run_episodes(args.env_id, args.policy, args.episodes, args.seed, args.video)
    table = Table(title=f"{args.env_id} · policy {args.policy}")
    for column in ("episode", "seed", "success", "generated success", "return", "steps"):
        table.add_column(column)
    for r in results:
        table.add_row(str(r.episode), str(r.seed), str(r.success), str(r.generated_success),
                      f"{r.episode_return:.1f}", str(r.steps))
    console = Console()
    console.print(table)
    rate = sum(r.success for r in results) / max(len(results), 1)
    console.print(f"success rate {rate:.2f}" + (f" · video {args.video}" if args.video else ""))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="v2p", description="Video2Policy: videos -> simulated tasks -> policies")
    parser.add_argument("-v", "--verbose", action="store_true")
    subparsers = parser.add_subparsers(dest="command", required=True)
    _add_run(subparsers)
    try:
        from generator.reconstruct.cli import add_reconstruct_parser
    except ImportError:
        pass
    else:
        add_reconstruct_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
