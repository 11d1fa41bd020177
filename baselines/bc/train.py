"""Behaviour cloning: the paper's configuration and a CPU-scale one, weights-only checkpoints.

The paper trains 30 epochs at batch 1024 with learning rate 3e-4 for the head and 3e-5 for the
(pre-trained) ResNet18 on 256 x 256 frames. Offline the backbone starts from random weights, and
a backbone that low would barely move: without ``backbone_weights`` it trains at the head's rate
(``BCConfig.backbone_lr`` None). The CPU preset keeps the recipe at 64 x 64 frames and gives
every training set the same budget of gradient steps (batch 64), so a scaling curve over the
number of tasks compares data, not compute; it adds the robot's state as an input (the paper's
sim-to-real policy does), which the paper's RGB-only preset leaves out. The checkpoint is
``policy.safetensors`` + ``bc.json`` (config, data, losses per pass): weights only, as
everywhere in this project.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
from tqdm import tqdm

from .dataset import PROPRIO_DIM, FramePairs, read_episodes
from .model import BCPolicyNet, load_backbone

__all__ = ["BCConfig", "PRESETS", "train_bc", "load_policy"]

log = logging.getLogger(__name__)


@dataclass
class BCConfig:
    image_size: int = 64
    epochs: int = 5
    steps: int | None = None  # gradient steps; when set, passes over the data repeat until done (epochs ignored)
    batch_size: int = 256
    head_lr: float = 3e-4
    backbone_lr: float | None = None  # None: 3e-5 with backbone_weights, else head_lr
    hidden: int = 512
    proprio: bool = False  # the robot's state (end-effector pose, gripper width) as a second input
    backbone_weights: str | None = None
    seed: int = 0
    threads: int = 1
    device: str = "cpu"  # "cuda" for the paper preset on a GPU

    def effective_backbone_lr(self) -> float:
        if self.backbone_lr is not None:
            return self.backbone_lr
        return 3e-5 if self.backbone_weights else self.head_lr


PRESETS = {
    "cpu": BCConfig(steps=400, batch_size=64, proprio=True),
    "paper": BCConfig(image_size=256, epochs=30, batch_size=1024),
}


def train_bc(data: Path, out_dir: Path, config: BCConfig, tasks: set[str] | None = None,
             progress: bool = True) -> Path:
    """Train on the episodes of ``data`` (only ``tasks`` when given); returns ``out_dir``."""
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    episodes, env_args = read_episodes(data, tasks)
    if not episodes:
        raise ValueError(f"{data}: no episodes{' of the chosen tasks' if tasks else ''} to train on")
    size = env_args.get("image_size")
    if size is not None and int(size) != config.image_size:
        # the network pools globally, so any size trains; the data decides (collect at the preset's size)
        log.warning("%s: frames are %s px, the preset's %d px: training at %s px", data, size, config.image_size, size)
        config = replace(config, image_size=int(size))
    dataset = FramePairs(episodes)
    loader = torch.utils.data.DataLoader(dataset, batch_size=min(config.batch_size, len(dataset)), shuffle=True,
                                         generator=torch.Generator().manual_seed(config.seed), drop_last=False)
    net = BCPolicyNet(hidden=config.hidden, proprio_dim=PROPRIO_DIM if config.proprio else 0).to(config.device)
    if config.backbone_weights:
        missing = load_backbone(net.backbone, Path(config.backbone_weights))
        if missing:
            log.warning("backbone weights lack %d keys (e.g. %s); those stay random", len(missing), missing[0])
    head = [p for name, p in net.named_parameters() if not name.startswith("backbone.")]  # the head and state MLP
    optimizer = torch.optim.Adam([
        {"params": net.backbone.parameters(), "lr": config.effective_backbone_lr()},
        {"params": head, "lr": config.head_lr}])
    losses = []
    start = time.perf_counter()
    net.train()
    passes, steps_left = _passes(config, len(loader))
    bar = tqdm(total=steps_left, desc="bc", disable=not progress)
    for epoch in range(passes):
        total, count = 0.0, 0
        for frames, proprio, actions in loader:
            if steps_left == 0:
                break
            frames, proprio, actions = (t.to(config.device) for t in (frames, proprio, actions))
            loss = torch.nn.functional.mse_loss(net(frames, proprio), actions)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(actions)
            count += len(actions)
            steps_left -= 1
            bar.update()
        losses.append(total / count)
        log.info("pass %d: loss %.4f", epoch, losses[-1])
    bar.close()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    from safetensors.torch import save_file

    save_file({k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()},
              str(out_dir / "policy.safetensors"))
    record = {"config": asdict(config), "data": str(data), "episodes": len(episodes), "samples": len(dataset),
              "tasks": sorted({e.task for e in episodes}), "losses": losses,
              "train_seconds": round(time.perf_counter() - start, 1), "source_policy": env_args.get("policy")}
    (out_dir / "bc.json").write_text(json.dumps(record, indent=1) + "\n")
    return out_dir


def _passes(config: BCConfig, batches_per_pass: int) -> tuple[int, int]:
    """Passes over the data and gradient steps: ``epochs`` whole passes, or ``steps`` steps."""
    if config.steps is None:
        return config.epochs, config.epochs * batches_per_pass
    return -(-config.steps // batches_per_pass), config.steps


def load_policy(run_dir: Path) -> tuple[torch.nn.Module, BCConfig]:
    """The trained network (eval mode) and a config with its image size, from a ``v2p bc train``
    folder: the ResNet18 BC policy or the video-prediction policy (``bc.json`` says which)."""
    run_dir = Path(run_dir)
    meta = run_dir / "bc.json"
    if not meta.is_file() or not (run_dir / "policy.safetensors").is_file():
        raise FileNotFoundError(f"{run_dir}: no BC checkpoint (policy.safetensors + bc.json); train with v2p bc train")
    from safetensors.torch import load_file

    record = json.loads(meta.read_text())
    if record.get("kind") == "video":
        from .video_policy import VideoPolicy, VideoPolicyConfig

        video = VideoPolicyConfig(**{"proprio": False, **record["config"]})  # older runs had no state input
        net = VideoPolicy(video.horizon, video.width, proprio_dim=PROPRIO_DIM if video.proprio else 0)
        config = replace(BCConfig(), image_size=video.image_size, seed=video.seed)
    else:
        config = replace(BCConfig(), **record["config"])
        net = BCPolicyNet(hidden=config.hidden, proprio_dim=PROPRIO_DIM if config.proprio else 0)
    net.load_state_dict(load_file(str(run_dir / "policy.safetensors")))
    return net.eval(), config
