"""``v2p leaderboard evaluate | build``: the isolated evaluator's records, and the static site."""
from __future__ import annotations

import argparse
from pathlib import Path

from .common import HelpFormatter, positive_int, output_console

__all__ = ["add_parser"]


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("leaderboard", help="evaluate submissions into records; build the static site",
                              formatter_class=HelpFormatter)
    sub = p.add_subparsers(dest="leaderboard_command", required=True)
    ev = sub.add_parser("evaluate", formatter_class=HelpFormatter,
                        help="evaluate a submission (folder or .zip) or the shipped oracles; write records")
    ev.add_argument("submission", help="a submission folder or .zip, or 'oracle' for the shipped scripted oracles")
    ev.add_argument("--records", type=Path, default=Path("leaderboard_records"), help="the records folder")
    ev.add_argument("--tasks", nargs="+", help="task ids (default: the submission's)")
    ev.add_argument("--episodes", type=positive_int, default=10, help="episodes per seed")
    ev.add_argument("--private-seeds", type=Path, help="a file of the board's private seeds (else the public 0 1 2; "
                                                       "or V2P_LEADERBOARD_PRIVATE_SEEDS)")
    ev.add_argument("--video", action="store_true", help="record the first seed's episodes for the task pages")
    ev.add_argument("--no-sandbox", action="store_true",
                    help="run the policy without the OS sandbox (only where the host cannot isolate and you trust "
                         "the submission); the records then say isolated: false")
    ev.set_defaults(handler=_evaluate)
    build = sub.add_parser("build", formatter_class=HelpFormatter, help="the static site from a records folder")
    build.add_argument("records", type=Path)
    build.add_argument("--out", type=Path, required=True, help="the site folder")
    build.set_defaults(handler=_build)


def _evaluate(args: argparse.Namespace) -> int:
    import os
    import tempfile

    from leaderboard.evaluator import EvalSettings, evaluate_oracle_entry, evaluate_submission, private_seeds
    from leaderboard.records import write_record
    from leaderboard.submission import TABLE1_IDS, unpack_submission

    private = args.private_seeds is not None or bool(os.environ.get("V2P_LEADERBOARD_PRIVATE_SEEDS"))
    seeds = private_seeds(args.private_seeds) if private else (0, 1, 2)
    settings = EvalSettings(episodes=args.episodes, seeds=seeds, private=private,
                            sandbox=False if args.no_sandbox else None,
                            secret_paths=(str(args.private_seeds),) if args.private_seeds else ())
    console = output_console()

    def write(record) -> None:  # each record as soon as its task is done, whole or not at all
        path = write_record(record, args.records)
        console.print(f"{record.submission.get('method')} · {record.task}: {record.status}, success "
                      f"{record.mean:.2f} +- {record.std:.2f}" + (f" · {len(record.failures)} failure(s)"
                                                                  if record.failures else "")
                      + ("" if record.isolated is not False else " · isolated: false") + f" · {path}")

    if args.submission == "oracle":
        for task in args.tasks or TABLE1_IDS:
            write(evaluate_oracle_entry(task, settings))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            folder = unpack_submission(Path(args.submission), Path(tmp))
            video_dir = None
            if args.video:
                video_dir = args.records / "videos" / _slug_of(folder)
                video_dir.mkdir(parents=True, exist_ok=True)
            evaluate_submission(folder, args.tasks, settings, video_dir, on_record=write)
    return 0


def _slug_of(folder: Path) -> str:
    from leaderboard.records import slug
    from leaderboard.submission import SubmissionError, load_submission

    try:
        return slug(load_submission(folder).method)
    except SubmissionError:  # a refused submission: its folder's name
        return slug(folder.name)


def _build(args: argparse.Namespace) -> int:
    from leaderboard.site import build_site

    index = build_site(args.records, args.out)
    print(f"site {index}")
    return 0
