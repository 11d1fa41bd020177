"""A procedurally generated truth set: random objects, motions and cameras, rendered with exact truth.

Reconstruction was developed on five videos whose objects come from the same catalogue as its
shape prior, filmed by one camera. This set is what it has not seen: per video a moved object
(a box, can or ball of random proportions, or a catalogue object at a random scale; 3-25 cm)
pushed, slid, lifted, thrown or tipped over, a static second object in about half of the
videos, and a camera 0.3-0.8 m above the table, pitched 20-60 degrees down, with a 40-70 degree
horizontal field of view, turned 8-30 degrees off the table's sides. Each case is a pure
function of ``(seed, index)``; rendering goes through ``testvideos.render_video``, so every
folder has the same ``video.mp4`` / ``truth.json`` / ``truth.npz`` as the shipped test videos.

    python -m generator.reconstruct.truthset --out runs/truthset --count 30
"""
from __future__ import annotations

import argparse
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import trimesh
from tqdm import tqdm

from generator.reconstruct.synthetic import trajectory
from generator.reconstruct.testvideos import RenderCamera, RenderObject, render_video

__all__ = ["TruthObject", "TruthCase", "PRIMITIVE_NAMES", "CATALOGUE_KINDS", "MOTIONS", "sample_case",
           "sample_cases", "render_case", "main"]

log = logging.getLogger(__name__)

#: primitive shape -> the name it goes by in the caption
PRIMITIVE_NAMES = {"box": "box", "cylinder": "can", "sphere": "ball"}
#: catalogue objects used in the set (the concave bowl and cup take ~40 s of collision parts once)
CATALOGUE_KINDS = ("bottle", "cup", "snack_box", "mouse", "remote", "sponge", "block", "bowl")
MOTIONS = ("push", "slide", "lift", "throw", "tip")
_VERBS = {"push": "push", "slide": "slide", "lift": "lift", "throw": "throw", "tip": "tip over"}
_TABLE_HEIGHT = 0.4  # v2p_envs.scene_builder.SceneConfig.table_height


@dataclass(frozen=True)
class TruthObject:
    name: str
    shape: str  # "box" / "cylinder" / "sphere" or a catalogue kind
    size: tuple[float, float, float]
    motion: str
    start: tuple[float, float]
    end: tuple[float, float]
    yaw: float


@dataclass(frozen=True)
class TruthCase:
    name: str
    caption: str
    objects: tuple[TruthObject, ...]
    camera: RenderCamera

    @property
    def has_static(self) -> bool:
        return any(o.motion == "static" for o in self.objects)


def _sample_object(rng: np.random.Generator, taken: set[str]) -> tuple[str, str, tuple[float, float, float]]:
    """(name, shape, size) of a random object whose name is not in ``taken``."""
    from generator.assets import OBJECT_SIZES

    while True:
        if rng.random() < 0.5:
            shape = str(rng.choice(list(PRIMITIVE_NAMES)))
            name = PRIMITIVE_NAMES[shape]
            if shape == "box":
                size = tuple(float(v) for v in rng.uniform(0.03, 0.25, 3))
            elif shape == "cylinder":
                d = float(rng.uniform(0.03, 0.15))
                size = (d, d, float(rng.uniform(0.03, 0.25)))
            else:
                d = float(rng.uniform(0.03, 0.15))
                size = (d, d, d)
        else:
            shape = name = str(rng.choice(CATALOGUE_KINDS))
            base = np.array(OBJECT_SIZES[shape])
            lo, hi = 0.03 / base.min(), 0.25 / base.max()  # every dimension within 3-25 cm
            scale = float(rng.uniform(max(0.5, lo), min(1.6, hi))) if max(0.5, lo) < min(1.6, hi) else 1.0
            size = tuple(float(v) for v in base * scale)
        if name not in taken:
            return name, shape, size


def _radius(size: tuple[float, float, float]) -> float:
    return 0.5 * math.hypot(size[0], size[1])


def sample_case(seed: int, index: int) -> TruthCase:
    """The ``index``-th case of the set ``seed`` (independent of how many are drawn)."""
    rng = np.random.default_rng([seed, index])
    name, shape, size = _sample_object(rng, set())
    motions = [m for m in MOTIONS if not (m == "tip" and shape in ("sphere", "bowl"))]
    motion = str(rng.choice(motions))
    start = tuple(float(v) for v in rng.uniform(-0.12, 0.12, 2))
    heading = rng.uniform(-math.pi, math.pi)
    travel = float(rng.uniform(0.10, 0.20)) if motion in ("push", "slide", "throw") else 0.0
    end = (start[0] + travel * math.cos(heading), start[1] + travel * math.sin(heading))
    yaw = float(rng.uniform(-math.pi, math.pi))
    moved = TruthObject(name, shape, size, motion, start, end, yaw)
    objects = [moved]
    if rng.random() < 0.5:
        s_name, s_shape, s_size = _sample_object(rng, {name})
        clearance = _radius(size) + _radius(s_size) + 0.04
        for _ in range(100):
            xy = tuple(float(v) for v in rng.uniform(-0.25, 0.25, 2))
            path = np.linspace(start, end, 8) if motion != "tip" else np.array([start, start])
            reach = clearance + (size[2] if motion == "tip" else 0.0)
            if np.min(np.linalg.norm(path - np.array(xy), axis=1)) > reach:
                objects.append(TruthObject(s_name, s_shape, s_size, "static", xy, xy, float(rng.uniform(-math.pi, math.pi))))
                break
    centre = np.mean([np.mean([o.start, o.end], axis=0) for o in objects], axis=0)
    # the person filming stands at the table's -y side, turned 8-30 degrees left or right
    turn = float(rng.uniform(8.0, 30.0)) * (1 if rng.random() < 0.5 else -1)
    camera = RenderCamera.looking_at((float(centre[0]), float(centre[1])), float(rng.uniform(0.3, 0.8)),
                                     float(rng.uniform(20.0, 60.0)), float(rng.uniform(40.0, 70.0)), 90.0 + turn)
    verb = _VERBS[motion]
    caption = f"{verb} the {name}" + (f" next to the {objects[1].name}" if len(objects) > 1 else "")
    return TruthCase(f"gen_{seed:02d}_{index:03d}", caption, tuple(objects), camera)


