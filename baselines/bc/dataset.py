"""Demonstrations in robomimic's HDF5 layout, a loader for training, and a dataset card.

One file, ``data/demo_<k>`` per successful episode, as robomimic and its readers expect:
``actions [T, 7]``, ``rewards [T]``, ``dones [T]``, ``obs/agentview_image [T, H, W, 3] uint8``,
``obs/agentview_segmentation [T, H, W] uint8`` (0 background, 1 robot, 2 the object),
``obs/robot0_eef_pos [T, 3]``, ``obs/robot0_eef_quat [T, 4]``, ``obs/robot0_gripper_width [T, 1]``.
``data.attrs``: ``total`` (samples), ``env_args`` (JSON: image size, source policy, randomisation);
each demo's attrs: ``num_samples``, ``task`` (its folder), ``kind``, ``split``. h5py comes with
``pip install -e ".[bc]"``.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = ["Episode", "PROPRIO_DIM", "proprio_vector", "write_dataset", "read_episodes", "FramePairs", "write_card"]

log = logging.getLogger(__name__)

PROPRIO_DIM = 8  # end-effector position (3) and quaternion (4), gripper width (1)


def proprio_vector(eef_pos, eef_quat, gripper_width):
    """The robot's own state as the policies read it: ``[..., 8]`` (numpy arrays or torch tensors,
    gripper width with a trailing axis of 1)."""
    if isinstance(eef_pos, torch.Tensor):
        return torch.cat((eef_pos, eef_quat, gripper_width), dim=-1).float()
    return np.concatenate((eef_pos, eef_quat, gripper_width), axis=-1).astype(np.float32)


@dataclass
class Episode:
    task: str
    kind: str
    split: str
    images: np.ndarray          # uint8 [T, H, W, 3]
    segmentation: np.ndarray    # uint8 [T, H, W]
    actions: np.ndarray         # float32 [T, 7]
    eef_pos: np.ndarray         # float32 [T, 3]
    eef_quat: np.ndarray        # float32 [T, 4]
    gripper_width: np.ndarray   # float32 [T, 1]
    rewards: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))

    def __len__(self) -> int:
        return len(self.actions)

    def proprio(self) -> np.ndarray:
        return proprio_vector(self.eef_pos, self.eef_quat, self.gripper_width)


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError("the BC dataset needs h5py: pip install -e \".[bc]\"") from None
    return h5py


def write_dataset(path: Path, episodes: list[Episode], env_args: dict[str, Any]) -> Path:
    """Write ``episodes`` to ``path`` (robomimic layout; replaces the file)."""
    h5py = _h5py()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        data = f.create_group("data")
        data.attrs["total"] = int(sum(len(e) for e in episodes))
        data.attrs["env_args"] = json.dumps(env_args)
        for k, ep in enumerate(episodes):
            g = data.create_group(f"demo_{k}")
            g.attrs.update(num_samples=len(ep), task=ep.task, kind=ep.kind, split=ep.split)
            g.create_dataset("actions", data=ep.actions.astype(np.float32))
            rewards = ep.rewards if len(ep.rewards) == len(ep) else np.zeros(len(ep), np.float32)
            g.create_dataset("rewards", data=rewards.astype(np.float32))
            dones = np.zeros(len(ep), np.uint8)
            dones[-1] = 1
            g.create_dataset("dones", data=dones)
            obs = g.create_group("obs")
            obs.create_dataset("agentview_image", data=ep.images, compression="gzip", compression_opts=4)
            obs.create_dataset("agentview_segmentation", data=ep.segmentation, compression="gzip", compression_opts=4)
            obs.create_dataset("robot0_eef_pos", data=ep.eef_pos.astype(np.float32))
            obs.create_dataset("robot0_eef_quat", data=ep.eef_quat.astype(np.float32))
            obs.create_dataset("robot0_gripper_width", data=ep.gripper_width.astype(np.float32))
    log.info("wrote %d episodes (%d samples) to %s", len(episodes), sum(len(e) for e in episodes), path)
    return path


def read_episodes(path: Path, tasks: set[str] | None = None) -> tuple[list[Episode], dict[str, Any]]:
    """The episodes of a dataset (only those of ``tasks`` when given) and its ``env_args``."""
    h5py = _h5py()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no dataset; collect one with v2p bc collect")
    episodes = []
    with h5py.File(path, "r") as f:
        if "data" not in f:
            raise ValueError(f"{path}: not a robomimic-layout dataset (no 'data' group)")
        data = f["data"]
        env_args = json.loads(data.attrs.get("env_args", "{}"))
        for name in sorted(data, key=lambda n: int(n.split("_")[-1])):
            g = data[name]
            if tasks is not None and g.attrs["task"] not in tasks:
                continue
            o = g["obs"]
            episodes.append(Episode(str(g.attrs["task"]), str(g.attrs["kind"]), str(g.attrs["split"]),
                                    o["agentview_image"][()], o["agentview_segmentation"][()], g["actions"][()],
                                    o["robot0_eef_pos"][()], o["robot0_eef_quat"][()], o["robot0_gripper_width"][()],
                                    g["rewards"][()]))
    return episodes, env_args


class FramePairs(torch.utils.data.Dataset):
    """(two stacked frames t-1 and t, the robot's state t, action t) samples; the first frame of an
    episode is paired with itself. Images are ``float32 [2, 3, H, W]`` in [0, 1]."""

    def __init__(self, episodes: list[Episode]) -> None:
        if not episodes:
            raise ValueError("no episodes to train on")
        self.images = torch.from_numpy(np.concatenate([e.images for e in episodes])).permute(0, 3, 1, 2).contiguous()
        self.actions = torch.from_numpy(np.concatenate([e.actions for e in episodes])).float()
        self.proprio = torch.from_numpy(np.concatenate([e.proprio() for e in episodes]))
        starts = np.cumsum([0] + [len(e) for e in episodes[:-1]])
        previous = np.arange(len(self.actions)) - 1
        previous[starts] = starts
        self.previous = torch.from_numpy(previous)

    def __len__(self) -> int:
        return len(self.actions)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        pair = torch.stack((self.images[self.previous[i]], self.images[i])).float() / 255.0
        return pair, self.proprio[i], self.actions[i]


def write_card(path: Path, episodes: list[Episode], env_args: dict[str, Any]) -> Path:
    """A README next to the dataset: what is in it, where it came from, how to read it."""
    kinds: dict[str, int] = {}
    for e in episodes:
        kinds[e.kind] = kinds.get(e.kind, 0) + 1
    tasks = sorted({e.task for e in episodes})
    lines = [f"# Dataset card: {Path(path).name}", "",
             f"- episodes: {len(episodes)} successful, {sum(len(e) for e in episodes)} samples, {len(tasks)} tasks",
             f"- per object kind: {', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}",
             f"- source policy: {env_args.get('policy', '?')}",
             f"- images: {env_args.get('image_size')} px RGB and segmentation from the env's fixed camera",
             f"- randomisation: {env_args.get('randomization', {})}",
             "- layout: robomimic HDF5 (see baselines/bc/dataset.py); read with h5py, robomimic, or "
             "`baselines.bc.dataset.read_episodes`", ""]
    card = Path(path).with_suffix(".md")
    card.write_text("\n".join(lines))
    return card
