"""What a policy's failure may put into a public record: a category and a short, cleaned message.

The worker runs the submitter's code, so everything it says (an exception's text, a frame's
fields, its stderr) is the submitter's text. A record is public, so that text enters it only
as a ``Failure``: one of ``CATEGORIES``, the phase it happened in, and at most
``MESSAGE_CHARS`` characters from which the evaluator has removed what it must keep to itself
(the private seeds, the private-seeds file's path: ``Redactor``). The sandbox keeps those away
from the worker in the first place; redaction is the second line, for a leak nobody foresaw.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CATEGORIES", "MESSAGE_CHARS", "Failure", "Redactor"]

#: start_failed: the worker never became ready (it exited, or could not import or load the weights);
#: crashed: it died while running (a signal, an exit, killed by a limit); timeout: no answer within the
#: deadline; protocol: it answered with something that is not a frame of the wire; bad_actions: NaN,
#: inf or wrongly shaped actions; exception: the policy raised (the message is the exception's).
CATEGORIES = ("start_failed", "crashed", "timeout", "protocol", "bad_actions", "exception")
MESSAGE_CHARS = 200
REDACTED = "[redacted]"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True)
class Failure:
    """One failure of a policy on one seed: ``str(failure)`` is what a record lists."""

    seed: str  # "0", or "private #1": a private seed is never named
    category: str
    phase: str  # start, reset or act
    message: str

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"unknown failure category {self.category!r} (expected one of {CATEGORIES})")

    def __str__(self) -> str:
        return f"seed {self.seed}: {self.category} in {self.phase}: {self.message}"


class Redactor:
    """Cleans text the policy produced before it goes anywhere public (a record, a site, a log).

    ``seeds`` are removed wherever their decimal digits occur (below 1000 only where they stand
    alone, not in every number that contains them), and from 2**16 on their hexadecimal digits
    too; ``paths`` (the private-seeds file, as given and resolved, and its name) wherever they
    occur, in any case. The text is normalised first (NFKC: full-width digits are
    digits; control characters and runs of white space become one space) so that neither can
    hide a secret from the match, and it is capped at ``MESSAGE_CHARS`` after redaction, so that
    the cap cannot cut a secret into a part that no longer matches."""

    def __init__(self, seeds: Iterable[int] = (), paths: Iterable[str | Path] = ()) -> None:
        patterns = []
        for seed in sorted(set(int(s) for s in seeds), reverse=True):
            # a seed of 4 digits or more wherever its digits are (a prefix digit must not hide it);
            # a shorter one only where it stands alone, not in every number that contains it
            patterns.append(str(seed) if seed >= 1000 else rf"(?<![0-9]){seed}(?![0-9])")
            if seed >= 2**16:  # a short hexadecimal form would match words ("a", "be", "cafe")
                patterns.append(f"(?:0x)?{seed:x}")
        texts = set()
        for path in paths:
            path = Path(path)
            texts.update({str(path), str(path.expanduser().resolve()), path.name})
        patterns += [re.escape(t) for t in sorted(texts, key=len, reverse=True) if len(t) >= 3]
        self._pattern = re.compile("|".join(patterns), re.IGNORECASE) if patterns else None

    def clean(self, text: object, limit: int = MESSAGE_CHARS) -> str:
        """``text`` normalised, redacted and capped at ``limit`` characters (see the class doc)."""
        if not isinstance(text, str):
            text = "(a message that is not text)" if text is not None else ""
        text = unicodedata.normalize("NFKC", text)  # callers pass bounded text: a frame, an output's tail
        text = " ".join(_CONTROL.sub(" ", text).split())
        if self._pattern is not None:
            text = self._pattern.sub(REDACTED, text)
        return text if len(text) <= limit else text[: limit - 3] + "..."
