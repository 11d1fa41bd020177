"""The data engine: successful episodes of a policy on many tasks, filmed by a batched camera.

Per task folder, N envs play seeded episodes together; every step renders all N envs in one
call (``V2PVectorEnv.render_batch``: RGB and segmentation) and records the pre-step frame with
the action taken. An episode is kept when the ground truth (``lifted``: the object 10 cm up,
in the hand) holds, and is cut ``hold_steps`` after that. The policy here is the scripted
oracle, a privileged stand-in labelled as such in the dataset; trained PPO checkpoints and
Code-as-Policies policies plug in through ``policy_for``. With ``action_noise`` (the paper's
0.02) Gaussian noise is added to the executed action, and the recorded action is the executed one.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from tqdm import tqdm

import v2p_envs
from v2p_envs.ground_truth.single_object import lifted

from ..oracles.base import TopGraspLiftOracle
from .dataset import Episode

__all__ = ["CollectConfig", "LiftOracle", "collect_task", "oracle_for"]

log = logging.getLogger(__name__)

_SQUARE_KINDS = {"block", "dice"}


@dataclass
class CollectConfig:
    episodes: int = 10          # attempts per task (all in parallel)
    image_size: int = 64
    action_noise: float = 0.02
    hold_steps: int = 10        # steps kept after success
    max_steps: int = 200
    seed: int = 0
    progress: bool = True


class LiftOracle(TopGraspLiftOracle):
    """The top-grasp lift for any one object of a lift-family task."""

    lift_height = 0.16

    def __init__(self, env, object_name: str, square: bool = False) -> None:
        self.object_name = object_name
        self.yaw_period = math.pi / 2 if square else math.pi
        super().__init__(env)


def oracle_for(env, kind: str) -> LiftOracle:
    name = env.scene.objects[0].name
    return LiftOracle(env, name, square=kind in _SQUARE_KINDS)


PolicyFactory = Callable[[object, str], object]


@torch.no_grad()
def collect_task(folder: Path, kind: str, split: str, config: CollectConfig,
                 policy_for: PolicyFactory = oracle_for) -> tuple[list[Episode], int]:
    """Successful episodes of one task and the number of attempts."""
    env = v2p_envs.make_vec(folder, num_envs=config.episodes, width=config.image_size,
                            height=config.image_size, max_episode_steps=config.max_steps).unwrapped
    try:
        n = env.num_envs
        env.reset(seed=[config.seed + i for i in range(n)])
        policy = policy_for(env, kind)
        name = env.scene.objects[0].name
        rng = torch.Generator().manual_seed(config.seed)
        record: dict[str, list] = {k: [] for k in ("rgb", "seg", "act", "pos", "quat", "grip")}
        succeeded_at = torch.full((n,), -1, dtype=torch.long)
        for step in tqdm(range(config.max_steps), desc=Path(folder).name, leave=False, disable=not config.progress):
            states = env.sim.states
            rgb, seg = env.render_batch(segmentation=True)
            action = policy.act(states)
            if config.action_noise > 0:
                action = action + config.action_noise * torch.randn(action.shape, generator=rng)
            action = action.clamp(-1.0, 1.0)
            record["rgb"].append(rgb)
            record["seg"].append(seg)
            record["act"].append(action.cpu().numpy())
            record["pos"].append(states["eef_pos"].cpu().numpy())
            record["quat"].append(states["eef_quat"].cpu().numpy())
            record["grip"].append(states["gripper_width"].cpu().numpy()[:, None])
            env.step(action)
            done = lifted(env.sim.states, name).cpu() & (succeeded_at < 0)
            succeeded_at[done] = step
            if bool(((succeeded_at >= 0) & (step - succeeded_at >= config.hold_steps)).all()):
                break
        arrays = {k: np.stack(v, axis=1) for k, v in record.items()}  # [N, T, ...]
        episodes = []
        for i in range(n):
            if succeeded_at[i] < 0:
                continue
            end = min(int(succeeded_at[i]) + config.hold_steps + 1, arrays["act"].shape[1])
            episodes.append(Episode(Path(folder).name, kind, split, arrays["rgb"][i, :end], arrays["seg"][i, :end],
                                    arrays["act"][i, :end].astype(np.float32), arrays["pos"][i, :end],
                                    arrays["quat"][i, :end], arrays["grip"][i, :end]))
        log.info("%s: %d of %d episodes succeeded", Path(folder).name, len(episodes), n)
        return episodes, n
    finally:
        env.close()
