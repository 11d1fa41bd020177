"""The evaluator <-> policy wire: length-prefixed frames of raw arrays and small JSON headers.

No pickle crosses: a frame is 4 bytes of header length, a JSON header (``{"kind": ..., "dtype":
"float32", "shape": [...]}``), then the array's raw bytes. The evaluator reads with a deadline,
so a policy that stops answering costs it at most that long.
"""
from __future__ import annotations

import json
import math
import os
import select
import struct
import time
from typing import Any, BinaryIO

import numpy as np

__all__ = ["send", "receive", "WireError", "WireTimeout"]

_DTYPES = {"float32": np.float32, "bool": np.bool_, "int64": np.int64}
_MAX_HEADER = 4096
_MAX_PAYLOAD = 256 * 2**20


class WireError(Exception):
    """A frame that breaks the protocol, or a closed pipe."""


class WireTimeout(WireError):
    """No frame within the deadline."""


def send(stream: BinaryIO, kind: str, array: np.ndarray | None = None, **extra: Any) -> None:
    header: dict[str, Any] = {"kind": kind, **extra}
    payload = b""
    if array is not None:
        array = np.ascontiguousarray(array)
        dtype = next((name for name, t in _DTYPES.items() if array.dtype == t), None)
        if dtype is None:
            raise WireError(f"arrays on the wire are {list(_DTYPES)}, got {array.dtype}")
        header.update(dtype=dtype, shape=list(array.shape))
        payload = array.tobytes()
    raw = json.dumps(header).encode()
    stream.write(struct.pack("<I", len(raw)) + raw + payload)
    stream.flush()


def _read_exact(stream: BinaryIO, n: int, deadline: float | None) -> bytes:
    chunks, got = [], 0
    fd = stream.fileno()
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise WireTimeout(f"no answer within the deadline ({got} of {n} bytes)")
        chunk = os.read(fd, n - got)
        if not chunk:
            raise WireError("the other side closed the pipe")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def receive(stream: BinaryIO, timeout_s: float | None = None,
            max_payload: int = _MAX_PAYLOAD) -> tuple[dict[str, Any], np.ndarray | None]:
    """The next frame's header and array (None for a header-only frame). ``max_payload``: the
    largest array the reader expects (the evaluator knows the size of an answer: a frame that
    claims more is refused before its bytes are read, so a policy cannot make it buffer them)."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    (length,) = struct.unpack("<I", _read_exact(stream, 4, deadline))
    if length > _MAX_HEADER:
        raise WireError(f"header of {length} bytes (at most {_MAX_HEADER})")
    raw = _read_exact(stream, length, deadline)
    try:
        header = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep
        raise WireError("header is not JSON") from None
    if not isinstance(header, dict) or "kind" not in header:
        raise WireError("header without a kind")
    if "dtype" not in header:
        return header, None
    dtype = _DTYPES.get(header["dtype"]) if isinstance(header["dtype"], str) else None
    shape = header.get("shape")
    if dtype is None or not isinstance(shape, list) or not all(isinstance(s, int) and s >= 0 for s in shape):
        raise WireError("bad array header (dtype or shape)")
    size = math.prod(shape) * np.dtype(dtype).itemsize  # Python integers: a huge shape cannot wrap around
    if size > min(max_payload, _MAX_PAYLOAD):
        raise WireError(f"array of {size} bytes (at most {min(max_payload, _MAX_PAYLOAD)})")
    return header, np.frombuffer(_read_exact(stream, size, deadline), dtype=dtype).reshape(shape)
