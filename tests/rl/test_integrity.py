"""The metric cannot be forged: task code cannot change what the ground truth reads, and a
checkpoint cannot run code. Both forgeries measured on the old main are tests here."""
from __future__ import annotations

import json
import os
import shutil
import zipfile

import pytest
import torch

from baselines.rl import TrainConfig, train
from v2p.cli import main

from ..task_folders import task_variant
from .conftest import SMALL

PUSH_SUCCESS = "return (disp[:, 1] > 0.15) & (disp[:, 0].abs() < disp[:, 1]) & on_table & at_rest & never_lifted"


class _Payload:
    """Unpickling this writes a marker file (what a hostile checkpoint would do)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_task_code_cannot_forge_the_ground_truth(tmp_path, capsys):
    """A PushLeft folder whose compute_success moves the box in ``states`` (a new tensor, and
    in-place writes to the per-episode tensors) and claims success: an untrained policy still
    scores 0.00 ground truth, while its own generated success says 1.00."""
    forged = ("states['snack_box_pos'] = states['snack_box_init_pos'] + torch.tensor([0.0, 0.2, 0.0])\n"
              "        states['snack_box_init_pos'][:, 1] -= 0.5\n"
              "        states['snack_box_max_height'].zero_()\n"
              "        states['snack_box_vel_linear'].zero_()\n"
              "        return torch.ones(self.num_envs, dtype=torch.bool)")
    folder = task_variant(tmp_path, "push_left", {PUSH_SUCCESS: forged})
    run_dir = tmp_path / "run"
    assert main(["train", str(folder), "--num-envs", "4", "--steps", "64", "--episode-length", "8",
                 "--run-dir", str(run_dir), "--no-progress"]) == 0
    out = tmp_path / "eval.json"
    assert main(["eval", "--checkpoint", str(run_dir / "checkpoints" / "last.pth"), "--episodes", "2",
                 "--seeds", "0", "--out", str(out), "--no-progress"]) == 0
    record = json.loads(out.read_text())
    assert record["task"] == "V2P-PushLeft-v0" and record["metric"] == "ground_truth"
    assert record["task_trusted_by"] == "trial" and record["task_dir"] == str(folder.resolve())
    assert record["per_seed_generated_success"] == [1.0]  # the forgery ran ...
    assert record["per_seed_success"] == [0.0] and record["mean"] == 0.0  # ... and changed nothing


def test_a_pickled_checkpoint_never_runs(rl_games_run, tmp_path, capsys):
    run_dir = tmp_path / "run"
    shutil.copytree(rl_games_run.run_dir, run_dir)
    marker = tmp_path / "pwned"
    checkpoint = run_dir / "checkpoints" / "last.pth"
    state = torch.load(checkpoint, weights_only=True)
    state["env_state"] = _Payload(marker)
    torch.save(state, checkpoint)
    assert main(["eval", "--checkpoint", str(checkpoint), "--episodes", "1", "--seeds", "0",
                 "--out", str(tmp_path / "eval.json")]) == 2
    err = capsys.readouterr().err
    assert "refused" in err and "weights-only" in err and len(err.strip().splitlines()) == 1
    assert not marker.exists() and not (tmp_path / "eval.json").exists()
    assert main(["run", "--checkpoint", str(checkpoint), "--episodes", "1"]) == 2  # v2p run too
    assert not marker.exists()


def test_sb3_evaluation_reads_no_pickle(tmp_path, capsys):
    """SB3's model.zip carries cloudpickled data and VecNormalize a .pkl: evaluation reads
    neither (payloads planted in both stay inert); a payload in policy.pth is refused."""
    result = train(TrainConfig("V2P-ReachBlock-v0", trainer="sb3", steps=128, run_dir=str(tmp_path / "sb3"), **SMALL))
    model = result.checkpoint
    marker = tmp_path / "pwned"
    with open(model.with_name("vecnormalize.pkl"), "wb") as f:
        import pickle

        pickle.dump(_Payload(marker), f)
    out = tmp_path / "eval.json"
    assert main(["eval", "--checkpoint", str(model), "--episodes", "1", "--seeds", "0", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["method"] == "v2p/sb3" and not marker.exists()
    hostile = model.with_name("hostile.zip")
    with zipfile.ZipFile(model) as src, zipfile.ZipFile(hostile, "w") as dst:
        for item in src.namelist():
            if item == "policy.pth":
                path = tmp_path / "policy.pth"
                torch.save({"x": _Payload(marker)}, path)
                dst.write(path, item)
            else:
                dst.writestr(item, src.read(item))
    assert main(["eval", "--checkpoint", str(hostile), "--episodes", "1", "--seeds", "0",
                 "--out", str(tmp_path / "eval2.json")]) == 2
    assert "refused" in capsys.readouterr().err and not marker.exists()


@pytest.mark.parametrize("flag, value", [("--episodes", "-1"), ("--steps", "-5"), ("--num-envs", "0")])
def test_cli_refuses_non_positive_counts(flag, value, capsys):
    argv = ["train", "V2P-ReachBlock-v0", flag, value] if flag != "--episodes" else ["run", "V2P-ReachBlock-v0", flag, value]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2 and "positive integer" in capsys.readouterr().err


def test_a_nan_reward_fails_the_run_as_data(tmp_path):
    """A reward that turns NaN mid-training stops the run with a clear error; run.json says
    ``failed`` with the category (it used to reach rl-games and leave run.json "running")."""
    from baselines.rl import TrainingFailed

    folder = task_variant(tmp_path, "reach_block", {"return reach_reward - action_penalty, components": (
        "nan = torch.where(states['episode_step'] > 5, float('nan'), 0.0)\n"
        "    return reach_reward - action_penalty + nan, components")})
    run_dir = tmp_path / "run"
    with pytest.raises(TrainingFailed, match="NaN or inf in \\['reward'\\]") as err:
        train(TrainConfig("V2P-ReachBlock-v0", task_dir=str(folder), trust_task_code=True, steps=256,
                          run_dir=str(run_dir), **SMALL))
    assert err.value.category == "non_finite"
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "failed" and run["error_category"] == "non_finite" and "NaN" in run["error"]
