"""The ``Policy`` protocol: what evaluation, oracles, data collection and the leaderboard run.

A policy maps a batch of observations (torch, on the env's device, shape (N, obs_dim)) to a
batch of actions in [-1, 1] (N, 7), and is told when some of its envs start a new episode.
Trained checkpoints, the built-in ``random``/``zero`` policies and the scripted oracles all
speak it. An oracle is *privileged*: it reads the simulator's states instead of the
observation, and says so (``privileged = True``), so that records and the leaderboard can
mark it.
"""
from __future__ import annotations

from typing import Callable, Protocol, runtime_checkable

import torch

__all__ = ["Policy", "FunctionPolicy", "RandomPolicy", "ZeroPolicy", "OraclePolicy", "ActionNoise",
           "BUILTIN_POLICIES", "make_builtin_policy"]


@runtime_checkable
class Policy(Protocol):
    privileged: bool

    def reset(self, env_ids: torch.Tensor | None = None) -> None:
        """Envs ``env_ids`` (all if None) start a new episode."""

    def act(self, obs: torch.Tensor) -> torch.Tensor:
        """Actions (N, 7) in [-1, 1] for observations (N, obs_dim)."""


class FunctionPolicy:
    """A stateless policy from a function obs -> actions (a trained network, deterministic)."""

    privileged = False

    def __init__(self, fn: Callable[[torch.Tensor], torch.Tensor], name: str = "") -> None:
        self.fn = fn
        self.name = name

    def reset(self, env_ids: torch.Tensor | None = None) -> None:
        pass

    def act(self, obs: torch.Tensor) -> torch.Tensor:
        return self.fn(obs)


class RandomPolicy:
    """Uniform random actions from its own seeded generator (reproducible, device-independent)."""

    privileged = False

    def __init__(self, seed: int = 0, action_dim: int = 7) -> None:
        self.generator = torch.Generator().manual_seed(seed)
        self.action_dim = action_dim

    def reset(self, env_ids: torch.Tensor | None = None) -> None:
        pass

    def act(self, obs: torch.Tensor) -> torch.Tensor:
        actions = torch.rand(obs.shape[0], self.action_dim, generator=self.generator) * 2 - 1
        return actions.to(obs.device)


class ZeroPolicy:
    """Holds still with the gripper half open (action 0)."""

    privileged = False

    def reset(self, env_ids: torch.Tensor | None = None) -> None:
        pass

    def act(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.zeros(obs.shape[0], 7, device=obs.device)


class OraclePolicy:
    """A task's scripted oracle; privileged: it reads ``env.sim.states``, not the observation."""

    privileged = True

    def __init__(self, env) -> None:
        from .oracles import get_oracle

        self.env = env
        self.oracle = get_oracle(env.scene.task_class_name)(env)

    def reset(self, env_ids: torch.Tensor | None = None) -> None:
        self.oracle.reset(env_ids)

    def act(self, obs: torch.Tensor) -> torch.Tensor:
        return self.oracle.act(self.env.sim.states)


class ActionNoise:
    """``policy`` with seeded Gaussian noise of std ``sigma`` (action units) added, then clipped to
    [-1, 1]: how precise must a solution be? A task whose oracle fails under small noise asks an
    RL policy to explore with a small standard deviation before it ever succeeds."""

    def __init__(self, policy: Policy, sigma: float, seed: int = 0) -> None:
        if sigma < 0:
            raise ValueError(f"action noise sigma must be >= 0, got {sigma}")
        self.policy = policy
        self.sigma = sigma
        self.privileged = policy.privileged
        self.generator = torch.Generator().manual_seed(seed)

    def reset(self, env_ids: torch.Tensor | None = None) -> None:
        self.policy.reset(env_ids)

    def act(self, obs: torch.Tensor) -> torch.Tensor:
        actions = self.policy.act(obs)
        noise = torch.randn(actions.shape, generator=self.generator).to(actions.device)
        return (actions + self.sigma * noise).clamp(-1.0, 1.0)


BUILTIN_POLICIES = ("oracle", "random", "zero")


def make_builtin_policy(name: str, env, seed: int = 0) -> Policy:
    """``oracle``, ``random`` or ``zero`` for ``env`` (a V2PVectorEnv)."""
    if name == "oracle":
        return OraclePolicy(env)
    if name == "random":
        return RandomPolicy(seed)
    if name == "zero":
        return ZeroPolicy()
    raise ValueError(f"unknown policy {name!r}; expected one of {BUILTIN_POLICIES} or a checkpoint")
