"""Synthetic scenes with exact truth for the reconstruction tests."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.reconstruct.depth import CameraPrior
from generator.reconstruct.stages import Box
from generator.reconstruct.synthetic import SyntheticCamera, SyntheticObject, SyntheticVideo, render, trajectory
from generator.reconstruct.video import write_video

CAMERA = SyntheticCamera(width=256, height=192, height_m=0.4, pitch_deg=45)
TIN = (0.07, 0.05, 0.04)
JAR = (0.10, 0.10, 0.06)


def push_scene(num_frames: int = 16) -> SyntheticVideo:
    """A textured box pushed past a static cylinder."""
    return render([
        SyntheticObject("tin", "box", TIN, (230, 230, 240),
                        trajectory("push", (-0.06, -0.02), TIN, num_frames, end=(0.08, 0.02))),
        SyntheticObject("jar", "cylinder", JAR, (60, 90, 200),
                        trajectory("static", (0.02, 0.15), JAR, num_frames)),
    ], CAMERA)


def camera_prior() -> CameraPrior:
    return CameraPrior(CAMERA.intrinsics, camera_height_m=CAMERA.height_m, camera_pitch_deg=CAMERA.pitch_deg)


@pytest.fixture(scope="session")
def push_video() -> SyntheticVideo:
    return push_scene()


@pytest.fixture(scope="session")
def push_files(tmp_path_factory: pytest.TempPathFactory, push_video: SyntheticVideo) -> tuple[Path, Path]:
    """The push scene as an mp4 and a prompt file with the true frame-0 boxes."""
    folder = tmp_path_factory.mktemp("push")
    video = write_video(folder / "push.mp4", push_video.frames)
    boxes = {}
    for name, mask in push_video.masks.items():
        b = Box.from_mask(mask[0])
        boxes[name] = [b.x0 - 2, b.y0 - 2, b.x1 + 2, b.y1 + 2]
    prompts = folder / "boxes.json"
    prompts.write_text(json.dumps(boxes))
    return video, prompts
