"""A BC policy on lift-family tasks: images in, actions out, ground truth decides.

Each task: ``episodes`` envs seeded ``seed*1000 + i``, the env's camera at the policy's image
size, the previous and the current frame stacked (the first frame doubled); success when
``lifted`` held at any step.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

import v2p_envs
from v2p_envs.ground_truth.single_object import lifted

from .model import BCPolicyNet

__all__ = ["TaskResult", "evaluate_task"]


@dataclass
class TaskResult:
    task: str
    kind: str
    split: str
    seed: int
    success_rate: float
    successes: list[bool]


@torch.no_grad()
def evaluate_task(net: BCPolicyNet, image_size: int, folder: Path, kind: str, split: str, episodes: int = 10,
                  seed: int = 0, max_steps: int = 200, progress: bool = False) -> TaskResult:
    env = v2p_envs.make_vec(folder, num_envs=episodes, width=image_size, height=image_size,
                            max_episode_steps=max_steps).unwrapped
    try:
        env.reset(seed=[seed * 1000 + i for i in range(episodes)])
        name = env.scene.objects[0].name
        success = torch.zeros(episodes, dtype=torch.bool)
        device = next(net.parameters()).device
        previous = None
        for _ in tqdm(range(max_steps), desc=Path(folder).name, leave=False, disable=not progress):
            rgb, _ = env.render_batch()
            current = torch.from_numpy(np.ascontiguousarray(rgb)).permute(0, 3, 1, 2).float().to(device) / 255.0
            frames = torch.stack((current if previous is None else previous, current), dim=1)
            previous = current
            env.step(net(frames).cpu())
            success |= lifted(env.sim.states, name).cpu()
        return TaskResult(Path(folder).name, kind, split, seed, float(success.float().mean()), success.tolist())
    finally:
        env.close()
