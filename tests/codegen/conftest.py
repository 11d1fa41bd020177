"""Fixtures for the codegen tests: fake OpenAI-compatible servers on 127.0.0.1."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .openai_server import FakeOpenAIServer


@pytest.fixture
def fake_openai(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., FakeOpenAIServer]]:
    """A factory: ``fake_openai(replies, mode=..., fail_first=..., delay_s=...)`` -> a started server.

    Every server it starts is stopped after the test; ``OPENAI_API_KEY`` is set to a dummy for it.
    """
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    for name in ("NO_PROXY", "no_proxy"):  # a proxy from the environment must not see 127.0.0.1
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    servers: list[FakeOpenAIServer] = []

    def make(replies: Any, **kwargs: Any) -> FakeOpenAIServer:
        server = FakeOpenAIServer(replies, **kwargs).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
