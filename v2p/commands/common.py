"""Argument types, the help formatter and the output console every ``v2p`` sub-command shares."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["HelpFormatter", "positive_int", "non_negative_int", "add_progress_flag", "output_console", "success_phrase"]


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` shows each option's default."""


def _int_at_least(minimum: int, expected: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {value}")
        return value
    parse.__name__ = expected  # argparse names the type in its messages
    return parse


positive_int = _int_at_least(1, "a positive integer")
non_negative_int = _int_at_least(0, "an integer >= 0")


def success_phrase(metric: str) -> str:
    """How printed lines name what a success rate measures (an env's ``success_metric``, a
    record's ``metric``), so that no line calls a family or generated success ground truth."""
    return {"ground_truth": "ground-truth success",
            "family_ground_truth": "family ground truth success (from the task's goal.json; no hand-written "
                                   "ground truth)",
            "generated": "generated success (this task has no ground truth)"}.get(metric, f"{metric} success")


def add_progress_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def output_console() -> Console:
    """The console commands print to. Lines are never hard-wrapped (rich wraps at 80 columns when
    stdout is not a terminal), so printed paths and ids survive pipes, logs and copy-paste whole."""
    from rich.console import Console

    return Console(soft_wrap=True)
