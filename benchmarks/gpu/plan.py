"""The ``--steps`` of the check's training run: an upper bound that ``--max-time`` undercuts.

``v2p train --max-time`` ends rl-games training after the epoch in which that wall time has
passed; ``--steps`` is still required, so the check passes a generous bound, the env's own
steps/s at this N (from ``bench.json``) x the time limit x a margin (2), in whole PPO epochs. The
training loop is slower than the bare env (the policy and PPO's update take their share), so the
time limit, not the step count, ends training.
"""
from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

__all__ = ["TRAIN_TASK", "horizon", "make_plan", "plan_steps"]

log = logging.getLogger(__name__)

TRAIN_TASK = "V2P-PushLeft-v0"
RULE = "steps = ceil(env_steps_per_s x max_time_s x margin / (num_envs x horizon)) x num_envs x horizon"


def horizon(env_id: str) -> int:
    """rl-games' ``horizon_length`` of the task's ppo.yaml (32, the shipped default, if unreadable)."""
    try:
        from baselines.rl import load_ppo_config

        return int(load_ppo_config(env_id)["params"]["config"]["horizon_length"])
    except Exception:  # noqa: BLE001 - the shipped default
        log.warning("no horizon_length for %s: using 32", env_id)
        return 32


def plan_steps(env_rate: float, max_time_s: float, margin: float, num_envs: int, horizon_length: int,
               min_epochs: int = 2) -> int:
    """``env_rate x max_time_s x margin`` env steps, rounded up to whole PPO epochs of
    ``num_envs x horizon_length`` steps, at least ``min_epochs``."""
    epoch = num_envs * horizon_length
    return max(math.ceil(env_rate * max_time_s * margin / epoch), min_epochs) * epoch


def make_plan(bench: Path, task: str, num_envs: int, max_time_s: float, margin: float,
              fallback_rate: float) -> dict[str, Any]:
    """The plan for ``task`` at ``num_envs``: the rate of that N in ``bench`` (else of the largest N
    below it, else ``fallback_rate``) and the steps it gives."""
    rows = (json.loads(bench.read_text()).get("rows", []) if bench.is_file() else [])
    rows = [r for r in rows if r.get("task") == task and r.get("env_steps_per_s") and r["num_envs"] <= num_envs]
    if rows:
        row = max(rows, key=lambda r: r["num_envs"])
        rate, source = float(row["env_steps_per_s"]), f"{bench} (N={row['num_envs']})"
    else:
        log.warning("%s has no rate of %s at N <= %d: using %g env steps/s", bench, task, num_envs, fallback_rate)
        rate, source = fallback_rate, "fallback"
    h = horizon(task)
    return {"task": task, "num_envs": num_envs, "max_time_s": max_time_s, "margin": margin,
            "env_steps_per_s": rate, "rate_from": source, "horizon": h,
            "steps": plan_steps(rate, max_time_s, margin, num_envs, h), "rule": RULE}
