"""Reading a video file into an RGB frame array, with errors that say what is wrong."""
from __future__ import annotations

import logging
from pathlib import Path

import cv2
import imageio.v3 as iio
import numpy as np

from generator.reconstruct.stages import VideoError

__all__ = ["read_video", "write_video", "downscale"]

log = logging.getLogger(__name__)


def read_video(path: Path | str, max_frames: int | None = None) -> np.ndarray:
    """Frames ``uint8 [T, H, W, 3]`` RGB; ``max_frames`` keeps the first frames only."""
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{path}: no such video file")
    frames = []
    try:
        for frame in iio.imiter(path):
            frames.append(_to_rgb(np.asarray(frame), path))
            if max_frames is not None and len(frames) >= max_frames:
                break
    except VideoError:
        raise
    except Exception as exc:  # imageio raises many types for a file it cannot decode
        if not frames:
            raise VideoError(f"{path}: cannot read the video ({type(exc).__name__}: {exc}); "
                             "expected a video file that ffmpeg can decode (mp4, avi, webm, ...)") from exc
        log.warning("%s: decoding stopped after %d frames (%s); using those", path, len(frames), exc)
    if not frames:
        raise VideoError(f"{path}: the video has no frames")
    video = np.stack(frames)
    log.info("read %s: %d frames of %dx%d", path, video.shape[0], video.shape[2], video.shape[1])
    return video


def write_video(path: Path | str, frames: np.ndarray, fps: float = 15.0) -> Path:
    """Write ``uint8 [T, H, W, 3]`` frames as an H.264 mp4 (near-lossless)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(path, frames, fps=fps, codec="libx264", macro_block_size=1, pixelformat="yuv444p",
                output_params=["-crf", "12"])
    return path


def _to_rgb(frame: np.ndarray, path: Path) -> np.ndarray:
    if frame.ndim == 2:
        frame = np.repeat(frame[:, :, None], 3, axis=2)
    if frame.ndim != 3 or frame.shape[2] not in (3, 4):
        raise VideoError(f"{path}: expected RGB frames, got an array of shape {frame.shape}")
    if frame.dtype != np.uint8:
        frame = np.clip(frame, 0, 255).astype(np.uint8)
    return frame[:, :, :3]


def downscale(video: np.ndarray, max_side: int | None) -> tuple[np.ndarray, float]:
    """Resize so that the longer side is at most ``max_side`` pixels; returns the frames and the
    factor applied (1.0 when nothing changed), by which pixel quantities must be scaled."""
    h, w = video.shape[1:3]
    if max_side is None or max(h, w) <= max_side:
        return video, 1.0
    s = max_side / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    return np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in video]), s
