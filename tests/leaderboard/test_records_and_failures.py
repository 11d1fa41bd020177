"""What the evaluator lets into a public record, and how it writes one; runs on any host (the
sandbox's own tests are in test_boundary.py, which skips where the host cannot isolate)."""
from __future__ import annotations

import json
import os
import struct
import textwrap

import pytest

from leaderboard.evaluator import EvalSettings, SandboxUnavailable, evaluate_submission
from leaderboard.failures import Failure, Redactor
from leaderboard.records import TaskRecord, read_records, write_record
from leaderboard.submission import private_copy
from leaderboard.wire import WireError, receive
from v2p.cli import main
from v2p_envs import GENERATED_DIR

TASK = "V2P-TipOver-v0"
RANDOM = GENERATED_DIR.parents[1] / "leaderboard" / "entries" / "random"
SEED = 918273645546372


def test_the_redactor_removes_seeds_and_the_seeds_path_in_any_form(tmp_path):
    seeds_file = tmp_path / "board_seeds.txt"
    redactor = Redactor([SEED, 7], [str(seeds_file)])
    text = (f"1{SEED}2 {SEED} {SEED:x} 0x{SEED:X} {''.join(chr(0xFF10 + int(d)) for d in str(SEED))} "
            f"{str(seeds_file).upper()} board_seeds.txt 17 7")
    cleaned = redactor.clean(text, limit=1000)
    assert cleaned == "1[redacted]2 " + "[redacted] " * 5 + "[redacted] 17 [redacted]"  # 7 alone, not in 17
    # the cap comes after the redaction: a seed at the cut is removed whole, not cut into digits
    capped = redactor.clean("x" * 190 + f" {SEED}")
    assert len(capped) == 200 and capped.endswith("x [redac...") and "9182" not in capped
    assert redactor.clean("line\x00one\n\ttwo\u2028three") == "line one two three"
    assert redactor.clean({"not": "text"}) == "(a message that is not text)"


def test_a_failure_is_a_category_and_a_message():
    assert str(Failure("private #1", "crashed", "act", "the worker was killed by SIGKILL")) == \
        "seed private #1: crashed in act: the worker was killed by SIGKILL"
    with pytest.raises(ValueError, match="unknown failure category 'pwned'"):
        Failure("0", "pwned", "act", "")


def _record(**changes) -> TaskRecord:
    fields = dict(submission={"method": "m"}, task=TASK, metric="ground_truth", seeds=[0], episodes=1,
                  per_seed_success=[1.0], per_episode_success=[[True]], mean=1.0, std=0.0, failures=[],
                  wall_time_s=1.0, package_version="0", git_commit=None, date="", machine="", verified=True,
                  isolated=True)
    return TaskRecord(**{**fields, **changes})


def test_records_are_written_whole_or_not_at_all(tmp_path, monkeypatch):
    path = write_record(_record(), tmp_path)
    before = path.read_bytes()
    import leaderboard.records as records

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(records.json, "dumps", broken)
    with pytest.raises(OSError, match="disk full"):
        write_record(_record(mean=0.0), tmp_path)
    monkeypatch.undo()
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    assert oct(path.stat().st_mode & 0o777) == "0o644"


def test_records_from_before_the_sandbox_read_as_not_isolated(tmp_path):
    old = _record().to_json()
    old.pop("isolated")
    (tmp_path / "old.json").write_text(json.dumps({**old, "network_isolated": True,
                                                   "submission": {"method": "m", "file_sha256": {"policy.py": "0"}}}))
    (tmp_path / "oracle.json").write_text(json.dumps({**old, "network_isolated": True,
                                                      "submission": {"method": "o", "file_sha256": {}}}))
    assert [r["isolated"] for r in read_records(tmp_path)] == [False, None]


def test_a_link_to_the_private_seeds_is_refused_and_never_copied(tmp_path):
    seeds = tmp_path / "private" / "seeds.txt"
    seeds.parent.mkdir()
    seeds.write_text(f"{SEED}\n")
    folder = tmp_path / "linked"
    folder.mkdir()
    for name in ("submission.yaml", "policy.py"):
        (folder / name).write_bytes((RANDOM / name).read_bytes())
    (folder / "notes.txt").symlink_to(seeds)
    settings = EvalSettings(episodes=1, seeds=(SEED,), private=True, secret_paths=(str(seeds),))
    record = evaluate_submission(folder, [TASK], settings)[0]
    assert record.status == "refused" and record.failures == ["refused: notes.txt: refused: a symbolic link"]
    assert str(SEED) not in json.dumps(record.to_json())
    (folder / "notes.txt").unlink()
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "policy.cpython-311.pyc").write_bytes(b"bytecode would run instead of the source")
    copy = private_copy(folder, tmp_path / "copy")
    assert sorted(p.name for p in copy.iterdir()) == ["policy.py", "submission.yaml"]