def _in_view(case: TruthCase, tracks: dict[str, list[tuple[float, ...]]], margin_px: float = 4.0) -> bool:
    """Whether every object's bounding sphere stays inside the image on every frame."""
    cam = case.camera
    cam_from_world = cam.world_from_camera(_TABLE_HEIGHT).inverse()
    intr = cam.intrinsics
    for obj in case.objects:
        r = 0.5 * float(np.linalg.norm(obj.size))
        centres = np.array([[x, y, _TABLE_HEIGHT + z] for x, y, z, *_ in tracks[obj.name]])
        pts = cam_from_world.apply(centres)
        if np.any(pts[:, 2] < 0.1):
            return False
        uv = intr.project(pts)
        pad = intr.fx * r / pts[:, 2] + margin_px
        if np.any(uv[:, 0] - pad < 0) or np.any(uv[:, 0] + pad > cam.width) or \
                np.any(uv[:, 1] - pad < 0) or np.any(uv[:, 1] + pad > cam.height):
            return False
    return True


def _tracks(case: TruthCase, num_frames: int) -> dict[str, list[tuple[float, ...]]]:
    return {o.name: trajectory(o.motion, o.start, o.size, num_frames, end=o.end, yaw0=o.yaw) for o in case.objects}


def sample_cases(count: int, seed: int = 0, num_frames: int = 30) -> list[TruthCase]:
    """``count`` cases whose objects stay in view throughout (cases that leave it are skipped)."""
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    cases, index = [], 0
    while len(cases) < count:
        case = sample_case(seed, index)
        index += 1
        if _in_view(case, _tracks(case, num_frames)):
            cases.append(case)
        if index > 50 * count:
            raise RuntimeError(f"only {len(cases)} of {index} sampled cases keep their objects in view")
    return cases


def _mesh_file(shape: str, asset_dir: Path) -> Path:
    """A mesh of ``shape`` (unit primitive or catalogue object) in ``asset_dir``, written once."""
    path = asset_dir / f"{shape}.obj"
    if path.is_file():
        return path
    asset_dir.mkdir(parents=True, exist_ok=True)
    if shape == "box":
        mesh = trimesh.creation.box(extents=(1.0, 1.0, 1.0))
    elif shape == "cylinder":
        mesh = trimesh.creation.cylinder(radius=0.5, height=1.0, sections=48)
    elif shape == "sphere":
        mesh = trimesh.creation.icosphere(subdivisions=3, radius=0.5)
    else:
        from generator.assets import write_object_mesh

        return write_object_mesh(shape, path)
    mesh.export(path, file_type="obj")
    return path


def render_case(case: TruthCase, out_dir: Path, asset_dir: Path, num_frames: int = 30) -> Path:
    """Render ``case`` into ``out_dir / case.name``; returns the folder."""
    tracks = _tracks(case, num_frames)
    objects = [RenderObject(o.name, _mesh_file(o.shape, Path(asset_dir).resolve()), o.size, o.motion, tracks[o.name])
               for o in case.objects]
    extra = {"shapes": {o.name: o.shape for o in case.objects}, "camera_azimuth_deg": case.camera.azimuth_deg}
    return render_video(Path(out_dir) / case.name, case.caption, objects, case.camera, extra_truth=extra)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generator.reconstruct.truthset", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="folder for one sub-folder per video")
    parser.add_argument("--count", type=int, default=30, help="number of videos (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="set seed (default %(default)s)")
    parser.add_argument("--frames", type=int, default=30, help="frames per video (default %(default)s)")
    parser.add_argument("--assets", type=Path, default=Path.home() / ".cache" / "v2p" / "testvideo_assets",
                        help="meshes and their collision-part caches (default %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.count < 1 or args.frames < 2:
        parser.error("--count must be >= 1 and --frames >= 2")
    for case in tqdm(sample_cases(args.count, args.seed, args.frames), desc="render", disable=args.no_progress):
        render_case(case, args.out, args.assets, args.frames)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
