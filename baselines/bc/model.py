"""The BC policy of the paper: a ResNet18 backbone on two stacked frames and a 3-layer MLP head.

The backbone is written here (no torchvision needed) with torchvision's parameter names, so a
``resnet18`` state dict (ImageNet weights the user has, as safetensors or a weights-only .pth)
loads into it with ``load_backbone``; offline it starts from random initialisation. Each frame
goes through the shared backbone (512 features after global pooling); the two feature vectors
are concatenated and the head (512, 512, 7) gives the action. With ``proprio_dim`` the robot's
own state (end-effector pose, gripper width) joins through an MLP to 256, as in the paper's
sim-to-real policy; it tells the policy where the gripper is, which a low-resolution image shows
poorly, and so lets a small CPU budget learn.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

__all__ = ["ResNet18", "StateEncoder", "BCPolicyNet", "load_backbone"]


class _BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet18(nn.Module):
    """ResNet18 without its classifier: images ``[B, 3, H, W]`` in [0, 1] -> features ``[B, 512]``."""

    features = 512
    _MEAN = (0.485, 0.456, 0.406)
    _STD = (0.229, 0.224, 0.225)

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        layers, cin = [], 64
        for i, cout in enumerate((64, 128, 256, 512)):
            stride = 1 if i == 0 else 2
            layers.append(nn.Sequential(_BasicBlock(cin, cout, stride), _BasicBlock(cout, cout, 1)))
            cin = cout
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.register_buffer("mean", torch.tensor(self._MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(self._STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self.mean) / self.std
        x = self.maxpool(torch.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return x.mean(dim=(2, 3))


def load_backbone(backbone: ResNet18, path: Path) -> list[str]:
    """Load a torchvision ``resnet18`` state dict (``fc.*`` ignored) from safetensors or a
    weights-only .pth; returns the keys the file lacked. Pickled objects are refused."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no backbone weights file")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(path))
    else:
        state = torch.load(path, map_location="cpu", weights_only=True)
    state = {k: v for k, v in state.items() if not k.startswith("fc.")}
    result = backbone.load_state_dict(state, strict=False)
    if result.unexpected_keys:
        raise ValueError(f"{path}: not a resnet18 state dict (unexpected keys {result.unexpected_keys[:4]} ...)")
    return list(result.missing_keys)


class StateEncoder(nn.Module):
    """The robot's state ``[B, D]`` -> 256 features, appended to an image policy's features."""

    features = 256

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(dim, self.features), nn.ReLU())

    def join(self, features: torch.Tensor, proprio: torch.Tensor | None) -> torch.Tensor:
        if proprio is None:
            raise ValueError("this policy reads the robot's state: pass proprio [B, %d]" % self.mlp[0].in_features)
        return torch.cat((features, self.mlp(proprio)), dim=1)


class BCPolicyNet(nn.Module):
    """Two frames ``[B, 2, 3, H, W]`` (and the robot's state ``[B, proprio_dim]`` when it has one)
    -> action ``[B, 7]`` in [-1, 1]."""

    def __init__(self, hidden: int = 512, action_dim: int = 7, frames: int = 2, proprio_dim: int = 0) -> None:
        super().__init__()
        self.frames = frames
        self.backbone = ResNet18()
        self.state = StateEncoder(proprio_dim) if proprio_dim else None
        width = frames * ResNet18.features + (StateEncoder.features if proprio_dim else 0)
        self.head = nn.Sequential(nn.Linear(width, hidden), nn.ReLU(),
                                  nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, action_dim))

    def forward(self, frames: torch.Tensor, proprio: torch.Tensor | None = None) -> torch.Tensor:
        b, k = frames.shape[:2]
        return self.act(self.backbone(frames.flatten(0, 1)).view(b, k, ResNet18.features), proprio)

    def act(self, features: torch.Tensor, proprio: torch.Tensor | None = None) -> torch.Tensor:
        """The action from per-frame backbone features ``[B, frames, 512]``: a rollout encodes each
        new frame once and reuses the previous frame's features."""
        features = features.flatten(1)
        if self.state is not None:
            features = self.state.join(features, proprio)
        return torch.tanh(self.head(features))
