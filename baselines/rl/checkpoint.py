"""Checkpoints are data: tensors in, never code.

``load_weights`` reads a torch checkpoint with ``weights_only=True`` (PyTorch's restricted
unpickler: tensors, containers, numbers), allowing only numpy's scalar and dtype
reconstructors, which rl-games stores for its best reward. A file that needs anything else
(a pickled object, a payload) is refused with ``CheckpointError`` before any of it runs.
Libraries whose own format is pickle (SB3's model.zip data, VecNormalize's .pkl) are read
only through their weights-only parts; see each adapter.
"""
from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from v2p_envs.errors import V2PError

__all__ = ["CheckpointError", "load_weights"]

_NUMPY_DATA = [np.dtype, type(np.dtype(np.float32)), type(np.dtype(np.float64)), type(np.dtype(np.int64))]
try:  # numpy >= 2
    from numpy._core.multiarray import scalar as _np_scalar
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core.multiarray import scalar as _np_scalar
_NUMPY_DATA.append(_np_scalar)


class CheckpointError(V2PError, ValueError):
    """A checkpoint that is not a weights-only file (or cannot be read)."""


def load_weights(path: Path | str, device: str | torch.device = "cpu", data: bytes | None = None) -> Any:
    """The tensors in ``path`` (a dict, usually), or in ``data`` (bytes read from inside ``path``,
    e.g. a member of a zip); refuses anything that would run code."""
    path = Path(path)
    if data is None and not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        with torch.serialization.safe_globals(_NUMPY_DATA):
            return torch.load(io.BytesIO(data) if data is not None else path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as exc:
        lines = [ln.strip() for ln in str(exc).splitlines() if "GLOBAL" in ln or "Unsupported" in ln]
        first = (lines[0] if lines else str(exc).strip().splitlines()[-1])[:300]
        raise CheckpointError(f"{path}: refused: not a weights-only checkpoint (it holds Python objects that "
                              f"would run code when loaded: {first}). Evaluation loads tensors only.") from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: cannot read as a torch checkpoint ({type(exc).__name__}: {exc})") from None
