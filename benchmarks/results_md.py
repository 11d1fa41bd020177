"""benchmarks/RESULTS.md: sections that runners replace between their markers, when asked."""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

__all__ = ["RESULTS_MD", "write_section", "run_stamp", "add_section_arguments"]

RESULTS_MD = Path(__file__).with_name("RESULTS.md")


def write_section(text: str, key: str, path: Path = RESULTS_MD) -> None:
    """Replace the section between ``<!-- KEY:begin -->`` and ``<!-- KEY:end -->`` in RESULTS.md,
    or append it (``text`` carries its own markers)."""
    begin, end = f"<!-- {key}:begin -->", f"<!-- {key}:end -->"
    doc = path.read_text() if path.is_file() else "# Benchmark results\n"
    if begin in doc and end in doc:
        doc = doc[: doc.index(begin)] + text + doc[doc.index(end) + len(end):]
    else:
        doc = doc.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(doc)


def add_section_arguments(parser: argparse.ArgumentParser, section: str) -> None:
    """``--section`` (its marker, default ``section``) and ``--update-results`` for a runner."""
    parser.add_argument("--section", default=section, help="marker of the RESULTS.md section")
    parser.add_argument("--update-results", action="store_true", help="replace the section in benchmarks/RESULTS.md")


def run_stamp(module: str, argv: list[str] | None, minutes: float) -> str:
    """The line every RESULTS figure carries: date, machine, duration and the exact command."""
    command = f"python -m {module} " + " ".join(sys.argv[1:] if argv is None else argv)
    return (f"{time.strftime('%Y-%m-%d')} · {platform.machine()} {platform.system()}, {os.cpu_count()} CPUs · "
            f"{minutes:.1f} min in all · `{command.strip()}`")
