"""The LLM client against a real (fake) OpenAI-compatible server over HTTP, the store and replay."""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import socket

import pytest

from generator.codegen.llm import ChatRequest, ChatResponse, LLMError, OpenAIChatClient, PriceTable
from generator.codegen.response_store import RecordingClient, ReplayClient, ReplayMissError, ResponseStore
from v2p_envs.errors import V2PError

from .openai_server import LLAMA_CPP_N_MESSAGE

MESSAGES = (("system", "You write task code."), ("user", "push the cube left"))
#: The key of ``FIXED_REQUEST``: keys address stored runs, so they must never drift.
FIXED_REQUEST = ChatRequest(messages=MESSAGES, model="m", n=4, temperature=0.7, purpose="sample")
FIXED_KEY = "84366ad3a680d733c6705e98c587bed467201158ccc331c6eace14f569e972f9"


def request(n: int = 1, purpose: str = "sample", **kwargs) -> ChatRequest:
    kwargs.setdefault("temperature", 0.7)
    return ChatRequest(messages=MESSAGES, model="fake-model", n=n, purpose=purpose, **kwargs)


def client(server, **kwargs) -> OpenAIChatClient:
    kwargs.setdefault("backoff_s", 0.0)
    kwargs.setdefault("timeout_s", 5.0)
    return OpenAIChatClient(server.base_url, "fake-model", **kwargs)


def replies(count: int) -> list[str]:
    return [f"reply {i}" for i in range(count)]


# -- n, and servers that do not honour it ----------------------------------------------------------

def test_n_honoured_takes_one_request(fake_openai):
    server = fake_openai(replies(3), mode="honour_n")
    response = client(server).complete(request(n=3))
    assert response.texts == ["reply 0", "reply 1", "reply 2"]
    assert response.n_mode == "n" and response.http_requests == 1
    assert len(server.requests) == 1 and server.requests[0]["n"] == 3
    assert server.requests[0]["messages"] == [{"role": r, "content": c} for r, c in MESSAGES]
    assert server.requests[0]["temperature"] == 0.7
    assert response.model == "fake-model" and response.key == request(n=3).key()


def test_ignore_n_fills_with_parallel_requests_and_remembers(fake_openai, caplog):
    server = fake_openai(replies(7), mode="ignore_n")
    llm = client(server)
    with caplog.at_level(logging.WARNING, logger="generator.codegen.llm"):
        first = llm.complete(request(n=4))
    assert len(first.texts) == 4 and sorted(first.texts) == [f"reply {i}" for i in range(4)]
    assert first.n_mode == "parallel" and first.http_requests == 4  # 1 with n (one choice back) + 3 single
    assert "1 of n=4 choices" in caplog.text
    assert llm.n_honoured is False
    second = llm.complete(request(n=3, purpose="again"))
    assert second.n_mode == "parallel" and second.http_requests == 3 and len(second.texts) == 3
    # The second call never sent n: it went to single requests straight away.
    assert [("n" in body) for body in server.requests] == [True] + [False] * 6


def test_refuse_n_like_llama_cpp_falls_back(fake_openai, caplog):
    server = fake_openai(replies(3), mode="refuse_n")
    llm = client(server)
    with caplog.at_level(logging.WARNING, logger="generator.codegen.llm"):
        response = llm.complete(request(n=3))
    assert LLAMA_CPP_N_MESSAGE in caplog.text
    assert sorted(response.texts) == ["reply 0", "reply 1", "reply 2"]
    assert response.n_mode == "parallel" and response.http_requests == 4  # the refused one + 3
    assert server.statuses[0] == 400 and server.statuses[1:] == [200, 200, 200]
    assert llm.n_honoured is False


def test_a_4xx_not_about_n_is_not_retried(fake_openai):
    server = fake_openai(replies(1), fail_first=[401])
    with pytest.raises(LLMError, match="refused the request: HTTP 401") as info:
        client(server).complete(request(n=2))
    assert server.base_url in str(info.value) and len(server.requests) == 1


# -- retries, timeouts ---------------------------------------------------------------------------