def _frame(header: bytes) -> bytes:
    return struct.pack("<I", len(header)) + header


@pytest.mark.parametrize("frame, words", [
    (_frame(json.dumps({"kind": "actions", "dtype": "float32", "shape": [2**40, 2**40]}).encode()), "array of"),
    (_frame(json.dumps({"kind": "actions", "dtype": "float32", "shape": [2, 7]}).encode()), "at most 8"),
    (_frame(json.dumps({"kind": "actions", "dtype": ["float32"], "shape": [1]}).encode()), "bad array header"),
    (_frame(b"\xff\xfe{}"), "not JSON"),
    (_frame(b"[" * 4000), "not JSON"),
    (b"xxxx", "header of"),
])
def test_the_wire_refuses_frames_it_did_not_ask_for(frame, words):
    read, write = os.pipe()
    os.write(write, frame)
    os.close(write)
    with open(read, "rb") as stream, pytest.raises(WireError, match=words):
        receive(stream, timeout_s=5, max_payload=8)


def test_the_evaluator_refuses_where_the_host_cannot_isolate(tmp_path, monkeypatch, capsys):
    import v2p_envs.untrusted.sandbox as sandbox

    monkeypatch.delenv(sandbox.NO_SANDBOX_VARIABLE, raising=False)
    monkeypatch.setattr(sandbox, "isolation_problem", lambda: "bubblewrap is not installed (test)")
    with pytest.raises(SandboxUnavailable, match="bubblewrap is not installed"):
        evaluate_submission(RANDOM, [TASK], EvalSettings(episodes=1, seeds=(0,)))
    assert main(["leaderboard", "evaluate", str(RANDOM), "--tasks", TASK, "--records", str(tmp_path / "r")]) == 2
    assert "--no-sandbox" in capsys.readouterr().err and not (tmp_path / "r").exists()


def test_no_sandbox_is_explicit_recorded_and_shown_and_keeps_the_environment_clean(tmp_path, monkeypatch, capsys):
    """``--no-sandbox``: the worker runs without the boundary, the record and the site say
    isolated: false; the worker's environment is still its own (no private seeds in it). The
    payload imports os, which the code policy refuses: the check is bypassed in this process."""
    import leaderboard.submission as submission
    import v2p_envs.untrusted.sandbox as sandbox

    monkeypatch.setattr(submission, "check_source", lambda *args, **kwargs: [])
    monkeypatch.setattr(sandbox, "isolation_problem", lambda: "bubblewrap is not installed (test)")
    monkeypatch.setenv("V2P_LEADERBOARD_PRIVATE_SEEDS", str(SEED))
    folder = tmp_path / "env-reader"
    folder.mkdir()
    (folder / "submission.yaml").write_text(f"method: env-reader\nauthors: [test]\ntasks: [{TASK}]\n")
    (folder / "policy.py").write_text(textwrap.dedent("""
        import os
        import torch


        class SubmittedPolicy:
            def __init__(self, weights, spec):
                leaked = sorted(k for k in os.environ if "SEED" in k.upper())
                raise RuntimeError(f"ENV leaked={leaked} " + " ".join(os.environ.values()))
    """))
    records, site = tmp_path / "records", tmp_path / "site"
    assert main(["leaderboard", "evaluate", str(folder), "--tasks", TASK, "--episodes", "1", "--records", str(records),
                 "--no-sandbox"]) == 0
    assert "isolated: false" in capsys.readouterr().out
    (record,) = read_records(records)
    assert record["isolated"] is False and record["seeds"] == "private"
    assert record["failures"][0].startswith("seed private #1: exception in start: RuntimeError: ENV leaked=[] ")
    assert str(SEED) not in json.dumps(record)
    assert main(["leaderboard", "build", str(records), "--out", str(site)]) == 0
    assert "(isolated: false)" in (site / "index.html").read_text()
    assert "<span class='unisolated'>false</span>" in (site / "submission_env-reader.html").read_text()
