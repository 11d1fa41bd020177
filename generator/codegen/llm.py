"""Chat completions from any OpenAI-compatible endpoint, recorded so that a run can be replayed.

Servers differ on ``n`` (vLLM and SGLang honour it, llama.cpp refuses ``n > 1``, Ollama silently
returns one choice), so the client asks once with ``n`` and fills what is missing with parallel
single requests, remembering per client that ``n`` is not honoured. Every request and response is
stored content-addressed under the run folder by ``response_store`` (``<run_dir>/llm/<key>.json``),
which is what lets ``--backend replay`` reproduce a generation exactly with no endpoint at all.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from v2p_envs.errors import V2PError

__all__ = ["ChatClient", "ChatRequest", "ChatResponse", "LLMError", "OpenAIChatClient", "PriceFormatError",
           "PriceTable"]

log = logging.getLogger(__name__)

_USAGE_FIELDS = ("prompt_tokens", "completion_tokens", "total_tokens")
_N_MODES = ("n", "parallel")
#: A 4xx that says the server does not do ``n > 1`` (llama.cpp: "Only one completion choice is allowed").
_N_REFUSAL = re.compile(r"\bn\b|choice", re.IGNORECASE)
#: The longest a server's Retry-After is obeyed, so that a hostile header cannot stall a run.
_MAX_RETRY_AFTER_S = 120.0


class LLMError(V2PError):
    """The endpoint failed for good (after the retries); the message names base_url, model and the last error."""


class PriceFormatError(V2PError, argparse.ArgumentTypeError):
    """A price table that is not ``PROMPT,COMPLETION``; an ArgumentTypeError too, so argparse shows the message."""


# -- request and response ------------------------------------------------------------------------

@dataclass(frozen=True)
class ChatRequest:
    """One chat completion asked for; its key addresses the stored response, so every field counts."""

    messages: tuple[tuple[str, str], ...]
    model: str
    n: int = 1
    temperature: float = 1.0
    max_tokens: int | None = None
    purpose: str = ""

    def __post_init__(self) -> None:
        # Normalised so that lists and tuples, 1 and 1.0 give the same key.
        try:
            messages = tuple((str(role), str(content)) for role, content in self.messages)
        except (TypeError, ValueError) as exc:
            raise V2PError(f"ChatRequest.messages: expected (role, content) pairs, got {self.messages!r}") from exc
        object.__setattr__(self, "messages", messages)
        if not isinstance(self.n, int) or isinstance(self.n, bool) or self.n < 1:
            raise V2PError(f"ChatRequest.n: expected an integer >= 1, got {self.n!r}")
        if self.max_tokens is not None and (not isinstance(self.max_tokens, int) or self.max_tokens < 1):
            raise V2PError(f"ChatRequest.max_tokens: expected None or an integer >= 1, got {self.max_tokens!r}")
        object.__setattr__(self, "temperature", float(self.temperature))

    def to_json(self) -> dict[str, Any]:
        return {
            "messages": [[role, content] for role, content in self.messages],
            "model": self.model,
            "n": self.n,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "purpose": self.purpose,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChatRequest:
        try:
            return cls(messages=tuple(tuple(m) for m in data["messages"]), model=data["model"], n=data["n"],
                       temperature=data["temperature"], max_tokens=data["max_tokens"], purpose=data["purpose"])
        except (KeyError, TypeError) as exc:
            raise V2PError(f"a stored request: expected the fields of ChatRequest.to_json(), got {data!r}") from exc

    def key(self) -> str:
        """sha256 of the canonical JSON: stable across processes and Python versions."""
        canonical = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return hashlib.sha256(canonical.encode("ascii")).hexdigest()


@dataclass
class ChatResponse:
    """The ``n`` texts of one request and what they cost (tokens summed over HTTP requests)."""

    texts: list[str]
    model: str
    usage: dict[str, int]
    cost_usd: float | None
    http_requests: int
    seconds: float
    key: str
    n_mode: str

    def to_json(self) -> dict[str, Any]:
        return {
            "texts": list(self.texts),
            "model": self.model,
            "usage": {k: int(v) for k, v in self.usage.items()},
            "cost_usd": self.cost_usd,
            "http_requests": self.http_requests,
            "seconds": self.seconds,
            "key": self.key,
            "n_mode": self.n_mode,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChatResponse:
        expected = ("texts", "model", "usage", "cost_usd", "http_requests", "seconds", "key", "n_mode")
        if not isinstance(data, dict) or any(name not in data for name in expected):
            missing = [n for n in expected if not isinstance(data, dict) or n not in data]
            raise V2PError(f"a stored response: expected the fields {', '.join(expected)}; missing {missing}")
        texts = data["texts"]
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise V2PError(f"a stored response: expected 'texts' to be a list of strings, got {texts!r}")
        if data["n_mode"] not in _N_MODES:
            raise V2PError(f"a stored response: expected 'n_mode' in {_N_MODES}, got {data['n_mode']!r}")
        return cls(texts=list(texts), model=str(data["model"]), usage={k: int(v) for k, v in data["usage"].items()},
                   cost_usd=None if data["cost_usd"] is None else float(data["cost_usd"]),
                   http_requests=int(data["http_requests"]), seconds=float(data["seconds"]), key=str(data["key"]),
                   n_mode=data["n_mode"])


class ChatClient(Protocol):
    """What the generation loop needs: ``complete`` returns exactly ``request.n`` texts."""

    backend: str
    model: str

    def complete(self, request: ChatRequest) -> ChatResponse: ...


@dataclass(frozen=True)
class PriceTable:
    """USD per 1M tokens, so that a run record can state its cost."""

    prompt: float
    completion: float

    @classmethod
    def parse(cls, text: str) -> PriceTable:
        """``"2.5,10"`` -> prompt 2.5, completion 10 (usable as an argparse ``type``)."""
        parts = [p.strip() for p in str(text).split(",")]
        try:
            if len(parts) != 2:
                raise ValueError
            prompt, completion = float(parts[0]), float(parts[1])
        except ValueError:
            raise PriceFormatError(f"expected a price as PROMPT,COMPLETION in USD per 1M tokens (e.g. 2.5,10), "
                                   f"got {text!r}") from None
        if not all(math.isfinite(v) and v >= 0 for v in (prompt, completion)):
            raise PriceFormatError(f"expected finite, non-negative prices in USD per 1M tokens, got {text!r}")
        return cls(prompt=prompt, completion=completion)

    def cost(self, usage: dict[str, int]) -> float:
        return (usage.get("prompt_tokens", 0) * self.prompt + usage.get("completion_tokens", 0) * self.completion) / 1e6


# -- the OpenAI-compatible client ----------------------------------------------------------------

class _NRefusedError(Exception):
    """The server answered a request with ``n > 1`` by a 4xx about ``n``/choices."""


@dataclass
class _Result:
    """What one successful HTTP call brought."""

    texts: list[str]
    model: str
    usage: dict[str, int]


@dataclass
class _Tally:
    """Attempts counted across the retries of one ``complete`` call (failed tries included)."""

    attempts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, k: int = 1) -> None:
        with self.lock:
            self.attempts += k


class OpenAIChatClient:
    """Any OpenAI-compatible endpoint through the ``openai`` package, with our own logged retries."""

    backend = "openai"

    def __init__(self, base_url: str | None, model: str, api_key: str | None = None, timeout_s: float = 120.0,
                 max_retries: int = 4, backoff_s: float = 1.0, max_parallel: int = 8,
                 price: PriceTable | None = None) -> None:
        try:
            import openai
        except ImportError as exc:
            raise V2PError("the openai backend needs the openai package: pip install -e .[llm]") from exc
        if api_key is None:
            api_key = os.environ.get("OPENAI_API_KEY") or None
        if not api_key:
            raise V2PError("no API key for the openai backend: set OPENAI_API_KEY (for a local server any string "
                           "works, e.g. OPENAI_API_KEY=none)")
        if max_retries < 0 or backoff_s < 0 or timeout_s <= 0 or max_parallel < 1:
            raise V2PError(f"OpenAIChatClient: expected max_retries >= 0, backoff_s >= 0, timeout_s > 0 and "
                           f"max_parallel >= 1, got {max_retries}, {backoff_s}, {timeout_s}, {max_parallel}")
        self._openai = openai
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=timeout_s)
        self.base_url = base_url or str(self._client.base_url)
        self.model = model
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_parallel = max_parallel
        self.price = price
        #: None until a request with n > 1 shows whether the server honours it.
        self.n_honoured: bool | None = None

    def complete(self, request: ChatRequest) -> ChatResponse:
        start = time.monotonic()
        tally = _Tally()
        results: list[_Result] = []
        n_mode = "n"
        if request.n == 1:
            results.append(self._call(request, 1, tally))
        else:
            first: _Result | None = None
            if self.n_honoured is not False:
                try:
                    first = self._call(request, request.n, tally)
                except _NRefusedError as exc:
                    log.warning("%s (%s) refuses n=%d (%s): parallel single requests from now on",
                                self.base_url, self.model, request.n, exc)
                    self.n_honoured = False
            if first is not None and len(first.texts) >= request.n:
                if len(first.texts) > request.n:
                    log.warning("%s returned %d choices for n=%d: keeping the first %d",
                                self.base_url, len(first.texts), request.n, request.n)
                    first.texts = first.texts[:request.n]
                self.n_honoured = True
                results.append(first)
            else:
                if first is not None:
                    log.warning("%s (%s) returned %d of n=%d choices: filling with parallel single requests, "
                                "and asking one at a time from now on", self.base_url, self.model,
                                len(first.texts), request.n)
                    self.n_honoured = False
                    results.append(first)
                n_mode = "parallel"
                have = sum(len(r.texts) for r in results)
                results.extend(self._parallel(request, request.n - have, tally))
        texts = [t for r in results for t in r.texts]
        usage = {name: sum(r.usage.get(name, 0) for r in results) for name in _USAGE_FIELDS}
        response = ChatResponse(
            texts=texts, model=results[0].model, usage=usage,
            cost_usd=self.price.cost(usage) if self.price is not None else None,
            http_requests=tally.attempts, seconds=time.monotonic() - start, key=request.key(), n_mode=n_mode)
        log.info("%s: %d text(s) from %s in %d HTTP request(s), %.2fs, %d tokens (%s)", request.purpose or "chat",
                 len(texts), response.model, response.http_requests, response.seconds, usage["total_tokens"], n_mode)
        return response

    def _parallel(self, request: ChatRequest, count: int, tally: _Tally) -> list[_Result]:
        if count <= 0:
            return []
        pool = ThreadPoolExecutor(max_workers=min(self.max_parallel, count), thread_name_prefix="v2p-llm")
        try:
            futures = [pool.submit(self._call, request, 1, tally) for _ in range(count)]
            return [f.result() for f in futures]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _call(self, request: ChatRequest, n: int, tally: _Tally) -> _Result:
        """One HTTP call with ``n`` choices, retried on rate limits, connection errors, timeouts and 5xx."""
        openai = self._openai
        kwargs: dict[str, Any] = {
            "model": request.model or self.model,
            "messages": [{"role": role, "content": content} for role, content in request.messages],
            "temperature": request.temperature,
        }
        if n > 1:
            kwargs["n"] = n  # omitted for one: some servers reject the parameter altogether
        if request.max_tokens is not None:
            kwargs["max_tokens"] = request.max_tokens
        last: Exception | None = None
        for attempt in range(self.max_retries + 1):
            tally.add()
            try:
                completion = self._client.chat.completions.create(**kwargs)
            except openai.APIStatusError as exc:
                status = exc.status_code
                text = f"HTTP {status}: {_error_text(exc)}"
                if n > 1 and 400 <= status < 500 and status != 429 and _N_REFUSAL.search(_error_text(exc)):
                    raise _NRefusedError(text) from exc
                if not (status in (408, 429) or status >= 500 or "rate limit" in text.lower()):
                    raise LLMError(f"{self.base_url} (model {kwargs['model']}) refused the request: {text}") from exc
                last = exc
                wait = max(self._backoff(attempt), _retry_after(exc))
            except openai.APIConnectionError as exc:  # includes APITimeoutError
                text = (f"timed out after {self.timeout_s:g}s" if isinstance(exc, openai.APITimeoutError)
                        else f"connection error: {exc.__cause__ or exc}")
                last = exc
                wait = self._backoff(attempt)
            except (openai.APIError, ValueError) as exc:  # ValueError: a 200 whose body is not JSON
                raise LLMError(f"{self.base_url} (model {kwargs['model']}) sent an answer that is not a chat "
                               f"completion: {exc}") from exc
            else:
                return self._result(completion, n, kwargs["model"])
            if attempt < self.max_retries:
                log.warning("%s (%s): %s; retry %d/%d in %.2fs", self.base_url, kwargs["model"], text,
                            attempt + 1, self.max_retries, wait)
                if wait > 0:
                    time.sleep(wait)
            else:
                log.error("%s (%s): %s; giving up after %d tries", self.base_url, kwargs["model"], text, attempt + 1)
        raise LLMError(f"{self.base_url} (model {kwargs['model']}) failed {self.max_retries + 1} time(s); "
                       f"last error: {text}") from last

    def _backoff(self, attempt: int) -> float:
        return self.backoff_s * 2 ** attempt

    def _result(self, completion: Any, n: int, model: str) -> _Result:
        choices = list(getattr(completion, "choices", None) or [])
        if all(isinstance(getattr(c, "index", None), int) for c in choices):
            choices.sort(key=lambda c: c.index)
        texts: list[str] = []
        for choice in choices:
            content = getattr(getattr(choice, "message", None), "content", None)
            if not isinstance(content, str):
                # A refusal or a tool call: the generation loop records it as unparsable.
                log.warning("%s: a choice without text content (finish_reason %r)", self.base_url,
                            getattr(choice, "finish_reason", None))
                content = ""
            texts.append(content)
        if not texts and n == 1:
            raise LLMError(f"{self.base_url} (model {model}) answered with no choices")
        usage_obj = getattr(completion, "usage", None)
        usage = {name: int(getattr(usage_obj, name, 0) or 0) for name in _USAGE_FIELDS}
        if not usage["total_tokens"]:
            usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        return _Result(texts=texts, model=str(getattr(completion, "model", None) or model), usage=usage)


def _error_text(exc: Any) -> str:
    """The server's own message (``{"error": {"message": ...}}``), else the exception's."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return inner["message"]
        if isinstance(inner, str):
            return inner
    return str(getattr(exc, "message", None) or exc)


def _retry_after(exc: Any) -> float:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        seconds = float(value) if value is not None else 0.0
    except ValueError:
        return 0.0
    return min(max(seconds, 0.0), _MAX_RETRY_AFTER_S) if math.isfinite(seconds) else 0.0
