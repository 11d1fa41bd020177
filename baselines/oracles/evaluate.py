"""Run an oracle on a task's vector env and measure ground-truth success."""
from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass

import gymnasium as gym
import torch

import v2p_envs  # noqa: F401  (registers the tasks)

from .registry import get_oracle

__all__ = ["OracleResult", "evaluate_oracle", "main"]

log = logging.getLogger(__name__)


@dataclass
class OracleResult:
    env_id: str
    episodes: int
    success_rate: float
    successes: list[bool]


def evaluate_oracle(env_id: str, episodes: int = 20, seed: int = 0, **env_kwargs) -> OracleResult:
    """``episodes`` parallel episodes seeded ``seed + i``; success = ground truth at any step."""
    envs = gym.make_vec(env_id, num_envs=episodes, vectorization_mode="vector_entry_point", **env_kwargs)
    env = envs.unwrapped
    try:
        oracle = get_oracle(env.scene.task_class_name)(env)
        env.reset(seed=seed)
        oracle.reset()
        success = torch.zeros(episodes, dtype=torch.bool)
        for _ in range(env.max_episode_steps):
            _, _, _, truncated, info = env.step(oracle.act(env.sim.states))
            final = info.get("final_info", info)
            success |= final["success_once"].cpu()
            if bool(truncated.all()):
                break
    finally:
        envs.close()
    return OracleResult(env_id, episodes, float(success.float().mean()), success.tolist())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Measure an oracle's ground-truth success rate.")
    parser.add_argument("env_ids", nargs="+")
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for env_id in args.env_ids:
        result = evaluate_oracle(env_id, args.episodes, args.seed)
        print(f"{env_id}: {result.success_rate:.2f} ({sum(result.successes)}/{result.episodes})")


if __name__ == "__main__":
    main()
