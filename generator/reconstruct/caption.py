"""Checking object names against the caption and turning both into SceneSpec names."""
from __future__ import annotations

import re
from typing import Sequence

from generator.reconstruct.stages import CaptionMismatchError

__all__ = ["object_identifier", "check_objects_in_caption", "task_class_name"]

_WORD = re.compile(r"[a-z0-9]+")


def object_identifier(name: str) -> str:
    """``"Computer mouse"`` -> ``"computer_mouse"`` (a SceneSpec object name)."""
    ident = "_".join(_WORD.findall(name.lower()))
    if not ident:
        raise CaptionMismatchError(f"object name {name!r} has no letters or digits")
    return ident if not ident[0].isdigit() else f"obj_{ident}"


def check_objects_in_caption(caption: str, names: Sequence[str]) -> list[str]:
    """Every object must be named in the caption (words in order; a plural 's'/'es' is allowed).
    Returns the identifiers, in the caption's order of mention."""
    if not caption.strip():
        raise CaptionMismatchError("the caption is empty; describe what happens, e.g. 'throw garlic into bowl'")
    if not names:
        raise CaptionMismatchError(f"no object names given for caption {caption!r}; name the objects it mentions")
    words = _WORD.findall(caption.lower())
    positions = {}
    for name in names:
        ident = object_identifier(name)
        if ident in positions:
            raise CaptionMismatchError(f"object {name!r} is given twice")
        pos = _find(words, ident.split("_"))
        if pos is None:
            raise CaptionMismatchError(
                f"object {name!r} is not mentioned in the caption {caption!r}; pass the names as they appear "
                "in the caption (e.g. --objects garlic bowl for 'throw garlic into bowl')")
        positions[ident] = pos
    return sorted(positions, key=positions.get)


def task_class_name(caption: str) -> str:
    """``"throw garlic into bowl"`` -> ``"ThrowGarlicIntoBowl"``."""
    words = _WORD.findall(caption.lower())
    name = "".join(w.capitalize() for w in words)[:60] or "Task"
    return name if name[0].isalpha() else f"Task{name}"


def _find(words: list[str], phrase: list[str]) -> int | None:
    for i in range(len(words) - len(phrase) + 1):
        if all(_same(w, p) for w, p in zip(words[i:i + len(phrase)], phrase)):
            return i
    return None


def _same(word: str, name: str) -> bool:
    return word == name or word in (name + "s", name + "es") or name in (word + "s", word + "es")