def test_429_twice_then_success_is_retried_counted_and_logged(fake_openai, caplog):
    server = fake_openai(replies(2), fail_first=[429, 429])
    with caplog.at_level(logging.WARNING, logger="generator.codegen.llm"):
        response = client(server).complete(request(n=2))
    assert response.texts == ["reply 0", "reply 1"]
    assert response.http_requests == 3 and response.n_mode == "n"
    assert server.statuses == [429, 429, 200]
    retries = [r for r in caplog.records if "retry" in r.getMessage()]
    assert len(retries) == 2 and "HTTP 429" in retries[0].getMessage()


def test_429_in_parallel_fallback_is_counted(fake_openai):
    server = fake_openai(replies(2), mode="refuse_n", fail_first=[429])
    response = client(server, max_parallel=1).complete(request(n=2))
    # 429, then the n=2 request refused, then two single requests.
    assert server.statuses == [429, 400, 200, 200]
    assert response.http_requests == 4 and response.n_mode == "parallel"


def test_persistent_500_is_an_llm_error_naming_the_endpoint(fake_openai):
    server = fake_openai(replies(1), fail_first=[500] * 10)
    with pytest.raises(LLMError) as info:
        client(server, max_retries=2).complete(request())
    message = str(info.value)
    assert server.base_url in message and "fake-model" in message and "HTTP 500" in message
    assert "failed 3 time(s)" in message and len(server.requests) == 3


def test_timeout_is_retried_then_an_llm_error(fake_openai):
    server = fake_openai(replies(5), delay_s=2.0)
    with pytest.raises(LLMError, match="timed out after 0.2s") as info:
        client(server, timeout_s=0.2, max_retries=1).complete(request())
    assert server.base_url in str(info.value) and len(server.requests) == 2


def test_connection_refused_is_an_llm_error(fake_openai):
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        base_url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    llm = OpenAIChatClient(base_url, "fake-model", max_retries=1, backoff_s=0.0, timeout_s=2.0)
    with pytest.raises(LLMError, match="connection error") as info:
        llm.complete(request())
    assert base_url in str(info.value) and "failed 2 time(s)" in str(info.value)


def test_running_out_of_fixture_replies_fails_loudly(fake_openai):
    server = fake_openai(replies(1))
    llm = client(server, max_retries=0)
    llm.complete(request())
    with pytest.raises(LLMError, match="ran out of replies"):
        llm.complete(request(purpose="more"))


# -- content, usage, cost, configuration -----------------------------------------------------------

def test_null_content_becomes_empty_text(fake_openai):
    server = fake_openai([None, "ok"])
    response = client(server).complete(request(n=2))
    assert response.texts == ["", "ok"]


def test_usage_is_summed_and_priced(fake_openai):
    server = fake_openai(["one two three", "four five", "six"], mode="ignore_n", prompt_tokens=100)
    response = client(server, price=PriceTable.parse("2.5,10")).complete(request(n=3))
    assert response.usage == {"prompt_tokens": 300, "completion_tokens": 6, "total_tokens": 306}
    assert response.cost_usd == pytest.approx((300 * 2.5 + 6 * 10) / 1e6)


def test_cost_is_none_without_a_price_table(fake_openai):
    server = fake_openai(replies(1))
    assert client(server).complete(request()).cost_usd is None


def test_price_table_parse():
    assert PriceTable.parse("2.5,10") == PriceTable(prompt=2.5, completion=10.0)
    assert PriceTable.parse(" 0 , 0.15 ") == PriceTable(prompt=0.0, completion=0.15)
    for bad in ("2.5", "a,b", "1,2,3", "-1,2", "nan,1"):
        with pytest.raises(V2PError, match="USD per 1M tokens"):
            PriceTable.parse(bad)
    parser = argparse.ArgumentParser(exit_on_error=False)
    parser.add_argument("--price", type=PriceTable.parse)
    assert parser.parse_args(["--price", "1,2"]).price == PriceTable(1.0, 2.0)
    with pytest.raises(argparse.ArgumentError, match="PROMPT,COMPLETION"):
        parser.parse_args(["--price", "cheap"])


def test_missing_api_key_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(V2PError, match="OPENAI_API_KEY=none"):
        OpenAIChatClient("http://127.0.0.1:9/v1", "fake-model")
    assert OpenAIChatClient("http://127.0.0.1:9/v1", "m", api_key="explicit").model == "m"


# -- keys ------------------------------------------------------------------------------------------

