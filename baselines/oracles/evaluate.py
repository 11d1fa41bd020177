"""Run an oracle on a task's vector env and measure ground-truth success.

    python -m baselines.oracles.evaluate V2P-PushLeft-v0 V2P-ThrowGarlic-v0 --episodes 20
"""
from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass

import v2p_envs

from ..policy import OraclePolicy
from ..rollout import rollout

__all__ = ["OracleResult", "evaluate_oracle", "main"]

log = logging.getLogger(__name__)


@dataclass
class OracleResult:
    env_id: str
    episodes: int
    success_rate: float
    successes: list[bool]


def evaluate_oracle(env_id: str, episodes: int = 20, seed: int = 0, progress: bool = False,
                    **env_kwargs) -> OracleResult:
    """``episodes`` parallel episodes seeded ``seed + i``; success = ground truth at any step."""
    env = v2p_envs.make_vec(env_id, num_envs=episodes, **env_kwargs).unwrapped
    try:
        result = rollout(env, OraclePolicy(env), [seed + i for i in range(episodes)], progress=progress)
    finally:
        env.close()
    return OracleResult(env_id, episodes, result.success_rate, result.success)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Measure an oracle's ground-truth success rate.",
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("env_ids", nargs="+")
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.episodes < 1 or args.seed < 0:
        parser.error("--episodes must be >= 1 and --seed >= 0")
    for env_id in args.env_ids:
        result = evaluate_oracle(env_id, args.episodes, args.seed, progress=not args.no_progress)
        sys.stdout.write(f"{env_id}: {result.success_rate:.2f} ({sum(result.successes)}/{result.episodes})\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
