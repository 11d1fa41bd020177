"""Reconstruction benchmark on rendered videos with exact truth (paper Tables 4-6).

``python -m benchmarks.reconstruction [--data generator/reconstruct/data] [--json out.json]``

For each video rendered by ``generator.reconstruct.testvideos`` the offline pipeline runs with the
known camera (intrinsics, height and pitch above the table). As in the paper's Table 4, each stage
is judged on its own: detection (moving-region proposals) against the true frame-0 boxes, and the
later stages from the true boxes onwards. A stage fails for an object when:
detect: box IoU < 0.5; segment: mean mask IoU over frames where the object is visible < 0.5;
mesh: a size error above 30% in any dimension; pose: mean position error above 5 cm.
Size error compares (l, w) sorted (a fitted box may swap them) and h. Depth d1 (Table 5) is the
share of pixels in the objects' true frame-0 boxes with max(pred/true, true/pred) < 1.25.
"""
from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

import numpy as np

from generator.reconstruct.config import ReconstructConfig, build_stages
from generator.reconstruct.depth import CameraPrior
from generator.reconstruct.detect import MotionDetector, PromptBoxDetector
from generator.reconstruct.geometry import Intrinsics
from generator.reconstruct.pipeline import run_pipeline
from generator.reconstruct.segment import mask_iou
from generator.reconstruct.stages import Box, ReconstructionError
from generator.reconstruct.testvideos import DATA_DIR, load_truth
from generator.reconstruct.video import read_video

DEFAULT_DATA = DATA_DIR
STAGES = ("detect", "segment", "mesh", "pose")


