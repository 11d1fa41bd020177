"""Physics step x substeps at the same 50 Hz control rate (issue 11): speed, oracles, contact, parity.

    python -m benchmarks.physics_rates --settings 0.002x10 0.004x5 0.005x4 [--episodes 20] [--parity]

For each setting (physics step seconds x substeps per 20 ms control step) it measures, in one
run: env steps/s of PushLeft and ThrowGarlic at N = 1, 16, 64 (median of rounds, random
actions); every shipped task's scripted oracle (ground-truth success over ``--episodes``
seeded episodes); contact quality: how far resting objects sink into the table (the deepest
penetration of each object's bottom over 100 idle steps, all 14 tasks) and how a grasped block
slips or jitters in the hand (GraspBlock's oracle: relative hand-block motion over the 60
steps after the lift); and with ``--parity`` the largest MuJoCo / MuJoCo Warp (CPU device) gap
over 50 contact-rich PushLeft steps.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

import v2p_envs
from baselines.oracles.evaluate import evaluate_oracle
from baselines.policy import OraclePolicy
from v2p_envs.scene_builder import SceneConfig

__all__ = ["parse_setting", "measure_setting", "grasp_slip", "sinking_depth", "main"]

SPEED_TASKS = ("V2P-PushLeft-v0", "V2P-ThrowGarlic-v0")


def parse_setting(text: str) -> SceneConfig:
    """``0.004x5`` -> SceneConfig(timestep=0.004, substeps=5); the product must stay 20 ms."""
    try:
        dt, n = text.lower().split("x")
        config = replace(SceneConfig(), timestep=float(dt), substeps=int(n))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected STEPxSUBSTEPS like 0.004x5, got {text!r}") from None
    if abs(config.timestep * config.substeps - 0.02) > 1e-9:
        raise argparse.ArgumentTypeError(f"{text}: step x substeps must be 0.02 s (the 50 Hz control rate)")
    return config


def _speed(task: str, n: int, config: SceneConfig, steps: int = 50, rounds: int = 5) -> float:
    env = v2p_envs.make_vec(task, num_envs=n, scene_config=config).unwrapped
    try:
        gen = torch.Generator().manual_seed(0)
        actions = [torch.rand(n, 7, generator=gen) * 2 - 1 for _ in range(steps)]
        rates = []
        for _ in range(rounds):
            env.reset(seed=0)
            start = time.perf_counter()
            for a in actions:
                env.step(a)
            rates.append(n * steps / (time.perf_counter() - start))
        return statistics.median(rates)
    finally:
        env.close()


def sinking_depth(task: str, config: SceneConfig, n: int = 4, steps: int = 100) -> float:
    """Deepest penetration (m, >= 0) of any object's bottom below the table over idle steps;
    objects resting upright: centre height - half height, for objects placed upright."""
    env = v2p_envs.make_vec(task, num_envs=n, scene_config=config).unwrapped
    try:
        env.reset(seed=0)
        still = torch.zeros(n, 7)
        deepest = 0.0
        upright = list(env.sim.object_names)
        for _ in range(steps):
            env.step(still)
            s = env.sim.states
            for name in upright:
                up = 1.0 - 2.0 * (s[f"{name}_quat"][:, 1] ** 2 + s[f"{name}_quat"][:, 2] ** 2)
                bottom = s[f"{name}_pos"][:, 2] - s[f"{name}_size"][:, 2] / 2 - s["table_height"]
                gap = torch.where(up > 0.99, bottom, torch.zeros_like(bottom))
                deepest = max(deepest, float(-gap.min()))
        return deepest
    finally:
        env.close()


def grasp_slip(config: SceneConfig, n: int = 10) -> dict[str, float]:
    """GraspBlock's oracle lifts the block; over the 60 steps after, the hand-block offset's drift
    (slip) and its step-to-step change (jitter), worst env."""
    env = v2p_envs.make_vec("V2P-GraspBlock-v0", num_envs=n, scene_config=config, auto_reset=False).unwrapped
    try:
        policy = OraclePolicy(env)
        obs, _ = env.reset(seed=0)
        policy.reset()
        offsets = []
        for step in range(env.max_episode_steps):
            obs, *_ = env.step(policy.act(obs))
            if step >= env.max_episode_steps - 60:
                s = env.sim.states
                offsets.append(s["block_pos"] - s["eef_pos"])
        track = torch.stack(offsets)  # (60, n, 3)
        slip = torch.linalg.vector_norm(track[-1] - track[0], dim=-1)
        jitter = torch.linalg.vector_norm(track[1:] - track[:-1], dim=-1).max(dim=0).values
        return {"slip_max_m": float(slip.max()), "jitter_max_m": float(jitter.max())}
    finally:
        env.close()


def _parity(config: SceneConfig, steps: int = 50) -> dict[str, float]:
    cpu = v2p_envs.make_vec("V2P-PushLeft-v0", num_envs=2, scene_config=config).unwrapped
    warp = v2p_envs.make_vec("V2P-PushLeft-v0", num_envs=2, scene_config=config, backend="warp", device="cpu").unwrapped
    try:
        policy = OraclePolicy(cpu)
        obs, _ = cpu.reset(seed=3)
        warp.reset(seed=3)
        policy.reset()
        worst = {"eef_pos": 0.0, "snack_box_pos": 0.0}
        for _ in range(steps):
            action = policy.act(obs)
            obs, *_ = cpu.step(action)
            warp.step(action)
            for key in worst:
                gap = torch.linalg.vector_norm(cpu.sim.states[key] - warp.sim.states[key].float(), dim=-1)
                worst[key] = max(worst[key], float(gap.max()))
        return {f"{k}_gap_m": v for k, v in worst.items()}
    finally:
        cpu.close()
        warp.close()


def measure_setting(config: SceneConfig, episodes: int, parity: bool) -> dict[str, Any]:
    row: dict[str, Any] = {"timestep": config.timestep, "substeps": config.substeps}
    row["steps_per_s"] = {f"{task}/N{n}": round(_speed(task, n, config)) for task in SPEED_TASKS for n in (1, 16, 64)}
    row["oracles"] = {t: evaluate_oracle(t, episodes, 0, scene_config=config).success_rate
                      for t in v2p_envs.registered_task_ids()}
    row["sinking_max_m"] = {t: round(sinking_depth(t, config), 5) for t in v2p_envs.registered_task_ids()}
    row["grasp"] = grasp_slip(config)
    if parity:
        row["parity"] = _parity(config)
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.physics_rates", description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--settings", nargs="+", type=parse_setting,
                   default=[parse_setting(s) for s in ("0.002x10", "0.004x5", "0.005x4")])
    p.add_argument("--episodes", type=int, default=20, help="oracle episodes per task")
    p.add_argument("--parity", action="store_true", help="also MuJoCo vs MuJoCo Warp on Warp's CPU device")
    p.add_argument("--out", type=Path, default=Path("runs/physics_rates.json"))
    args = p.parse_args(argv)
    rows = []
    for config in args.settings:
        rows.append(measure_setting(config, args.episodes, args.parity))
        print(json.dumps(rows[-1]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
