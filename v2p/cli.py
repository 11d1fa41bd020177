"""The ``v2p`` command line: list, run, train, evaluate, reconstruct, generate, pipeline, submit and
leaderboard.

Bad input (an unknown task, a bad flag, a broken file, a refused checkpoint) ends in one line
on stderr and exit status 2; ``-v`` shows the traceback and INFO logs.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys

os.environ.setdefault("MUJOCO_GL", "egl")

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    from generator.reconstruct.cli import add_reconstruct_parser

    from .commands import bc, evaluate, generate, leaderboard_cmd, listing, pipeline, run, submit, train
    from .commands.common import HelpFormatter

    parser = argparse.ArgumentParser(prog="v2p", description="Video2Policy: videos -> simulated tasks -> policies",
                                     formatter_class=HelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="INFO logs, and tracebacks on errors")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in (listing, run, train, evaluate, generate, pipeline, submit, leaderboard_cmd, bc):
        module.add_parser(subparsers)
    add_reconstruct_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    import gymnasium as gym

    from v2p_envs.errors import V2PError

    try:
        return int(args.handler(args) or 0)
    except (V2PError, gym.error.Error, FileNotFoundError) as exc:
        if args.verbose:
            raise
        message = " ".join(str(exc).split())
        sys.stderr.write(f"v2p {args.command}: error: {message}\n")
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
