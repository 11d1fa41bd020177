"""The one rollout: every env of a vector env plays one seeded episode with a policy.

Evaluation (``baselines.rl.evaluate``), the oracles' check, ``v2p run``, data collection and
the leaderboard all run episodes through ``rollout``. Env ``i`` is reset with ``seeds[i]`` and
plays exactly one episode, to its end (the time limit, or success with
``terminate_on_success``); what happens after its autoreset is ignored. An episode succeeds
when ``info["success"]`` (the ground truth, or the generated success for a task without one:
``env.success_metric`` says which) held at any step.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from tqdm import tqdm

from .policy import Policy

__all__ = ["RolloutResult", "rollout", "tile_frames"]

#: Called after every step with (step, obs, actions, reward, info) for data collection.
StepHook = Callable[[int, torch.Tensor, torch.Tensor, torch.Tensor, dict[str, Any]], None]


@dataclass
class RolloutResult:
    """One entry per env (= per episode)."""

    seeds: list[int]
    success: list[bool]            # env.success_metric at any step
    generated_success: list[bool]  # the task's own success at any step
    returns: list[float]
    lengths: list[int]
    success_metric: str
    privileged: bool = False       # some policy read the simulator's state
    wall_time_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def success_rate(self) -> float:
        return float(np.mean(self.success)) if self.success else 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def tile_frames(frames: Sequence[np.ndarray]) -> np.ndarray:
    """Frames of equal size in a near-square grid (black where the grid has no env)."""
    n = len(frames)
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    h, w, c = frames[0].shape
    grid = np.zeros((rows * h, cols * w, c), dtype=frames[0].dtype)
    for k, frame in enumerate(frames):
        r, q = divmod(k, cols)
        grid[r * h:(r + 1) * h, q * w:(q + 1) * w] = frame
    return grid


@torch.no_grad()
def rollout(env, policy: Policy | Sequence[Policy], seeds: Sequence[int], video: Path | None = None,
            video_envs: Sequence[int] | None = (0,), video_every: int = 2, fps: int = 25,
            progress: bool = False, on_step: StepHook | None = None) -> RolloutResult:
    """Play one episode per env of ``env`` (a V2PVectorEnv) seeded with ``seeds``.

    ``policy`` is one policy for all envs, or K policies for K equal groups of envs (policy k
    acts on envs ``k*N/K .. (k+1)*N/K - 1``). With ``video``, every ``video_every``-th frame of
    ``video_envs`` (tiled; None: every env) goes into one mp4.
    """
    n = env.num_envs
    if len(seeds) != n:
        raise ValueError(f"rollout needs one seed per env: {len(seeds)} seeds for {n} envs")
    policies = list(policy) if isinstance(policy, (list, tuple)) else [policy]
    if n % len(policies):
        raise ValueError(f"{len(policies)} policies cannot split {n} envs into equal groups")
    size = n // len(policies)
    groups = [slice(k * size, (k + 1) * size) for k in range(len(policies))]
    shown = list(range(n)) if video_envs is None else list(video_envs)
    start = time.perf_counter()
    obs, _ = env.reset(seed=list(seeds))
    for p in policies:
        p.reset(None)
    writer = _video_writer(video, fps)
    device = env.device
    running = torch.ones(n, dtype=torch.bool, device=device)
    success = torch.zeros(n, dtype=torch.bool, device=device)
    generated = torch.zeros(n, dtype=torch.bool, device=device)
    returns = torch.zeros(n, device=device)
    lengths = torch.zeros(n, dtype=torch.long, device=device)
    limit = env.max_episode_steps
    if limit is None:
        raise ValueError("rollout needs an env with a time limit (max_episode_steps)")
    try:
        for step in tqdm(range(limit), desc=env.scene.env_id, leave=False, disable=not progress):
            if writer is not None and step % video_every == 0:
                writer.append_data(tile_frames([env.render_env(i) for i in shown]))
            actions = torch.cat([p.act(obs[g]).to(device) for p, g in zip(policies, groups)])
            next_obs, reward, terminated, truncated, info = env.step(actions)
            final = info.get("final_info", info)
            returns += torch.where(running, reward, 0.0)
            lengths += running.long()
            success |= running & final["success"]
            generated |= running & final["generated_success"]
            if on_step is not None:
                on_step(step, obs, actions, reward, info)
            running &= ~(terminated | truncated)
            obs = next_obs
            if not bool(running.any()):
                break
    finally:
        if writer is not None:
            writer.close()
    return RolloutResult(list(map(int, seeds)), success.tolist(), generated.tolist(),
                         [round(float(r), 4) for r in returns.tolist()], lengths.tolist(), env.success_metric,
                         any(getattr(p, "privileged", False) for p in policies), round(time.perf_counter() - start, 2))


def _video_writer(video: Path | None, fps: int):
    if video is None:
        return None
    import imageio.v2 as imageio

    Path(video).parent.mkdir(parents=True, exist_ok=True)
    return imageio.get_writer(str(video), fps=fps, macro_block_size=1)
