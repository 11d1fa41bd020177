"""``v2p submit export``: an rl-games checkpoint from ``v2p train`` as a leaderboard submission.

The checkpoint is read as weights only; the observation normaliser, the actor's hidden layers and
its mean head go into ``policy.safetensors``, with ``entries/mlp_policy.py`` as ``policy.py``
(observation normalisation, an MLP with ELU, the mean action clipped to [-1, 1]).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import torch
import yaml

from baselines.rl import RunInfo, load_weights
from v2p_envs.errors import V2PError

from .submission import POLICY_FILE, SUBMISSION_FILE, load_submission

__all__ = ["export_rl_games", "MLP_POLICY"]

MLP_POLICY = Path(__file__).resolve().parent / "entries" / "mlp_policy.py"


def export_rl_games(checkpoint: Path | str, out_dir: Path | str, method: str, authors: list[str],
                    description: str = "", url: str = "") -> Path:
    """Write a submission folder for ``checkpoint``'s task; returns the folder (validated)."""
    checkpoint, out_dir = Path(checkpoint), Path(out_dir)
    run = RunInfo.of_checkpoint(checkpoint)
    if run.trainer != "rl_games":
        raise V2PError(f"{checkpoint}: export reads rl-games checkpoints; this run used {run.trainer}")
    state = load_weights(checkpoint)["model"]
    weights = {"obs_mean": state["running_mean_std.running_mean"], "obs_var": state["running_mean_std.running_var"],
               "mu.weight": state["a2c_network.mu.weight"], "mu.bias": state["a2c_network.mu.bias"]}
    linear = sorted({int(k.split(".")[2]) for k in state if k.startswith("a2c_network.actor_mlp.")})
    for k, index in enumerate(linear):
        weights[f"layer{k}.weight"] = state[f"a2c_network.actor_mlp.{index}.weight"]
        weights[f"layer{k}.bias"] = state[f"a2c_network.actor_mlp.{index}.bias"]
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().to(torch.float32).contiguous() for k, v in weights.items()},
              str(out_dir / "policy.safetensors"))
    shutil.copyfile(MLP_POLICY, out_dir / POLICY_FILE)
    (out_dir / SUBMISSION_FILE).write_text(yaml.safe_dump({
        "method": method, "authors": authors, "url": url,
        "description": description or f"PPO (rl-games) trained with v2p train: {run.env_steps} env steps",
        "tasks": [run.env_id], "observation": "state", "privileged": False}, sort_keys=False))
    load_submission(out_dir)
    return out_dir
