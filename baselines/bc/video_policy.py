"""A video-prediction policy ("Video Generators are Robot Policies", at CPU scale).

Stage 1 trains a small U-Net to predict the next ``horizon`` frames from the current two (the
robot's own video; action-free episodes can join this stage). Stage 2 freezes it and trains an
action head on its features: the bottleneck and the decoder's last feature map, pooled.
``joint`` trains both at once on the sum of the two losses (the paper's weaker variant). The
policy has the BC policy's interface (two frames in, a 7-dim action out), so the same
evaluation runs it, with the robot's state as a second input when ``proprio`` (as the BC policy
it is compared with). No task embedding: the lift family is one skill, and an embedding of a
training task's name would not carry over to a held-out one.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from .dataset import PROPRIO_DIM, Episode, read_episodes
from .model import StateEncoder

__all__ = ["VideoPolicyConfig", "VideoPredictor", "VideoPolicy", "FrameWindows", "train_video_policy"]

log = logging.getLogger(__name__)


@dataclass
class VideoPolicyConfig:
    horizon: int = 4            # frames predicted (K)
    mode: str = "two_stage"     # or "joint"
    width: int = 32             # channels of the U-Net's first level
    video_epochs: int = 5       # stage 1 (two_stage) / all epochs (joint)
    action_epochs: int = 5      # stage 2 (two_stage)
    batch_size: int = 128
    lr: float = 3e-4
    proprio: bool = True        # the robot's state joins the action head (as in the CPU BC preset)
    image_size: int = 64
    seed: int = 0
    threads: int = 1
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.mode not in ("two_stage", "joint"):
            raise ValueError(f"mode must be 'two_stage' or 'joint', got {self.mode!r}")
        if self.horizon < 1:
            raise ValueError(f"horizon must be >= 1, got {self.horizon}")


def _block(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.GroupNorm(8, cout), nn.SiLU(),
                         nn.Conv2d(cout, cout, 3, 1, 1), nn.GroupNorm(8, cout), nn.SiLU())


class VideoPredictor(nn.Module):
    """Two frames ``[B, 2, 3, H, W]`` -> the next ``horizon`` frames ``[B, K, 3, H, W]`` in [0, 1]
    (H and W divisible by 4), and the features the action head reads."""

    def __init__(self, horizon: int, width: int = 32) -> None:
        super().__init__()
        self.horizon = horizon
        self.enc1 = _block(6, width)
        self.enc2 = _block(width, 2 * width, 2)
        self.enc3 = _block(2 * width, 4 * width, 2)
        self.up2 = nn.ConvTranspose2d(4 * width, 2 * width, 2, 2)
        self.dec2 = _block(4 * width, 2 * width)
        self.up1 = nn.ConvTranspose2d(2 * width, width, 2, 2)
        self.dec1 = _block(2 * width, width)
        self.out = nn.Conv2d(width, 3 * horizon, 1)
        self.feature_dim = 4 * width + width

    def forward(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, _, _, h, w = frames.shape
        x = frames.flatten(1, 2)
        e1 = self.enc1(x)
        e2 = self.enc2(e1)
        e3 = self.enc3(e2)
        d2 = self.dec2(torch.cat((self.up2(e3), e2), dim=1))
        d1 = self.dec1(torch.cat((self.up1(d2), e1), dim=1))
        future = torch.sigmoid(self.out(d1)).view(b, self.horizon, 3, h, w)
        features = torch.cat((e3.mean(dim=(2, 3)), d1.mean(dim=(2, 3))), dim=1)
        return future, features


class VideoPolicy(nn.Module):
    """The predictor and an action head on its features; ``forward`` gives the action only."""

    def __init__(self, horizon: int, width: int = 32, hidden: int = 256, proprio_dim: int = 0) -> None:
        super().__init__()
        self.predictor = VideoPredictor(horizon, width)
        self.state = StateEncoder(proprio_dim) if proprio_dim else None
        features = self.predictor.feature_dim + (StateEncoder.features if proprio_dim else 0)
        self.head = nn.Sequential(nn.Linear(features, hidden), nn.ReLU(),
                                  nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 7))

    def act(self, features: torch.Tensor, proprio: torch.Tensor | None) -> torch.Tensor:
        """The action from the predictor's features (and the robot's state)."""
        if self.state is not None:
            features = self.state.join(features, proprio)
        return torch.tanh(self.head(features))

    def forward(self, frames: torch.Tensor, proprio: torch.Tensor | None = None) -> torch.Tensor:
        return self.act(self.predictor(frames)[1], proprio)


class FrameWindows(torch.utils.data.Dataset):
    """(frames t-1 and t, frames t+1 .. t+K, the robot's state t, action t): the future is clamped
    at the episode's end."""

    def __init__(self, episodes: list[Episode], horizon: int) -> None:
        if not episodes:
            raise ValueError("no episodes to train on")
        self.images = torch.from_numpy(np.concatenate([e.images for e in episodes])).permute(0, 3, 1, 2).contiguous()
        self.actions = torch.from_numpy(np.concatenate([e.actions for e in episodes])).float()
        self.proprio = torch.from_numpy(np.concatenate([e.proprio() for e in episodes]))
        index, offset = [], 0
        for e in episodes:
            t = np.arange(len(e))
            prev = np.maximum(t - 1, 0)
            future = np.minimum(t[:, None] + np.arange(1, horizon + 1)[None], len(e) - 1)
            index.append(np.concatenate([prev[:, None], t[:, None], future], axis=1) + offset)
            offset += len(e)
        self.index = torch.from_numpy(np.concatenate(index))

    def __len__(self) -> int:
        return len(self.actions)

    def __getitem__(self, i: int):
        frames = self.images[self.index[i]].float() / 255.0
        return frames[:2], frames[2:], self.proprio[i], self.actions[i]


def train_video_policy(data: Path, out_dir: Path, config: VideoPolicyConfig, tasks: set[str] | None = None,
                       progress: bool = True) -> Path:
    """Train on ``data`` (only ``tasks`` when given); writes ``policy.safetensors`` + ``bc.json``."""
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    episodes, env_args = read_episodes(data, tasks)
    size = int(env_args.get("image_size", config.image_size))
    if size % 4:
        raise ValueError(f"{data}: frames of {size} px; the U-Net needs a size divisible by 4")
    dataset = FrameWindows(episodes, config.horizon)
    loader = torch.utils.data.DataLoader(dataset, batch_size=min(config.batch_size, len(dataset)), shuffle=True,
                                         generator=torch.Generator().manual_seed(config.seed))
    net = VideoPolicy(config.horizon, config.width, proprio_dim=PROPRIO_DIM if config.proprio else 0).to(config.device)
    mse = nn.functional.mse_loss
    history: dict[str, list[float]] = {"video": [], "action": []}
    start = time.perf_counter()

    def run(epochs: int, params, video_weight: float, action_weight: float, label: str) -> None:
        optimizer = torch.optim.Adam(params, lr=config.lr)
        for _ in tqdm(range(epochs), desc=label, disable=not progress):
            sums = np.zeros(2)
            for frames, future, proprio, actions in loader:
                frames, future, proprio, actions = (t.to(config.device) for t in (frames, future, proprio, actions))
                predicted, features = net.predictor(frames)
                video_loss = mse(predicted, future)
                action_loss = mse(net.act(features, proprio), actions)
                loss = video_weight * video_loss + action_weight * action_loss
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                sums += np.array([video_loss.item(), action_loss.item()]) * len(actions)
            history["video"].append(sums[0] / len(dataset))
            history["action"].append(sums[1] / len(dataset))

    if config.mode == "two_stage":
        run(config.video_epochs, net.predictor.parameters(), 1.0, 0.0, "video model")
        net.predictor.requires_grad_(False)
        head = [p for name, p in net.named_parameters() if not name.startswith("predictor.")]
        run(config.action_epochs, head, 0.0, 1.0, "action head")
    else:
        run(config.video_epochs + config.action_epochs, net.parameters(), 1.0, 1.0, "joint")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    from safetensors.torch import save_file

    save_file({k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()},
              str(out_dir / "policy.safetensors"))
    record = {"kind": "video", "config": {**asdict(config), "image_size": size}, "data": str(data),
              "episodes": len(episodes), "samples": len(dataset), "tasks": sorted({e.task for e in episodes}),
              "losses": history["action"], "video_losses": history["video"],
              "train_seconds": round(time.perf_counter() - start, 1), "source_policy": env_args.get("policy")}
    (out_dir / "bc.json").write_text(json.dumps(record, indent=1) + "\n")
    return out_dir
