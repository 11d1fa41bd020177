"""Run whole episodes of a policy on a task, optionally recording an mp4 of env 0."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import gymnasium as gym
import torch
from tqdm import tqdm

import v2p_envs  # noqa: F401  (registers the tasks)

from .oracles import get_oracle

__all__ = ["EpisodeResult", "run_episodes", "POLICIES"]

log = logging.getLogger(__name__)
POLICIES = ("oracle", "random", "zero")


@dataclass
class EpisodeResult:
    episode: int
    seed: int
    success: bool
    generated_success: bool
    episode_return: float
    steps: int


def _make_policy(name: str, env) -> tuple[Callable[[dict[str, torch.Tensor]], torch.Tensor], Callable[[], None]]:
    if name == "oracle":
        oracle = get_oracle(env.scene.task_class_name)(env)
        return oracle.act, oracle.reset
    if name == "random":
        gen = torch.Generator().manual_seed(0)
        return (lambda states: torch.rand(env.num_envs, 7, generator=gen) * 2 - 1), (lambda: None)
    if name == "zero":
        return (lambda states: torch.zeros(env.num_envs, 7)), (lambda: None)
    raise ValueError(f"unknown policy {name!r}; expected one of {POLICIES}")


def run_episodes(env_id: str, policy: str = "oracle", episodes: int = 3, seed: int = 0,
                 video: Path | None = None, fps: int = 25, **env_kwargs) -> list[EpisodeResult]:
    """Run ``episodes`` episodes one after another (seeds seed, seed+1, ...); success is
    ground truth at any step. With ``video``, every second frame goes into one mp4."""
    envs = gym.make_vec(env_id, num_envs=1, vectorization_mode="vector_entry_point",
                        render_mode="rgb_array" if video else None, **env_kwargs)
    env = envs.unwrapped
    act, reset_policy = _make_policy(policy, env)
    writer = None
    if video is not None:
        import imageio.v2 as imageio

        Path(video).parent.mkdir(parents=True, exist_ok=True)
        writer = imageio.get_writer(str(video), fps=fps, macro_block_size=1)
    results = []
    try:
        for episode in range(episodes):
            env.reset(seed=seed + episode)
            reset_policy()
            total, generated = 0.0, False
            for step in tqdm(range(env.max_episode_steps), desc=f"{env_id} episode {episode}", leave=False):
                if writer is not None and step % 2 == 0:
                    writer.append_data(env.render())
                _, reward, _, truncated, info = env.step(act(env.sim.states))
                final = info.get("final_info", info)
                total += float(reward[0])
                generated |= bool(final["generated_success"][0])
                if bool(truncated[0]):
                    break
            results.append(EpisodeResult(episode, seed + episode, bool(final["success_once"][0]), generated,
                                         total, step + 1))
    finally:
        if writer is not None:
            writer.close()
        envs.close()
    return results
