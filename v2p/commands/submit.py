"""``v2p submit check | export``: validate a leaderboard submission, or make one from a checkpoint."""
from __future__ import annotations

import argparse
from pathlib import Path

from .common import HelpFormatter, positive_int, output_console

__all__ = ["add_parser"]


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("submit", help="check a leaderboard submission, or export a checkpoint as one",
                              formatter_class=HelpFormatter)
    sub = p.add_subparsers(dest="submit_command", required=True)
    check = sub.add_parser("check", formatter_class=HelpFormatter,
                           help="validate a submission and run it on public seeds in the isolated evaluator")
    check.add_argument("submission", type=Path, help="a submission folder or .zip")
    check.add_argument("--episodes", type=positive_int, default=1, help="episodes per task (public seed 0)")
    check.add_argument("--tasks", nargs="+", default=None,
                       help="check only these of the submission's tasks (default: all it declares)")
    check.add_argument("--no-sandbox", action="store_true",
                       help="run the policy without the OS sandbox (where the host cannot isolate; the checked "
                            "records then say isolated: false)")
    check.set_defaults(handler=_check)
    export = sub.add_parser("export", formatter_class=HelpFormatter,
                            help="an rl-games checkpoint of `v2p train` as a submission folder")
    export.add_argument("--checkpoint", type=Path, required=True)
    export.add_argument("--out", type=Path, required=True, help="the submission folder to write")
    export.add_argument("--method", required=True, help="the method's name on the board")
    export.add_argument("--authors", nargs="+", default=["anonymous"])
    export.add_argument("--description", default="")
    export.set_defaults(handler=_export)


def _check(args: argparse.Namespace) -> int:
    import tempfile

    from leaderboard.evaluator import EvalSettings, evaluate_submission
    from v2p_envs.errors import V2PError
    from leaderboard.submission import load_submission, unpack_submission

    console = output_console()
    with tempfile.TemporaryDirectory() as tmp:
        folder = unpack_submission(args.submission, Path(tmp))
        submission = load_submission(folder)
        console.print(f"{submission.method}: valid; {len(submission.tasks)} task(s), files "
                      f"{sorted(submission.file_sha256)}")
        tasks = list(submission.tasks)
        if args.tasks:
            unknown = sorted(set(args.tasks) - set(tasks))
            if unknown:
                raise V2PError(f"--tasks: {unknown} not declared by the submission (it declares {tasks})")
            tasks = list(args.tasks)
        records = evaluate_submission(folder, tasks, EvalSettings(episodes=args.episodes, seeds=(0,),
                                                                  sandbox=False if args.no_sandbox else None))
    for r in records:
        console.print(f"{r.task}: success {r.mean:.2f} on public seed 0 ({r.episodes} episode(s))"
                      + (f" · failures: {'; '.join(r.failures[:2])}" if r.failures else ""))
    return 0 if all(not r.failures for r in records) else 1


def _export(args: argparse.Namespace) -> int:
    from leaderboard.export import export_rl_games

    folder = export_rl_games(args.checkpoint, args.out, args.method, args.authors, args.description)
    print(f"submission {folder} (check it with: v2p submit check {folder})")
    return 0
