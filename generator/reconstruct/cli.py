"""``v2p reconstruct``: video + caption + object names -> DIR/scene.json, meshes and URDFs."""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from generator.reconstruct.config import BACKENDS, ModelsConfig, ReconstructConfig
from generator.reconstruct.depth import CameraPrior
from generator.reconstruct.geometry import Intrinsics
from generator.reconstruct.pipeline import run_pipeline
from generator.reconstruct.stages import ReconstructionError

__all__ = ["add_reconstruct_parser", "add_camera_arguments", "camera_settings", "run_reconstruct", "main"]

log = logging.getLogger(__name__)


def add_reconstruct_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``reconstruct`` sub-command to a parent CLI."""
    parser = subparsers.add_parser(
        "reconstruct", help="RGB video + caption -> scene.json with meshes, sizes and 6D pose tracks",
        description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    _add_arguments(parser)
    parser.set_defaults(handler=run_reconstruct)
    return parser


def add_camera_arguments(p) -> None:
    """The camera flags (``v2p reconstruct`` and ``v2p generate`` given a video); what is not given
    is measured on the video (``generator.reconstruct.camera``), else taken from the prior."""
    prior = CameraPrior()
    p.add_argument("--fov", type=float,
                   help="horizontal field of view (deg) when --intrinsics is not given (default: estimated from "
                        f"the table's sides, else {prior.horizontal_fov_deg})")
    p.add_argument("--camera-height", type=float,
                   help="camera height above the table, metres (default: from --table-size when given, else "
                        f"{prior.camera_height_m})")
    p.add_argument("--camera-pitch", type=float,
                   help="downward tilt of the camera, degrees (default: estimated from the table's sides, else "
                        f"{prior.camera_pitch_deg})")
    p.add_argument("--table-size", type=float,
                   help="side length of the table top in metres, when known: fixes the camera height (metric scale)")
    p.add_argument("--no-camera-estimate", action="store_true",
                   help="take the camera from the flags and their defaults; do not measure it on the video")


def camera_settings(args: argparse.Namespace) -> dict:
    """``ReconstructConfig`` keyword arguments for the camera flags of ``add_camera_arguments``."""
    prior = CameraPrior()
    given = tuple(q for q, v in (("fov", args.fov), ("height", args.camera_height), ("pitch", args.camera_pitch))
                  if v is not None)
    camera = CameraPrior(args.intrinsics,
                         prior.horizontal_fov_deg if args.fov is None else args.fov,
                         prior.camera_height_m if args.camera_height is None else args.camera_height,
                         prior.camera_pitch_deg if args.camera_pitch is None else args.camera_pitch)
    return {"camera": camera, "estimate_camera": not args.no_camera_estimate, "camera_given": given,
            "table_size_m": args.table_size}


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("video", type=Path, help="input video (mp4, avi, webm, ...)")
    p.add_argument("--caption", required=True, help='what happens, e.g. "throw garlic into bowl"')
    p.add_argument("--objects", nargs="+", required=True, help="names of the objects, as in the caption")
    p.add_argument("--out", type=Path, required=True, help="output folder for scene.json, meshes/, urdf/")
    p.add_argument("--prompts", help='boxes on frame 0 in pixels for some or all objects: inline JSON '
                   '\'{"cup": [x0, y0, x1, y1]}\' or a JSON file; objects without a box are detected as usual')
    p.add_argument("--intrinsics", type=Intrinsics.parse, help="fx,fy,cx,cy in pixels of the input video")
    p.add_argument("--backend", choices=BACKENDS, default="offline",
                   help="offline: classical stages (default); models: Grounding DINO, SAM 2, DepthPro ...")
    add_camera_arguments(p)
    models = ModelsConfig()
    p.add_argument("--detector-model", default=models.detector, help="Grounding DINO hub id or folder")
    p.add_argument("--segmenter-model", default=models.segmenter, help="SAM 2 video hub id or folder")
    p.add_argument("--depth-model", default=models.depth, help="DepthPro / Depth Anything metric hub id or folder")
    p.add_argument("--instantmesh-dir", type=Path, help="InstantMesh checkout (else: offline primitive fit)")
    p.add_argument("--foundationpose-dir", type=Path, help="FoundationPose checkout (else: offline LK + PnP)")
    p.add_argument("--cache-dir", type=Path, help="where model weights are cached")
    p.add_argument("--device", default="cpu", help="torch device for the models (default %(default)s)")
    p.add_argument("--max-frames", type=int, help="use only the first N frames")
    p.add_argument("--max-side", type=int, default=640, help="downsize frames to this longest side (default %(default)s)")
    p.add_argument("--no-collision", action="store_true",
                   help="skip the convex collision parts and the MJCF per object (faster)")
    p.add_argument("--no-shape-prior", action="store_true",
                   help="offline mesh: fit only box/cylinder/sphere, even for objects the asset catalogue knows")
    p.add_argument("--strict", action="store_true", help="stop at the first object that fails")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")


def run_reconstruct(args: argparse.Namespace) -> int:
    """Run the sub-command; returns the exit status (0 ok, 1 partial failure, 2 failure)."""
    try:
        config = ReconstructConfig(
            out_dir=args.out, backend=args.backend, prompts=args.prompts, **camera_settings(args),
            models=ModelsConfig(args.detector_model, args.segmenter_model, args.depth_model, args.instantmesh_dir,
                                args.foundationpose_dir, args.cache_dir, args.device),
            max_frames=args.max_frames, max_side=args.max_side, shape_prior=not args.no_shape_prior,
            collision=not args.no_collision,
            strict=args.strict, progress=not args.no_progress)
        result = run_pipeline(args.video, args.caption, args.objects, config)
    except (ReconstructionError, ValueError) as exc:
        log.error("%s", exc)
        return 2
    for obj in result.scene.objects:
        log.info("%s: size %s m, %d poses", obj.name, [round(v, 3) for v in obj.size], len(obj.poses))
    return 1 if result.report.failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generator.reconstruct", description=__doc__,
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    _add_arguments(parser)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return run_reconstruct(parser.parse_args(argv))
