"""Run an oracle on a task's vector env and measure ground-truth success.

    python -m baselines.oracles.evaluate V2P-PushLeft-v0 V2P-ThrowGarlic-v0 --episodes 20
    python -m baselines.oracles.evaluate V2P-PushRight-v0 --action-noise 0 0.1 0.3

With ``--action-noise``, Gaussian noise of that std (action units; PPO starts exploring at 1.0)
is added to the oracle's actions: how precise a solution the task asks for.
"""
from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass

import v2p_envs

from ..policy import ActionNoise, OraclePolicy
from ..rollout import rollout

__all__ = ["OracleResult", "evaluate_oracle", "main"]

log = logging.getLogger(__name__)


@dataclass
class OracleResult:
    env_id: str
    episodes: int
    success_rate: float
    successes: list[bool]
    action_noise: float = 0.0


def evaluate_oracle(env_id: str, episodes: int = 20, seed: int = 0, progress: bool = False,
                    action_noise: float = 0.0, **env_kwargs) -> OracleResult:
    """``episodes`` parallel episodes seeded ``seed + i``; success = ground truth at any step.
    ``action_noise``: std of Gaussian noise added to the actions (seeded by ``seed``)."""
    env = v2p_envs.make_vec(env_id, num_envs=episodes, **env_kwargs).unwrapped
    try:
        policy = OraclePolicy(env)
        if action_noise:
            policy = ActionNoise(policy, action_noise, seed)
        result = rollout(env, policy, [seed + i for i in range(episodes)], progress=progress)
    finally:
        env.close()
    return OracleResult(env_id, episodes, result.success_rate, result.success, action_noise)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Measure an oracle's ground-truth success rate.",
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("env_ids", nargs="+")
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--action-noise", type=float, nargs="+", default=[0.0], metavar="SIGMA",
                        help="std of Gaussian noise added to the oracle's actions; several: one run each")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.episodes < 1 or args.seed < 0:
        parser.error("--episodes must be >= 1 and --seed >= 0")
    if any(sigma < 0 for sigma in args.action_noise):
        parser.error("--action-noise must be >= 0")
    for env_id in args.env_ids:
        for sigma in args.action_noise:
            result = evaluate_oracle(env_id, args.episodes, args.seed, progress=not args.no_progress,
                                     action_noise=sigma)
            noise = f" with action noise {sigma:g}" if sigma else ""
            sys.stdout.write(f"{env_id}{noise}: {result.success_rate:.2f} "
                             f"({sum(result.successes)}/{result.episodes})\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
