"""Loading a ``transformers`` model or processor with an error that says how to provide it."""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from generator.reconstruct.stages import ReconstructionError

__all__ = ["load_pretrained"]

log = logging.getLogger(__name__)


def load_pretrained(loader: Any, source: str | Path, what: str, cli_flag: str,
                    cache_dir: Path | None = None, **kwargs: Any) -> Any:
    """``loader.from_pretrained(source)``; a missing or broken model raises ReconstructionError."""
    try:
        obj = loader.from_pretrained(str(source), cache_dir=str(cache_dir) if cache_dir else None, **kwargs)
    except (OSError, ValueError, KeyError) as exc:
        offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
        hint = ("HF_HUB_OFFLINE is set, so nothing is downloaded: " if offline else "") + (
            f"pass a local folder written by save_pretrained (or a hub id reachable from here) with {cli_flag}, "
            "or use --backend offline")
        raise ReconstructionError(f"cannot load the {what} from '{source}' ({type(exc).__name__}: "
                                  f"{str(exc).splitlines()[0] if str(exc) else ''}); {hint}") from exc
    log.info("loaded %s from %s", what, source)
    return obj
