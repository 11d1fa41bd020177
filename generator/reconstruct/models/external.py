"""InstantMesh (mesh from one image) and FoundationPose (6D pose tracking) through the user's own
checkouts of their repositories, run as subprocesses with the checkout's Python.

Neither is on a package registry. The file exchange follows each repository's demo script:

- InstantMesh: ``python run.py CONFIG IMAGE.png --output_path OUT --no_rembg`` reads an RGBA
  image (we write the masked object crop) and writes ``OUT/<config name>/meshes/<image stem>.obj``.
- FoundationPose: ``python run_demo.py --mesh_file M.obj --test_scene_dir S --debug 1 --debug_dir D``
  reads ``S/rgb/*.png``, ``S/depth/*.png`` (uint16 millimetres), ``S/masks/<first>.png`` and
  ``S/cam_K.txt``, and writes the object-in-camera 4x4 pose per frame to ``D/ob_in_cam/<stem>.txt``.
"""
from __future__ import annotations

import logging
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import trimesh

from generator.reconstruct.geometry import Pose
from generator.reconstruct.mesh import choose_mesh_frame
from generator.reconstruct.stages import Box, DepthResult, MeshResult, ReconstructionError

__all__ = ["InstantMeshBuilder", "FoundationPoseTracker", "run_checkout"]

log = logging.getLogger(__name__)


def run_checkout(checkout: Path, script: str, args: list[str], python: str, timeout_s: float, what: str) -> None:
    """Run ``python script args`` inside ``checkout``; failures name the tool and show its stderr tail."""
    checkout = Path(checkout)
    if not (checkout / script).is_file():
        raise ReconstructionError(f"{what}: {checkout / script} not found; point the option at a checkout of the "
                                  f"{what} repository (with its environment installed), or leave it unset to use "
                                  "the offline stage")
    cmd = [python, script, *args]
    log.info("%s: running %s in %s", what, " ".join(cmd), checkout)
    try:
        proc = subprocess.run(cmd, cwd=checkout, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise ReconstructionError(f"{what}: {script} ran longer than {timeout_s:.0f} s and was stopped") from None
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        raise ReconstructionError(f"{what}: {script} exited with status {proc.returncode}:\n{tail}")


@dataclass
class InstantMeshBuilder:
    checkout: Path
    config: str = "configs/instant-mesh-large.yaml"
    python: str = sys.executable
    timeout_s: float = 900.0

    def build(self, frames: np.ndarray, name: str, mask: np.ndarray, depth: DepthResult,
              others: np.ndarray | None = None) -> MeshResult:
        k = choose_mesh_frame(mask, others)
        if not mask[k].any():
            raise ReconstructionError(f"object '{name}': empty mask on frame {k}; nothing to give InstantMesh")
        with tempfile.TemporaryDirectory(prefix="v2p_instantmesh_") as tmp:
            tmp_dir = Path(tmp)
            image = tmp_dir / f"{name}.png"
            cv2.imwrite(str(image), _rgba_crop(frames[k], mask[k]))
            out = tmp_dir / "out"
            run_checkout(self.checkout, "run.py", [self.config, str(image), "--output_path", str(out), "--no_rembg"],
                         self.python, self.timeout_s, "InstantMesh")
            produced = out / Path(self.config).stem / "meshes" / f"{name}.obj"
            if not produced.is_file():
                raise ReconstructionError(f"InstantMesh: expected its mesh at {produced}, found none")
            mesh = trimesh.load(produced, force="mesh")
        if len(mesh.vertices) < 4:
            raise ReconstructionError(f"InstantMesh: {produced.name} has {len(mesh.vertices)} vertices")
        return MeshResult(mesh, metric=False, kind="instantmesh", frame_index=k)


@dataclass
class FoundationPoseTracker:
    checkout: Path
    python: str = sys.executable
    timeout_s: float = 1800.0

    def track(self, frames: np.ndarray, mask: np.ndarray, depth: DepthResult, mesh: MeshResult,
              others: np.ndarray | None = None) -> list[Pose | None]:
        if not mask[0].any():
            raise ReconstructionError("FoundationPose registers on frame 0, where the object has no mask")
        with tempfile.TemporaryDirectory(prefix="v2p_foundationpose_") as tmp:
            scene, debug = Path(tmp) / "scene", Path(tmp) / "debug"
            for sub in ("rgb", "depth", "masks"):
                (scene / sub).mkdir(parents=True)
            for k, frame in enumerate(frames):
                cv2.imwrite(str(scene / "rgb" / f"{k:06d}.png"), frame[:, :, ::-1])
                millimetres = np.nan_to_num(depth.depth[k] * 1000.0, nan=0.0, posinf=0.0)
                cv2.imwrite(str(scene / "depth" / f"{k:06d}.png"), np.clip(millimetres, 0, 65535).astype(np.uint16))
            cv2.imwrite(str(scene / "masks" / f"{0:06d}.png"), mask[0].astype(np.uint8) * 255)
            np.savetxt(scene / "cam_K.txt", depth.intrinsics.matrix)
            mesh_file = Path(tmp) / "mesh.obj"
            mesh.mesh.export(mesh_file)
            run_checkout(self.checkout, "run_demo.py", [
                "--mesh_file", str(mesh_file), "--test_scene_dir", str(scene), "--debug", "1",
                "--debug_dir", str(debug)], self.python, self.timeout_s, "FoundationPose")
            return [_read_pose(debug / "ob_in_cam" / f"{k:06d}.txt") for k in range(len(frames))]


def _read_pose(path: Path) -> Pose | None:
    if not path.is_file():
        return None
    matrix = np.loadtxt(path).reshape(4, 4)
    return Pose(matrix[:3, :3], matrix[:3, 3])


def _rgba_crop(frame: np.ndarray, mask: np.ndarray, pad: float = 0.1) -> np.ndarray:
    """The object on a transparent background, cropped square around its mask (BGRA for cv2)."""
    box = Box.from_mask(mask)
    side = max(box.x1 - box.x0, box.y1 - box.y0) * (1 + 2 * pad)
    cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    s = int(round(side))
    bgra = np.zeros((s, s, 4), np.uint8)
    h, w = mask.shape
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(w, x0 + s), min(h, y0 + s)
    crop = np.dstack([frame[sy0:sy1, sx0:sx1, ::-1], mask[sy0:sy1, sx0:sx1].astype(np.uint8) * 255])
    crop[crop[:, :, 3] == 0] = 0
    bgra[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = crop
    return bgra