def box_iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a.x1, b.x1) - max(a.x0, b.x0))
    iy = max(0.0, min(a.y1, b.y1) - max(a.y0, b.y0))
    inter = ix * iy
    return inter / ((a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter)


def size_error(pred: list[float], true: list[float]) -> list[float]:
    """Relative error of (l, w, h), with l >= w on both sides."""
    p = sorted(pred[:2], reverse=True) + [pred[2]]
    t = sorted(true[:2], reverse=True) + [true[2]]
    return [abs(a - b) / b for a, b in zip(p, t)]


def _mean_mask_iou(mask: np.ndarray | None, truth: np.ndarray) -> float:
    """Mask IoU averaged over the frames where the object is visible (0 without a mask)."""
    if mask is None:
        return 0.0
    visible = [k for k in range(len(truth)) if truth[k].any()]
    return float(np.mean([mask_iou(mask[k], truth[k]) for k in visible]))


def score_object(row: dict, result, name: str, truth: dict, masks_true: dict[str, np.ndarray]) -> bool:
    """The segment, mesh and pose fields of ``row`` for object ``name`` of a pipeline ``result``
    (None when the whole pipeline failed) against the rendered ``truth``; False when the object
    was not reconstructed (its mesh and pose count as failed)."""
    report = result.report.objects[name] if result else None
    row["mask_iou"] = _mean_mask_iou(result.masks.get(name) if result else None, masks_true[name])
    row["fail_segment"] = row["mask_iou"] < 0.5
    if report is None or not report.ok:
        row.update(fail_mesh=True, fail_pose=True, error=report.error if report else "pipeline failed")
        return False
    obj = result.scene.object(name)
    row["size_pred"] = [round(v, 4) for v in obj.size]
    row["size_true"] = truth["sizes"][name]
    row["size_err"] = size_error(list(obj.size), truth["sizes"][name])
    row["mesh_kind"] = report.mesh_kind
    row["fail_mesh"] = max(row["size_err"]) > 0.3
    pos_pred = np.array([p[:3] for p in obj.poses])
    # the truth is in the camera frame: move it with the same transform as the scene's poses
    pos_true = result.table_frame.apply(np.array([p[:3] for p in truth["poses"][name]]))
    err = np.linalg.norm(pos_pred - pos_true, axis=1)
    row["pos_err_mean"], row["pos_err_max"] = float(err.mean()), float(err.max())
    row["fail_pose"] = row["pos_err_mean"] > 0.05
    return True


def evaluate_video(folder: Path, work: Path, shape_prior: bool) -> list[dict]:
    truth, depth_true, masks_true = load_truth(folder)
    frames = read_video(folder / "video.mp4")
    names = truth["objects"]
    camera = CameraPrior(Intrinsics(*truth["intrinsics"]), camera_height_m=truth["camera_height_m"],
                         camera_pitch_deg=truth["camera_pitch_deg"])
    true_boxes = {n: Box(*truth["boxes"][n]) for n in names}
    detection = MotionDetector().detect(frames, names)
    config = ReconstructConfig(out_dir=work / folder.name, camera=camera, max_side=None, shape_prior=shape_prior, collision=False,
                               progress=False)
    stages = build_stages(config)
    stages.detector = PromptBoxDetector(true_boxes, "true boxes")
    rows = {n: {"video": folder.name, "object": n, "motion": truth["trajectories"][n]} for n in names}
    start = time.perf_counter()
    try:
        result = run_pipeline(folder / "video.mp4", truth["caption"], names, config, stages)
    except ReconstructionError as exc:
        logging.warning("%s: %s", folder.name, exc)
        result = None
    seconds = time.perf_counter() - start
    for n in names:
        row = rows[n]
        row["seconds"] = seconds
        det = detection.boxes.get(n)
        row["detect_iou"] = box_iou(det, true_boxes[n]) if det else 0.0
        row["fail_detect"] = row["detect_iou"] < 0.5
        if result is not None:
            row["depth_d1"] = _d1(result.depth.depth[0], depth_true[0], true_boxes[n])
        score_object(row, result, n, truth, masks_true)
    return list(rows.values())


def _d1(pred: np.ndarray, true: np.ndarray, box: Box) -> float:
    h, w = true.shape
    x0, y0, x1, y1 = box.as_int(w, h)
    p, t = pred[y0:y1, x0:x1], true[y0:y1, x0:x1]
    valid = np.isfinite(p) & (p > 0) & (t > 0)
    ratio = np.maximum(p[valid] / t[valid], t[valid] / p[valid])
    return float((ratio < 1.25).mean()) if valid.any() else 0.0


def format_table(rows: list[dict]) -> str:
    lines = ["| video | object | motion | size pred (l, w, h) m | size true | size err (l, w, h) % "
             "| pos err mean / max cm | mask IoU | depth d1 (box) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "size_err" in r:
            size = f"({', '.join(f'{v:.3f}' for v in r['size_pred'])})"
            true = f"({', '.join(f'{v:.3f}' for v in r['size_true'])})"
            err = f"({', '.join(f'{100 * v:.0f}' for v in r['size_err'])})"
            pos = f"{100 * r['pos_err_mean']:.1f} / {100 * r['pos_err_max']:.1f}"
        else:
            size, true, err, pos = "failed", "", "", r.get("error", "")[:40]
        lines.append(f"| {r['video']} | {r['object']} | {r['motion']} | {size} | {true} | {err} | {pos} "
                     f"| {r['mask_iou']:.2f} | {r.get('depth_d1', float('nan')):.2f} |")
    lines += ["", "| stage | " + " | ".join(STAGES) + " | avg |", "|---" * (len(STAGES) + 2) + "|"]
    rates = [float(np.mean([r[f"fail_{s}"] for r in rows])) for s in STAGES]
    lines.append("| failure rate | " + " | ".join(f"{v:.2f}" for v in rates) + f" | {np.mean(rates):.2f} |")
    ok = [r for r in rows if "size_err" in r]
    if ok:
        errs = np.array([r["size_err"] for r in ok])
        lines += ["", f"objects: {len(rows)}, reconstructed: {len(ok)}; mean size error (l, w, h): "
                  f"({', '.join(f'{100 * v:.0f}%' for v in errs.mean(axis=0))}); within 20% in every dimension: "
                  f"{int((errs.max(axis=1) <= 0.2).sum())}/{len(ok)}; mean position error: "
                  f"{100 * np.mean([r['pos_err_mean'] for r in ok]):.1f} cm (within 3 cm: "
                  f"{sum(r['pos_err_mean'] <= 0.03 for r in ok)}/{len(ok)}); depth d1 on object boxes: "
                  f"{np.mean([r['depth_d1'] for r in rows if 'depth_d1' in r]):.2f}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reconstruction", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of rendered videos (default: %(default)s)")
    parser.add_argument("--json", type=Path, help="also write the per-object rows here")
    parser.add_argument("--no-shape-prior", action="store_true",
                        help="fit box/cylinder/sphere only (the videos' objects come from the same catalogue as "
                             "the shape prior, so the default is optimistic)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    folders = sorted(p.parent for p in args.data.glob("*/truth.json"))
    if not folders:
        parser.error(f"no rendered videos (*/truth.json) under {args.data}; make them with "
                     "python -m generator.reconstruct.testvideos --out DIR")
    rows = []
    with tempfile.TemporaryDirectory(prefix="v2p_bench_recon_") as work:
        for folder in folders:
            rows += evaluate_video(folder, Path(work), not args.no_shape_prior)
    print(format_table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=float) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
