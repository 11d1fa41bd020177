"""Rendered test videos with exact truth, from our own MuJoCo scenes (issue 5, item 4).

Everyday-object meshes (``generator.assets``) stand on the env's table (``v2p_envs.scene_builder``)
and are moved kinematically along scripted trajectories (pushed, lifted, dropped, thrown); a free
camera with known intrinsics and pose films them. Each video folder holds ``video.mp4``,
``truth.json`` (caption, objects, camera, sizes, camera-frame poses per frame, frame-0 boxes) and
``truth.npz`` (depth in millimetres, object masks). Run
``python -m generator.reconstruct.testvideos --out generator/reconstruct/data`` (needs MUJOCO_GL=egl
or osmesa; the collision parts of each mesh take a while the first time, then are cached).
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generator.reconstruct.geometry import Intrinsics, Pose
from generator.reconstruct.stages import Box
from generator.reconstruct.synthetic import trajectory
from generator.reconstruct.video import write_video

__all__ = ["Scenario", "SCENARIOS", "RenderCamera", "render_scenario", "load_truth", "main", "DATA_DIR"]

#: The rendered test videos shipped with the package (one folder per scenario: video.mp4, truth).
DATA_DIR = Path(__file__).resolve().parent / "data"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Scenario:
    name: str
    caption: str
    #: per object: (catalogue kind, trajectory kind, start xy on the table, end xy)
    objects: tuple[tuple[str, str, tuple[float, float], tuple[float, float]], ...]


SCENARIOS = (
    Scenario("push_block", "push block next to bowl",
             (("block", "push", (-0.08, -0.06), (0.06, -0.02)), ("bowl", "static", (0.05, 0.12), (0.05, 0.12)))),
    Scenario("lift_mouse", "lift mouse from the table",
             (("mouse", "lift", (0.0, 0.0), (0.0, 0.0)),)),
    Scenario("drop_garlic", "drop garlic next to cup",
             (("garlic", "drop", (-0.04, 0.0), (-0.04, 0.0)), ("cup", "static", (0.1, 0.08), (0.1, 0.08)))),
    Scenario("throw_garlic", "throw garlic into bowl",
             (("garlic", "throw", (-0.12, -0.08), (0.08, 0.1)), ("bowl", "static", (0.08, 0.1), (0.08, 0.1)))),
    Scenario("slide_remote", "slide remote towards mouse",
             (("remote", "push", (-0.1, -0.04), (0.02, 0.02)), ("mouse", "static", (0.1, 0.1), (0.1, 0.1)))),
)


@dataclass(frozen=True)
class RenderCamera:
    """A MuJoCo free camera: looks at ``lookat`` (table frame xy, height above the table) from
    ``distance`` metres, ``elevation_deg`` below the horizon, ``azimuth_deg`` as in MuJoCo."""

    width: int = 320
    height: int = 240
    lookat: tuple[float, float, float] = (0.0, 0.02, 0.02)
    distance: float = 0.7
    azimuth_deg: float = 90.0
    elevation_deg: float = -40.0
    fovy_deg: float = 45.0

    @property
    def intrinsics(self) -> Intrinsics:
        f = 0.5 * self.height / math.tan(math.radians(self.fovy_deg) / 2)
        return Intrinsics(f, f, self.width / 2, self.height / 2)

    def world_from_camera(self, table_height: float) -> Pose:
        """OpenCV camera (x right, y down, z forward) to world."""
        az, el = math.radians(self.azimuth_deg), math.radians(self.elevation_deg)
        forward = np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])
        target = np.array(self.lookat) + [0, 0, table_height]
        eye = target - self.distance * forward
        right = np.cross(forward, [0.0, 0.0, 1.0])
        right /= np.linalg.norm(right)
        down = np.cross(forward, right)
        return Pose(np.stack([right, down, forward], axis=1), eye)


def render_scenario(scenario: Scenario, out_dir: Path, asset_dir: Path, num_frames: int = 30,
                    camera: RenderCamera = RenderCamera(), fps: float = 15.0) -> Path:
    """Render one scenario into ``out_dir / scenario.name``; returns that folder. Meshes and
    their collision-part caches go to ``asset_dir`` (reused between runs)."""
    os.environ.setdefault("MUJOCO_GL", "egl")
    import mujoco

    from generator.assets import OBJECT_SIZES, write_object_mesh
    from v2p_envs.scene_builder import build_scene
    from v2p_envs.scene_spec import ObjectSpec, SceneSpec

    folder = Path(out_dir) / scenario.name
    folder.mkdir(parents=True, exist_ok=True)
    mesh_dir = Path(asset_dir).resolve()
    mesh_dir.mkdir(parents=True, exist_ok=True)
    specs, tracks = [], {}
    for kind, motion, start, end in scenario.objects:
        if not (mesh_dir / f"{kind}.obj").is_file():
            write_object_mesh(kind, mesh_dir / f"{kind}.obj")
        specs.append(ObjectSpec(kind, OBJECT_SIZES[kind], f"{kind}.obj"))
        tracks[kind] = trajectory(motion, start, OBJECT_SIZES[kind], num_frames, end=end, yaw0=0.2)
    scene = SceneSpec(scenario.caption, "Render", scenario.caption, tuple(specs), source_dir=mesh_dir)
    built = build_scene(scene)
    model, data = built.model, mujoco.MjData(built.model)
    table_h = built.config.table_height
    renderer = mujoco.Renderer(model, camera.height, camera.width)
    renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = False
    cam = mujoco.MjvCamera()
    cam.type = mujoco.mjtCamera.mjCAMERA_FREE
    cam.lookat[:] = np.array(camera.lookat) + [0, 0, table_h]
    cam.distance, cam.azimuth, cam.elevation = camera.distance, camera.azimuth_deg, camera.elevation_deg
    model.vis.global_.fovy = camera.fovy_deg
    options = mujoco.MjvOption()
    options.geomgroup[:] = [1, 1, 1, 0, 0, 0]
    cam_from_world = camera.world_from_camera(table_h).inverse()
    names = [o.name for o in specs]
    geom_ids = {n: model.geom(f"{n}_visual").id for n in names}
    frames = np.empty((num_frames, camera.height, camera.width, 3), np.uint8)
    depth = np.empty((num_frames, camera.height, camera.width), np.uint16)
    masks = np.zeros((len(names), num_frames, camera.height, camera.width), bool)
    poses: dict[str, list[list[float]]] = {n: [] for n in names}
    for k in range(num_frames):
        for n in names:
            x, y, z, roll, pitch, yaw = tracks[n][k]
            adr = built.object_qpos_adr[n]
            quat = np.empty(4)
            mujoco.mju_euler2Quat(quat, np.array([roll, pitch, yaw]), "XYZ")
            data.qpos[adr:adr + 7] = [x, y, table_h + z, *quat]
        mujoco.mj_forward(model, data)
        renderer.update_scene(data, camera=cam, scene_option=options)
        frames[k] = renderer.render()
        renderer.enable_depth_rendering()
        renderer.update_scene(data, camera=cam, scene_option=options)
        depth[k] = np.clip(renderer.render() * 1000.0, 0, 65535).astype(np.uint16)
        renderer.disable_depth_rendering()
        renderer.enable_segmentation_rendering()
        renderer.update_scene(data, camera=cam, scene_option=options)
        seg = renderer.render()[..., 0]
        renderer.disable_segmentation_rendering()
        for i, n in enumerate(names):
            masks[i, k] = seg == geom_ids[n]
            body = model.body(n).id
            world = Pose(data.xmat[body].reshape(3, 3).copy(), data.xpos[body].copy())
            poses[n].append(cam_from_world.compose(world).to_list())
    renderer.close()
    write_video(folder / "video.mp4", frames, fps=fps)
    np.savez_compressed(folder / "truth.npz", depth_mm=depth, masks=np.packbits(masks, axis=-1))
    intr = camera.intrinsics
    eye = camera.world_from_camera(table_h).translation
    truth = {
        "caption": scenario.caption,
        "objects": names,
        "intrinsics": [intr.fx, intr.fy, intr.cx, intr.cy],
        "camera_height_m": float(eye[2] - table_h),
        "camera_pitch_deg": -camera.elevation_deg,
        "image_size": [camera.width, camera.height],
        "sizes": {n: list(OBJECT_SIZES[n]) for n in names},
        "boxes": {n: _box(masks[i, 0]) for i, n in enumerate(names)},
        "poses": poses,
        "trajectories": {kind: motion for kind, motion, _, _ in scenario.objects},
    }
    (folder / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    log.info("rendered %s: %d frames", folder, num_frames)
    return folder


def load_truth(folder: Path) -> tuple[dict, np.ndarray, dict[str, np.ndarray]]:
    """``truth.json`` as a dict, depth ``float32 [T, H, W]`` in metres (0 = none), masks per object."""
    folder = Path(folder)
    truth = json.loads((folder / "truth.json").read_text())
    arrays = np.load(folder / "truth.npz")
    width = truth["image_size"][0]
    masks = np.unpackbits(arrays["masks"], axis=-1, count=width).astype(bool)
    return truth, arrays["depth_mm"].astype(np.float32) / 1000.0, dict(zip(truth["objects"], masks))


def _box(mask: np.ndarray) -> list[float] | None:
    if not mask.any():
        return None
    b = Box.from_mask(mask)
    return [b.x0, b.y0, b.x1, b.y1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generator.reconstruct.testvideos", description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="folder for one sub-folder per video")
    parser.add_argument("--assets", type=Path, default=Path.home() / ".cache" / "v2p" / "testvideo_assets",
                        help="meshes and their collision-part caches (default %(default)s)")
    parser.add_argument("--frames", type=int, default=30, help="frames per video (default %(default)s)")
    parser.add_argument("--only", nargs="*", choices=[s.name for s in SCENARIOS], help="render only these")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for scenario in SCENARIOS:
        if not args.only or scenario.name in args.only:
            render_scenario(scenario, args.out, args.assets, args.frames)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
