"""A family of lift-up tasks for general policies: many objects, one skill (issue 15, item 1).

The paper's data engine trains one image policy on 100 "lifting" tasks and tests it on 10 it has
not seen: 5 novel shapes or colours of seen categories and 5 unseen categories. Here each task
is a catalogue object (``generator.assets``) at a random scale and colour, written as a task
folder in the generator's format: scene.json + meshes, task code from the offline ``template``
writer (rule-based, not a model; its success is the generated one, ground truth is
``v2p_envs.ground_truth.single_object.lifted``), ppo.yaml, provenance.json and goal.json (the
lift family goal, which the env reports as its family ground truth).

    python -m generator.lift_family --out runs/lift_family            # 100 train + 10 held out
"""
from __future__ import annotations

import argparse
import colorsys
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from generator.assets import OBJECT_SIZES, write_object_mesh
from generator.codegen.task_goal import task_goal
from generator.codegen.template_writer import write_template_task
from generator.emit import emit_task
from v2p_envs.scene_spec import ObjectSpec, SceneSpec

__all__ = ["LiftTaskSpec", "SEEN_KINDS", "UNSEEN_KINDS", "family_specs", "write_family", "load_family", "main"]

log = logging.getLogger(__name__)

#: categories the training tasks are drawn from (each fits the 8 cm gripper across one side)
SEEN_KINDS = ("block", "dice", "garlic", "sponge", "mouse", "remote")
#: categories only the held-out tasks use
UNSEEN_KINDS = ("cup", "bottle", "fork", "ruler", "snack_box")
_GRASP_LIMIT = 0.065  # the narrower side must leave room in the 8 cm opening
_TRAIN_HUE = (0.0, 0.7)  # training colours; held-out "novel colour" tasks use hues beyond


@dataclass(frozen=True)
class LiftTaskSpec:
    index: int
    kind: str
    split: str  # "train", "held_out_seen" (novel colour and scale of a seen kind), "held_out_unseen"
    scale: float
    rgba: tuple[float, float, float, float]

    @property
    def folder_name(self) -> str:
        return f"lift_{self.index:03d}_{self.kind}"

    @property
    def size(self) -> tuple[float, float, float]:
        return tuple(round(v * self.scale, 4) for v in OBJECT_SIZES[self.kind])


def _colour(rng: np.random.Generator, hue: tuple[float, float]) -> tuple[float, float, float, float]:
    r, g, b = colorsys.hsv_to_rgb(float(rng.uniform(*hue)), float(rng.uniform(0.5, 0.9)), float(rng.uniform(0.5, 0.95)))
    return (round(r, 3), round(g, 3), round(b, 3), 1.0)


def _scale(rng: np.random.Generator, kind: str, low: float, high: float) -> float:
    """A scale in [low, high], capped where the object would no longer fit the gripper."""
    cap = _GRASP_LIMIT / min(OBJECT_SIZES[kind][:2])
    high = min(high, cap)
    return round(float(rng.uniform(min(low, high), high)), 3)


def family_specs(train: int = 100, held_out_seen: int = 5, held_out_unseen: int = 5, seed: int = 0) -> list[LiftTaskSpec]:
    """The family's tasks: ``train`` from SEEN_KINDS (scale 0.8-1.2, training hues), then
    ``held_out_seen`` seen kinds at scale 1.2-1.35 in unseen hues, then ``held_out_unseen``
    unseen kinds."""
    if train < 1 or held_out_seen < 0 or held_out_unseen < 0:
        raise ValueError(f"need train >= 1 and non-negative held-out counts, got {train}, {held_out_seen}, "
                         f"{held_out_unseen}")
    rng = np.random.default_rng(seed)
    specs = []
    for i in range(train):
        kind = SEEN_KINDS[i % len(SEEN_KINDS)]
        specs.append(LiftTaskSpec(i, kind, "train", _scale(rng, kind, 0.8, 1.2), _colour(rng, _TRAIN_HUE)))
    for j in range(held_out_seen):
        kind = SEEN_KINDS[j % len(SEEN_KINDS)]
        specs.append(LiftTaskSpec(train + j, kind, "held_out_seen", _scale(rng, kind, 1.2, 1.35),
                                  _colour(rng, (0.75, 0.95))))
    for j in range(held_out_unseen):
        kind = UNSEEN_KINDS[j % len(UNSEEN_KINDS)]
        specs.append(LiftTaskSpec(train + held_out_seen + j, kind, "held_out_unseen", _scale(rng, kind, 0.8, 1.0),
                                  _colour(rng, (0.0, 1.0))))
    return specs


def write_family(out_dir: Path, specs: list[LiftTaskSpec], progress: bool = True) -> Path:
    """One task folder per spec under ``out_dir`` and ``out_dir/family.json`` (the index)."""
    out_dir = Path(out_dir)
    mesh_dir = out_dir / "_meshes"
    mesh_dir.mkdir(parents=True, exist_ok=True)
    for spec in tqdm(specs, desc="lift family", disable=not progress):
        mesh = mesh_dir / f"{spec.kind}.obj"
        if not mesh.is_file():
            write_object_mesh(spec.kind, mesh)
        caption = f"lift up the {spec.kind}"
        scene = SceneSpec(caption, f"LiftFamily{spec.index:03d}", caption,
                          (ObjectSpec(spec.kind, spec.size, mesh.name, rgba=spec.rgba),),
                          pose_frame="table", source_dir=mesh_dir.resolve())
        code = write_template_task(scene, caption).code
        emit_task(scene, code, {"writer": "template (rule-based, not a model)", "family": "lift",
                                "spec": asdict(spec)}, out_root=out_dir, overwrite=True, folder_name=spec.folder_name,
                  goal=task_goal(scene, caption))  # the lift goal, from the caption
    index = {"family": "lift", "tasks": [{**asdict(s), "folder": s.folder_name} for s in specs]}
    (out_dir / "family.json").write_text(json.dumps(index, indent=1) + "\n")
    log.info("wrote %d lift tasks under %s", len(specs), out_dir)
    return out_dir / "family.json"


def load_family(path: Path) -> list[tuple[LiftTaskSpec, Path]]:
    """(spec, task folder) per task of a ``family.json`` (or of the folder holding it)."""
    path = Path(path)
    index_file = path / "family.json" if path.is_dir() else path
    if not index_file.is_file():
        raise FileNotFoundError(f"{index_file}: no family index; write one with python -m generator.lift_family")
    try:
        tasks = json.loads(index_file.read_text())["tasks"]
        return [(LiftTaskSpec(t["index"], t["kind"], t["split"], t["scale"], tuple(t["rgba"])),
                 index_file.parent / t["folder"]) for t in tasks]
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{index_file}: not a lift family index ({exc})") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generator.lift_family", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="folder for the task folders and family.json")
    parser.add_argument("--train", type=int, default=100, help="training tasks (default %(default)s)")
    parser.add_argument("--held-out-seen", type=int, default=5, help="novel colour/scale of seen kinds (default %(default)s)")
    parser.add_argument("--held-out-unseen", type=int, default=5, help="unseen kinds (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="(default %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        specs = family_specs(args.train, args.held_out_seen, args.held_out_unseen, args.seed)
    except ValueError as exc:
        parser.error(str(exc))
    write_family(args.out, specs, progress=not args.no_progress)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
