"""Task code out of a model's reply, keeping every helper function.

Replies put the module in one fenced block, in several (helpers apart from the class), or in
none. Eureka's parser cuts a reply to its last ``def``, which loses helper functions; here the
fenced Python blocks are joined in order, and a reply without fences is taken whole when it
parses. The result is checked by the code policy; what fails is a categorised failure, never
an exception.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from v2p_envs.untrusted.code_policy import check_source

__all__ = ["ParsedCode", "extract_code", "parse_pick"]

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL)
_PICK = re.compile(r"chosen\s*[:=]?\s*(?:candidate|sample)?\s*#?\s*(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedCode:
    """``code`` when the reply held usable code; else ``category`` and ``message`` say why not."""

    code: str | None
    category: str | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.code is not None and self.category is None


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    return True


def extract_code(reply: str) -> ParsedCode:
    """The task module in ``reply`` (see the module doc), checked by the code policy."""
    if not reply or not reply.strip():
        return ParsedCode(None, "syntax", "the reply is empty")
    blocks = [body for lang, body in _FENCE.findall(reply) if lang.lower() in ("", "python", "py", "python3")]
    candidates = []
    if blocks:
        candidates.append("\n\n".join(b.strip("\n") for b in blocks))
        candidates += sorted(blocks, key=len, reverse=True)
    else:
        candidates.append(reply)
    code = next((c.strip("\n") + "\n" for c in candidates if _parses(c)), None)
    if code is None:
        where = "the fenced code" if blocks else "the reply (no ```python block)"
        try:
            ast.parse(candidates[0])
        except SyntaxError as exc:
            return ParsedCode(None, "syntax", f"{where} does not parse: line {exc.lineno}: {exc.msg}")
        return ParsedCode(None, "syntax", f"{where} does not parse")
    violations = check_source(code)
    if violations:
        listed = "; ".join(str(v) for v in violations[:5])
        return ParsedCode(code, violations[0].category, f"the code policy refuses: {listed}")
    return ParsedCode(code)


def parse_pick(reply: str, count: int) -> int | None:
    """The 1-based candidate a picking reply chose (its last ``Chosen: k``), or None if it names none in range."""
    matches = _PICK.findall(reply or "")
    if not matches:
        return None
    choice = int(matches[-1])
    return choice if 1 <= choice <= count else None