def test_request_key_is_fixed_and_stable_across_processes():
    # sha256 of a canonical JSON: no hash randomisation, no dict order, no float formatting drift.
    assert FIXED_REQUEST.key() == FIXED_KEY
    canonical = ('{"max_tokens":null,"messages":[["system","You write task code."],["user","push the cube left"]],'
                 '"model":"m","n":4,"purpose":"sample","temperature":0.7}')
    assert hashlib.sha256(canonical.encode()).hexdigest() == FIXED_KEY


def test_request_key_changes_with_every_field():
    base = request(n=2)
    variants = [
        request(n=2, purpose="regenerate:3:1"),
        request(n=2, temperature=0.8),
        request(n=3),
        request(n=2, max_tokens=512),
        ChatRequest(messages=MESSAGES[:1], model="fake-model", n=2, temperature=0.7, purpose="sample"),
        ChatRequest(messages=MESSAGES, model="other", n=2, temperature=0.7, purpose="sample"),
    ]
    keys = {base.key()} | {v.key() for v in variants}
    assert len(keys) == len(variants) + 1
    # Lists and ints normalise to the same request as tuples and floats.
    same = ChatRequest(messages=[list(m) for m in MESSAGES], model="fake-model", n=2, temperature=0.7,
                       purpose="sample")
    assert same.key() == base.key() and same == base
    assert request(temperature=1).key() == request(temperature=1.0).key()
    assert ChatRequest.from_json(base.to_json()) == base


# -- store, recording, replay ----------------------------------------------------------------------

def test_recording_client_stores_and_does_not_ask_twice(fake_openai, tmp_path):
    server = fake_openai(replies(2))
    store = ResponseStore.for_run(tmp_path)
    recording = RecordingClient(client(server), store)
    assert recording.backend == "openai" and recording.model == "fake-model"
    first = recording.complete(request(n=2))
    assert store.keys() == [request(n=2).key()]
    assert (tmp_path / "llm" / f"{request(n=2).key()}.json").is_file()
    second = recording.complete(request(n=2))
    assert len(server.requests) == 1
    assert second == first
    assert not [p for p in (tmp_path / "llm").iterdir() if p.suffix != ".json"]  # no tmp files left


def test_replay_reproduces_the_stored_response_byte_for_byte(fake_openai, tmp_path):
    server = fake_openai(["a", None, "c"], mode="ignore_n", fail_first=[429])
    recorded = ResponseStore.for_run(tmp_path / "recorded")
    original = RecordingClient(client(server), recorded).complete(request(n=3))
    server.stop()  # no endpoint from here on

    replay = ReplayClient(recorded)
    assert replay.backend == "replay"
    replayed = replay.complete(request(n=3))
    assert replayed == original
    stored_path = recorded.path(request(n=3).key())
    stored_bytes = stored_path.read_bytes()
    assert json.dumps(replayed.to_json(), sort_keys=True, indent=1) == json.dumps(
        json.loads(stored_bytes)["response"], sort_keys=True, indent=1)
    # Re-recording the replay into a fresh run folder gives the very same bytes.
    again = ResponseStore.for_run(tmp_path / "again")
    RecordingClient(replay, again).complete(request(n=3))
    assert again.path(request(n=3).key()).read_bytes() == stored_bytes
    assert ChatResponse.from_json(original.to_json()) == original


def test_replay_miss_names_the_key_purpose_and_folder(tmp_path):
    store = ResponseStore.for_run(tmp_path)
    missing = request(n=2, purpose="regenerate:3:1")
    with pytest.raises(ReplayMissError) as info:
        ReplayClient(store).complete(missing)
    message = str(info.value)
    assert missing.key() in message and "regenerate:3:1" in message and str(tmp_path / "llm") in message


def test_a_corrupt_or_mismatched_store_file_is_a_clear_error(tmp_path):
    store = ResponseStore.for_run(tmp_path)
    req = request()
    response = ChatResponse(texts=["x"], model="m", usage={"prompt_tokens": 1, "completion_tokens": 1,
                                                           "total_tokens": 2},
                            cost_usd=None, http_requests=1, seconds=0.1, key=req.key(), n_mode="n")
    path = store.put(req, response)
    assert store.get(req) == response
    data = json.loads(path.read_text())
    data["request"]["purpose"] = "edited"
    path.write_text(json.dumps(data))
    with pytest.raises(V2PError, match="does not match key"):
        store.get(req)
    path.write_text("{not json")
    with pytest.raises(V2PError, match=str(path.name)):
        store.get(req)
