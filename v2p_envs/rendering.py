"""Offscreen RGB rendering from the scene's fixed camera (headless EGL or OSMesa)."""
from __future__ import annotations

import mujoco
import numpy as np

from .scene_builder import RENDER_CAMERA

__all__ = ["SceneRenderer", "RENDER_SIZE"]

RENDER_SIZE = 256


class SceneRenderer:
    """Renders one MjData at a time. Shadows are off (measured ~5x faster in software GL) and so
    is multisample anti-aliasing unless ``antialias``: fast frames for the data engine; pass
    ``antialias=True`` for smoother videos."""

    def __init__(self, model: mujoco.MjModel, width: int = RENDER_SIZE, height: int = RENDER_SIZE,
                 camera: str = RENDER_CAMERA, shadows: bool = False, antialias: bool = False) -> None:
        samples = model.vis.quality.offsamples
        model.vis.quality.offsamples = samples if antialias else 0  # read when the GL context is made
        try:
            self._renderer = mujoco.Renderer(model, height=height, width=width)
        except Exception as exc:  # GL context creation fails with several error types
            raise RuntimeError(
                f"cannot create an offscreen GL context ({exc}). Set MUJOCO_GL=egl (or osmesa after "
                "'apt-get install libosmesa6') before importing v2p_envs.") from None
        finally:
            model.vis.quality.offsamples = samples
        self._renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = shadows
        self.camera = camera
        self._options = mujoco.MjvOption()
        self._options.geomgroup[:] = [1, 1, 1, 0, 0, 0]  # hide collision hulls (3) and sites (4)
        self._options.sitegroup[:] = [0] * len(self._options.sitegroup)

    def render(self, data: mujoco.MjData) -> np.ndarray:
        self._renderer.update_scene(data, camera=self.camera, scene_option=self._options)
        return self._renderer.render()

    def render_segmentation(self, data: mujoco.MjData) -> np.ndarray:
        """The geom id seen at each pixel (height x width, int32; -1 where no geom is seen)."""
        self._renderer.enable_segmentation_rendering()
        try:
            self._renderer.update_scene(data, camera=self.camera, scene_option=self._options)
            return self._renderer.render()[..., 0].astype(np.int32)
        finally:
            self._renderer.disable_segmentation_rendering()

    def close(self) -> None:
        self._renderer.close()
