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

__all__ = ["Scenario", "SCENARIOS", "RenderCamera", "RenderObject", "render_scenario", "render_video", "load_truth", "main", "DATA_DIR"]

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

    @property
    def horizontal_fov_deg(self) -> float:
        return math.degrees(2 * math.atan(self.width / self.height * math.tan(math.radians(self.fovy_deg) / 2)))

    @classmethod
    def looking_at(cls, lookat_xy: tuple[float, float], height_m: float, pitch_deg: float, horizontal_fov_deg: float,
                   azimuth_deg: float = 90.0, width: int = 320, height: int = 240) -> "RenderCamera":
        """A camera ``height_m`` above the table, tilted down ``pitch_deg``, aimed at a table point."""
        fovy = math.degrees(2 * math.atan(height / width * math.tan(math.radians(horizontal_fov_deg) / 2)))
        return cls(width, height, (lookat_xy[0], lookat_xy[1], 0.0), height_m / math.sin(math.radians(pitch_deg)),
                   azimuth_deg, -pitch_deg, fovy)

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


@dataclass(frozen=True)
class RenderObject:
    """One object of a rendered video: its name (as in the caption), mesh file (scaled to
    ``size``), size (l, w, h) in metres, motion label and table-frame track
    ``(x, y, z, roll, pitch, yaw)`` per frame (``synthetic.trajectory``)."""

    name: str
    mesh_file: Path
    size: tuple[float, float, float]
    motion: str
    track: list[tuple[float, ...]]


def render_scenario(scenario: Scenario, out_dir: Path, asset_dir: Path, num_frames: int = 30,
                    camera: RenderCamera = RenderCamera(), fps: float = 15.0) -> Path:
    """Render one scenario into ``out_dir / scenario.name``; returns that folder. Meshes and
    their collision-part caches go to ``asset_dir`` (reused between runs)."""
    from generator.assets import OBJECT_SIZES, write_object_mesh

    mesh_dir = Path(asset_dir).resolve()
    mesh_dir.mkdir(parents=True, exist_ok=True)
    objects = []
    for kind, motion, start, end in scenario.objects:
        if not (mesh_dir / f"{kind}.obj").is_file():
            write_object_mesh(kind, mesh_dir / f"{kind}.obj")
        size = OBJECT_SIZES[kind]
        objects.append(RenderObject(kind, mesh_dir / f"{kind}.obj", size, motion,
                                    trajectory(motion, start, size, num_frames, end=end, yaw0=0.2)))
    return render_video(Path(out_dir) / scenario.name, scenario.caption, objects, camera, fps)


def render_video(folder: Path, caption: str, objects: list[RenderObject], camera: RenderCamera = RenderCamera(),
                 fps: float = 15.0, extra_truth: dict | None = None) -> Path:
    """Film ``objects`` on the env's table (robot hidden) into ``folder``: ``video.mp4``,
    ``truth.json`` and ``truth.npz``; returns the folder. Needs MUJOCO_GL=egl or osmesa."""
    os.environ.setdefault("MUJOCO_GL", "egl")
    import mujoco

    from v2p_envs.scene_builder import build_scene
    from v2p_envs.scene_spec import ObjectSpec, SceneSpec

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    num_frames = len(objects[0].track)
    specs = tuple(ObjectSpec(o.name, tuple(o.size), str(Path(o.mesh_file).resolve())) for o in objects)
    scene = SceneSpec(caption, "Render", caption, specs, source_dir=Path(objects[0].mesh_file).resolve().parent)
    built = build_scene(scene)
    model, data = built.model, mujoco.MjData(built.model)
    names = [o.name for o in objects]
    geom_ids = {n: model.geom(f"{n}_visual").id for n in names}
    # only the table, the floor and the objects are filmed: the robot's visuals go to a hidden group
    shown = set(geom_ids.values())
    for g in range(model.ngeom):
        if model.geom_group[g] == 2 and g not in shown:
            model.geom_group[g] = 4
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
    frames = np.empty((num_frames, camera.height, camera.width, 3), np.uint8)
    depth = np.empty((num_frames, camera.height, camera.width), np.uint16)
    masks = np.zeros((len(names), num_frames, camera.height, camera.width), bool)
    poses: dict[str, list[list[float]]] = {n: [] for n in names}
    for k in range(num_frames):
        for o in objects:
            x, y, z, roll, pitch, yaw = o.track[k]
            adr = built.object_qpos_adr[o.name]
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
        "caption": caption,
        "objects": names,
        "intrinsics": [intr.fx, intr.fy, intr.cx, intr.cy],
        "camera_height_m": float(eye[2] - table_h),
        "camera_pitch_deg": -camera.elevation_deg,
        "horizontal_fov_deg": camera.horizontal_fov_deg,
        "image_size": [camera.width, camera.height],
        "sizes": {o.name: [float(v) for v in o.size] for o in objects},
        "boxes": {n: _box(masks[i, 0]) for i, n in enumerate(names)},
        "poses": poses,
        "trajectories": {o.name: o.motion for o in objects},
        **(extra_truth or {}),
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
