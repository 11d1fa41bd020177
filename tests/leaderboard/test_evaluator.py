"""The isolated evaluator against hostile submissions: each is refused or fails its episodes,
is recorded, and touches neither other records nor an honest policy's metric."""
from __future__ import annotations

import json
import textwrap

import pytest

from leaderboard.evaluator import EvalSettings, evaluate_submission
from leaderboard.records import write_records
from leaderboard.submission import SubmissionError
from v2p_envs.untrusted.sandbox import isolation_problem
from v2p_envs import GENERATED_DIR

TASK = "V2P-PushLeft-v0"
FAST = EvalSettings(episodes=2, seeds=(0,), step_timeout_s=3.0, start_timeout_s=120.0, memory_mb=3072)
HONEST = """
import torch


class SubmittedPolicy:
    def __init__(self, weights, spec):
        self.scale = weights["scale"] if "scale" in weights else torch.tensor(0.5)

    def reset(self, env_ids):
        pass

    def act(self, obs):
        actions = torch.zeros(obs.shape[0], 7)
        actions[:, 1] = self.scale  # push towards +y
        return actions
"""


def make_submission(root, name, policy=HONEST, extra_files=None, weights=True):
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "submission.yaml").write_text(f"method: {name}\nauthors: [test]\ntasks: [{TASK}]\n")
    (folder / "policy.py").write_text(textwrap.dedent(policy))
    if weights:
        import torch
        from safetensors.torch import save_file

        save_file({"scale": torch.tensor(0.5)}, str(folder / "policy.safetensors"))
    for rel, data in (extra_files or {}).items():
        (folder / rel).write_bytes(data)
    return folder


def _act(body: str) -> str:
    return HONEST.replace("        actions = torch.zeros(obs.shape[0], 7)\n", body)


HOSTILE = {
    "reads_outside": (HONEST.replace("self.scale = ", "self.secret = open('/etc/hostname').read()\n        self.scale = "),
                      "refused", "open"),
    "imports_ground_truth": ("from v2p_envs.ground_truth import GROUND_TRUTH\n" + HONEST, "refused", "v2p_envs"),
    "patches_evaluator": ("import leaderboard.evaluator as ev\n" + HONEST, "refused", "leaderboard"),
    "sleeps_forever": (_act("        while True:\n            pass\n"), "evaluated", "no answer"),
    "allocates": (_act("        big = torch.ones(2 ** 34)\n        actions = torch.zeros(obs.shape[0], 7)\n"),
                  "evaluated", "act"),
    "nan_actions": (_act("        actions = torch.full((obs.shape[0], 7), float('nan'))\n"), "evaluated", "NaN"),
    "wrong_shape": (_act("        actions = torch.zeros(obs.shape[0], 6)\n"), "evaluated", "shape"),
}


@pytest.fixture(scope="module")
def honest(tmp_path_factory):
    root = tmp_path_factory.mktemp("subs")
    folder = make_submission(root, "honest")
    return folder, evaluate_submission(folder, [TASK], FAST)[0]


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_submissions_are_contained(name, honest, tmp_path):
    policy, status, words = HOSTILE[name]
    records_dir = tmp_path / "records"
    honest_path = write_records([honest[1]], records_dir)[0]
    before = honest_path.read_bytes()
    record = evaluate_submission(make_submission(tmp_path, name, policy), [TASK], FAST)[0]
    assert record.status == status and record.mean == 0.0, record
    assert any(words in f for f in record.failures), record.failures
    write_records([record], records_dir)
    assert honest_path.read_bytes() == before  # other records untouched
    again = evaluate_submission(honest[0], [TASK], FAST)[0]  # and the honest metric unchanged
    assert again.per_episode_success == honest[1].per_episode_success


def test_pickled_weights_are_refused_and_never_loaded(tmp_path):
    import pickle

    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            import os
            return (os.system, (f"touch {marker}",))

    folder = make_submission(tmp_path, "pickled", extra_files={"weights.pt": pickle.dumps(Payload())})
    record = evaluate_submission(folder, [TASK], FAST)[0]
    assert record.status == "refused" and "weights.pt" in record.failures[0] and not marker.exists()


def test_the_same_submission_and_seeds_give_the_same_record(honest):
    folder, first = honest
    second = evaluate_submission(folder, [TASK], FAST)[0]
    # besides times and date: the commit too, which moves when a commit lands between the two runs
    keep = lambda r: {k: v for k, v in r.to_json().items() if k not in ("wall_time_s", "date", "git_commit")}  # noqa: E731
    assert keep(first) == keep(second)
    assert first.isolated is (isolation_problem() is None) and first.verified and first.seeds == [0]
    assert set(first.submission["file_sha256"]) == {"policy.py", "policy.safetensors", "submission.yaml"}


def test_private_seeds_stay_out_of_the_record(honest):
    record = evaluate_submission(honest[0], [TASK], EvalSettings(episodes=1, seeds=(123456,), private=True))[0]
    assert record.seeds == "private" and "123456" not in json.dumps(record.to_json())


def test_shipped_random_entry_is_a_valid_submission():
    from leaderboard.submission import load_submission

    assert load_submission(GENERATED_DIR.parents[1] / "leaderboard" / "entries" / "random").method == "random"


def test_bad_private_seeds_name_their_source(tmp_path, monkeypatch):
    from leaderboard.evaluator import private_seeds

    bad = tmp_path / "seeds.txt"
    bad.write_text("12 x 7\n")
    with pytest.raises(SubmissionError, match="seeds.txt: expected whitespace- or comma-separated integers"):
        private_seeds(bad)
    with pytest.raises(SubmissionError, match="cannot read"):
        private_seeds(tmp_path / "missing.txt")
    monkeypatch.setenv("V2P_LEADERBOARD_PRIVATE_SEEDS", "5, 9")
    assert private_seeds() == (5, 9)
    monkeypatch.setenv("V2P_LEADERBOARD_PRIVATE_SEEDS", "-1")
    with pytest.raises(SubmissionError, match=r"V2P_LEADERBOARD_PRIVATE_SEEDS: every seed must be in \[0, 2\*\*62\)"):
        private_seeds()
