"""A stdlib fake of an OpenAI-compatible chat server, so the LLM client is tested over real HTTP.

``respx`` does not intercept openai 3.x (it talks through httpx2), and the behaviours worth
testing are those of real servers: vLLM/SGLang honour ``n``, llama.cpp refuses ``n > 1``, Ollama
silently returns one choice, hosted APIs answer 429. This module is a helper the tests import,
not a test file.
"""
from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

__all__ = ["LLAMA_CPP_N_MESSAGE", "MODES", "FakeOpenAIServer", "Reply"]

log = logging.getLogger(__name__)

#: What llama.cpp's server answers (HTTP 400) to a chat request with ``n > 1``.
LLAMA_CPP_N_MESSAGE = "Only one completion choice is allowed"

#: How the server treats ``n``: vLLM/SGLang, Ollama, llama.cpp.
MODES = ("honour_n", "ignore_n", "refuse_n")

#: A reply source: a list served in order (never cycled) or ``(request_body, call_index) -> text``
#: where ``call_index`` counts choices over the server's life (0, 1, 2, ...). ``None`` as a text
#: is served as ``"content": null`` (a refusal or tool call).
Reply = Sequence[str | None] | Callable[[dict[str, Any], int], str | None]

_ERROR_MESSAGES = {
    429: ("Rate limit reached for requests", "rate_limit_error"),
    500: ("The server had an error while processing your request", "server_error"),
    502: ("Bad gateway", "server_error"),
    503: ("The engine is currently overloaded", "server_error"),
}


class _Handler(BaseHTTPRequestHandler):
    server: _Server  # type: ignore[assignment]
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("fake openai: " + format, *args)

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            self._send(200, {"object": "list", "data": [{"id": self.server.owner.model, "object": "model"}]})
        else:
            self._send(404, _error_body(f"no route {self.path}", "not_found"))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send(404, _error_body(f"no route {self.path}", "not_found"))
            return
        try:
            body = json.loads(raw)
        except ValueError as exc:
            self._send(400, _error_body(f"invalid JSON body: {exc}", "invalid_request_error"))
            return
        if not isinstance(body, dict):
            self._send(400, _error_body("the body is not a JSON object", "invalid_request_error"))
            return
        owner = self.server.owner
        status, payload, headers = owner._answer(body)
        # Interruptible, so that shutting the server down does not wait for a slow reply.
        if status == 200 and owner.delay_s > 0 and owner._stopping.wait(owner.delay_s):
            return
        self._send(status, payload, headers)

    def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (its timeout) before the answer came: that is the test.
            log.debug("fake openai: the client closed the connection before the reply")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: FakeOpenAIServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("fake openai: error while serving %s: %r", client_address, sys.exc_info()[1])


def _error_body(message: str, kind: str, code: int | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": kind}
    if code is not None:
        error["code"] = code
    return {"error": error}


class FakeOpenAIServer:
    """``POST /v1/chat/completions`` on 127.0.0.1 (a free port) in the OpenAI schema.

    ``replies`` are served one per choice; running out is a 500 naming the count, so that a test
    that asks for more than it gave fails loudly instead of silently reusing replies.
    ``fail_first`` status codes answer the first requests (429 with ``Retry-After: 0``).
    ``delay_s`` holds every successful answer back (to test the client's timeout).
    Token usage: ``prompt_tokens`` per request, one completion token per word of each reply.
    ``requests`` holds every JSON body received, answered or failed, in arrival order.
    """

    def __init__(
        self,
        replies: Reply,
        mode: str = "honour_n",
        fail_first: Sequence[int] = (),
        delay_s: float = 0.0,
        model: str = "fake-model",
        prompt_tokens: int = 10,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if not callable(replies) and isinstance(replies, str):
            raise TypeError("replies must be a list of strings or a callable, not one string")
        self.replies = replies
        self.mode = mode
        self.fail_first = list(fail_first)
        self.delay_s = delay_s
        self.model = model
        self.prompt_tokens = prompt_tokens
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self._served = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> Self:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the fake server is not running: use it as a context manager or call start()")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def served(self) -> int:
        """How many replies (choices) have been handed out."""
        return self._served

    # -- answering -----------------------------------------------------------------------------
    def _answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            index = len(self.requests)
            self.requests.append(body)
            status, payload, headers = self._answer_locked(body, index)
            self.statuses.append(status)
            return status, payload, headers

    def _answer_locked(self, body: dict[str, Any], index: int) -> tuple[int, dict[str, Any], dict[str, str]]:
        if index < len(self.fail_first):
            code = self.fail_first[index]
            message, kind = _ERROR_MESSAGES.get(code, (f"fake failure {code}", "fake_error"))
            headers = {"Retry-After": "0"} if code == 429 else {}
            return code, _error_body(message, kind), headers
        n = body.get("n")
        n = 1 if n is None else n
        if not isinstance(n, int) or n < 1:
            return 400, _error_body(f"n must be a positive integer, got {n!r}", "invalid_request_error"), {}
        if self.mode == "refuse_n" and n > 1:
            return 400, _error_body(LLAMA_CPP_N_MESSAGE, "invalid_request_error", code=400), {}
        if self.mode == "ignore_n":
            n = 1
        texts: list[str | None] = []
        for _ in range(n):
            text = self._next_reply(body)
            if isinstance(text, _OutOfReplies):
                return 500, _error_body(text.message, "server_error"), {}
            texts.append(text)
        completion_tokens = sum(len(t.split()) for t in texts if t)
        payload = {
            "id": f"chatcmpl-fake-{index}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [
                {"index": i, "message": {"role": "assistant", "content": t}, "finish_reason": "stop"}
                for i, t in enumerate(texts)
            ],
            "usage": {
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": self.prompt_tokens + completion_tokens,
            },
        }
        return 200, payload, {}

    def _next_reply(self, body: dict[str, Any]) -> str | None | _OutOfReplies:
        call_index = self._served
        if callable(self.replies):
            text = self.replies(body, call_index)
        elif call_index < len(self.replies):
            text = self.replies[call_index]
        else:
            return _OutOfReplies(f"FakeOpenAIServer ran out of replies: the test gave {len(self.replies)} "
                                 f"and the client asked for reply #{call_index + 1}")
        self._served += 1
        return text


class _OutOfReplies:
    def __init__(self, message: str) -> None:
        self.message = message
