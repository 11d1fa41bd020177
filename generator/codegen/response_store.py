"""Every request and response of a generation, stored content-addressed; recording and replay.

``<run_dir>/llm/<key>.json`` holds ``{"request": ..., "response": ...}`` with the request's
``ChatRequest.key()`` as its name. ``RecordingClient`` stores what an endpoint answered (and
answers a known request from the store); ``ReplayClient`` answers only from the store, so a
recorded generation is reproduced byte for byte with no endpoint.
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

from v2p_envs.errors import V2PError

from .llm import ChatClient, ChatRequest, ChatResponse

__all__ = ["STORE_DIRNAME", "ResponseStore", "RecordingClient", "ReplayClient", "ReplayMissError"]

log = logging.getLogger(__name__)

#: The store's folder inside a run folder.
STORE_DIRNAME = "llm"


class ReplayMissError(V2PError):
    """Replay has no recorded response for a request; the message names its key, purpose and the run folder."""


class ResponseStore:
    """Content-addressed: ``<folder>/<key>.json`` holds ``{"request": ..., "response": ...}``.

    ``folder`` is the store folder itself, by convention ``<run_dir>/llm`` (see ``for_run``).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    @classmethod
    def for_run(cls, run_dir: Path) -> ResponseStore:
        return cls(Path(run_dir) / STORE_DIRNAME)

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def get(self, request: ChatRequest) -> ChatResponse | None:
        key = request.key()
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            stored_request, stored_response = data["request"], data["response"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise V2PError(f"{path}: expected a stored LLM exchange {{'request': ..., 'response': ...}} "
                           f"({exc}); delete it to ask the endpoint again") from exc
        if stored_request != request.to_json():
            raise V2PError(f"{path}: the stored request does not match key {key} (edited by hand?); "
                           "delete it to ask the endpoint again")
        return ChatResponse.from_json(stored_response)

    def put(self, request: ChatRequest, response: ChatResponse) -> Path:
        """Atomic (tmp file, then rename) and stable JSON, so that a replayed store is byte-for-byte equal."""
        key = request.key()
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.path(key)
        text = json.dumps({"request": request.to_json(), "response": response.to_json()},
                          sort_keys=True, indent=1, ensure_ascii=False) + "\n"
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{key}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def keys(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(p.stem for p in self.folder.glob("*.json") if not p.name.startswith("."))


class RecordingClient:
    """Stored response if the key is known (no endpoint call), else the inner client's, stored."""

    def __init__(self, inner: ChatClient, store: ResponseStore) -> None:
        self.inner = inner
        self.store = store
        self.backend = inner.backend
        self.model = inner.model

    def complete(self, request: ChatRequest) -> ChatResponse:
        stored = self.store.get(request)
        if stored is not None:
            log.debug("%s: %s from the store", request.purpose or "chat", request.key())
            return stored
        response = self.inner.complete(request)
        self.store.put(request, response)
        return response


class ReplayClient:
    """No endpoint: the recorded response of each request, or ReplayMissError naming its key."""

    backend = "replay"

    def __init__(self, store: ResponseStore, model: str = "replay") -> None:
        self.store = store
        self.model = model

    def complete(self, request: ChatRequest) -> ChatResponse:
        response = self.store.get(request)
        if response is None:
            key = request.key()
            raise ReplayMissError(
                f"replay: no recorded response {key} (purpose {request.purpose!r}, model {request.model!r}) "
                f"in {self.store.folder}; replay needs the run folder of a generation recorded with the same "
                f"prompts and settings ({len(self.store.keys())} response(s) stored there)")
        return response
