"""A BC policy on lift-family tasks: images in, actions out, ground truth decides.

Each task: ``episodes`` envs seeded ``seed*1000 + i``, the env's camera at the policy's image
size, the previous and the current frame stacked (the first frame doubled); success when
``lifted`` held at any step.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from tqdm import tqdm

import v2p_envs
from v2p_envs.ground_truth.single_object import lifted

from .dataset import proprio_vector
from .model import BCPolicyNet

__all__ = ["TaskResult", "evaluate_actor", "evaluate_task"]


@dataclass
class TaskResult:
    task: str
    kind: str
    split: str
    seed: int
    success_rate: float
    successes: list[bool]


Actor = Callable[[], torch.Tensor]


@torch.no_grad()
def evaluate_actor(folder: Path, kind: str, split: str, make_actor: Callable[[object], Actor], episodes: int = 10,
                   seed: int = 0, max_steps: int = 200, image_size: int | None = None,
                   progress: bool = False) -> TaskResult:
    """The protocol for any policy: ``make_actor(env)`` returns ``act()``, called once per step
    for every env's action; ``image_size`` sets the env's camera when the actor looks."""
    camera = {} if image_size is None else {"width": image_size, "height": image_size}
    env = v2p_envs.make_vec(folder, num_envs=episodes, max_episode_steps=max_steps, **camera).unwrapped
    try:
        env.reset(seed=[seed * 1000 + i for i in range(episodes)])
        act = make_actor(env)
        name = env.scene.objects[0].name
        success = torch.zeros(episodes, dtype=torch.bool)
        for _ in tqdm(range(max_steps), desc=Path(folder).name, leave=False, disable=not progress):
            env.step(act())
            success |= lifted(env.sim.states, name).cpu()
        return TaskResult(Path(folder).name, kind, split, seed, float(success.float().mean()), success.tolist())
    finally:
        env.close()


def evaluate_task(net: BCPolicyNet, image_size: int, folder: Path, kind: str, split: str, episodes: int = 10,
                  seed: int = 0, max_steps: int = 200, progress: bool = False) -> TaskResult:
    """A two-frame image policy (BC or the video policy) on one task; policies with a state input
    also get the robot's state."""
    def image_actor(env) -> Actor:
        device = next(net.parameters()).device
        previous: list[torch.Tensor] = []  # the previous frame, or its features when the net can reuse them

        def act() -> torch.Tensor:
            rgb, _ = env.render_batch()
            current = torch.from_numpy(np.ascontiguousarray(rgb)).permute(0, 3, 1, 2).float().to(device) / 255.0
            states = env.sim.states
            proprio = proprio_vector(states["eef_pos"], states["eef_quat"], states["gripper_width"][:, None]).to(device)
            policy = net
            if isinstance(net, BCPolicyNet):  # each frame through the backbone once
                current, policy = net.backbone(current), net.act
            action = policy(torch.stack((previous[-1] if previous else current, current), dim=1), proprio)
            previous[:] = [current]
            return action.cpu()
        return act

    return evaluate_actor(folder, kind, split, image_actor, episodes, seed, max_steps, image_size, progress)
