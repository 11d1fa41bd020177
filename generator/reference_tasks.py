"""The 14 reference tasks: the curriculum seeds and the paper's Table-1 set.

Their scenes are made here (everyday-object meshes at real-world sizes); their task.py files
are reference code written by hand in the generator's output format and live in the task
folders. ``python -m generator.reference_tasks`` re-emits every folder through ``emit_task``,
exactly the path generated tasks take.
"""
from __future__ import annotations

import argparse
import json
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from v2p_envs.errors import V2PError
from v2p_envs.registration import GENERATED_DIR
from v2p_envs.scene_spec import ObjectSpec, SceneSpec

from .assets.everyday_objects import OBJECT_SIZES, write_object_mesh
from .emit import emit_task, task_folder_name

__all__ = ["REFERENCE_TASKS", "ReferenceTask", "build_reference_scene", "load_demonstration", "DEMONSTRATIONS_DIR",
           "main"]

log = logging.getLogger(__name__)

#: Per-task simulated demonstrations (``python -m baselines.oracles.demonstrations`` writes them):
#: the tracked poses that stand in for the paper's videos of the benchmark tasks.
DEMONSTRATIONS_DIR = Path(__file__).parent / "assets" / "demonstrations"

PROVENANCE = {
    "written_by": "reference task code written by hand in the generator's output format",
    "is_model_output": False,
    "backend": None,
    "model": None,
    "prompt_sha256": None,
    "sample_id": None,
    "iteration": None,
    "training_score": None,
}


@dataclass(frozen=True)
class ReferenceObject:
    name: str
    kind: str  # an everyday_objects kind
    density: float = 500.0
    friction: float = 1.0


@dataclass(frozen=True)
class ReferenceTask:
    class_name: str
    title: str
    description: str
    objects: tuple[ReferenceObject, ...]
    group: str


def _obj(name: str, kind: str | None = None, density: float = 500.0, friction: float = 1.0) -> ReferenceObject:
    return ReferenceObject(name, kind or name, density, friction)


REFERENCE_TASKS: tuple[ReferenceTask, ...] = (
    ReferenceTask("ReachBlock", "reach a block", "Move the gripper to the wooden block on the table.",
                  (_obj("block", density=600),), "curriculum"),
    ReferenceTask("GraspBlock", "grasp a block", "Grasp the wooden block and hold it above the table.",
                  (_obj("block", density=600),), "curriculum"),
    ReferenceTask("PushLeft", "push something left", "Push the snack box to the left across the table.",
                  (_obj("snack_box", density=300, friction=0.6),), "single object"),
    ReferenceTask("PushRight", "push something right", "Push the cup to the right across the table.",
                  (_obj("cup", density=900, friction=0.6),), "single object"),
    ReferenceTask("LiftUp", "lift up something", "Lift the sponge up from the table.",
                  (_obj("sponge", density=200),), "single object"),
    ReferenceTask("TipOver", "tip something over", "Tip the standing bottle over so it lies on the table.",
                  (_obj("bottle", density=400, friction=0.8),), "single object"),
    ReferenceTask("Cover", "cover something with something", "Cover the dice with the upside-down cup.",
                  (_obj("dice", density=700), _obj("cup", density=900)), "multiple objects"),
    ReferenceTask("Uncover", "uncover something from something",
                  "Lift the upside-down cup off the dice so the dice is uncovered.",
                  (_obj("dice", density=700), _obj("cup", density=900)), "multiple objects"),
    ReferenceTask("PushWith", "push something with something", "Hold the ruler and push the block with it.",
                  (_obj("ruler", density=600), _obj("block", density=600, friction=0.6)), "multiple objects"),
    ReferenceTask("PushNextTo", "push something next to something", "Push the sponge next to the cup.",
                  (_obj("sponge", density=200, friction=0.6), _obj("cup", density=900)), "multiple objects"),
    ReferenceTask("DropInFrontOf", "drop something in front of something",
                  "Pick up the block and drop it in front of the bowl.",
                  (_obj("block", density=600), _obj("bowl", density=900)), "multiple objects"),
    ReferenceTask("InsertFork", "insert fork into container", "Insert the fork into the storage box.",
                  (_obj("fork", density=900), _obj("storage_box", density=300)), "hard motions"),
    ReferenceTask("SlideRemoteToMouse", "sliding remoter to mouse",
                  "Slide the TV remote across the table until it touches the computer mouse.",
                  (_obj("remote", density=500, friction=0.5), _obj("mouse", density=400)), "hard motions"),
    ReferenceTask("ThrowGarlic", "throw garlic into bowl", "Throw the garlic bulb into the bowl.",
                  (_obj("garlic", density=600), _obj("bowl", density=900)), "hard motions"),
)


def load_demonstration(class_name: str, folder: Path = DEMONSTRATIONS_DIR) -> dict[str, Any]:
    """The simulated demonstration of a benchmark task (see ``DEMONSTRATIONS_DIR``)."""
    path = Path(folder) / f"{class_name}.json"
    try:
        demo = json.loads(path.read_text())
    except FileNotFoundError:
        raise V2PError(f"{path}: no demonstration of {class_name}; write one with "
                       f"`python -m baselines.oracles.demonstrations --tasks {class_name}`") from None
    except ValueError as exc:
        raise V2PError(f"{path}: not JSON ({exc})") from None
    if not isinstance(demo.get("objects"), dict):
        raise V2PError(f"{path}: field 'objects': expected {{name: [[x, y, z, qw, qx, qy, qz], ...]}}")
    return demo


def build_reference_scene(task: ReferenceTask, mesh_dir: Path, demonstration: bool = False) -> SceneSpec:
    """The task's SceneSpec with freshly written meshes in ``mesh_dir``. Without a video its
    objects have no tracked poses; ``demonstration`` gives them the poses of the task's simulated
    demonstration (``load_demonstration``), the stand-in for the paper's video of the task."""
    tracks = load_demonstration(task.class_name)["objects"] if demonstration else {}
    objects = []
    for obj in task.objects:
        write_object_mesh(obj.kind, mesh_dir / f"{obj.name}.obj")
        poses = tuple(tuple(float(v) for v in pose) for pose in tracks.get(obj.name, ()))
        objects.append(ObjectSpec(obj.name, OBJECT_SIZES[obj.kind], f"{obj.name}.obj",
                                  density=obj.density, friction=obj.friction, poses=poses))
    return SceneSpec(task.title, task.class_name, task.description, tuple(objects), source_dir=mesh_dir)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Re-emit the reference task folders into v2p_envs/generated/.")
    parser.add_argument("--only", nargs="*", help="class names to emit (default: all)")
    parser.add_argument("--out", type=Path, default=GENERATED_DIR)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for task in REFERENCE_TASKS:
        if args.only and task.class_name not in args.only:
            continue
        code_file = args.out / task_folder_name(task.class_name) / "task.py"
        if not code_file.is_file():
            raise SystemExit(f"{code_file}: missing; reference task code is written by hand first")
        code = code_file.read_text()
        with tempfile.TemporaryDirectory() as tmp:
            scene = build_reference_scene(task, Path(tmp))
            emit_task(scene, code, PROVENANCE, out_root=args.out, overwrite=True)


if __name__ == "__main__":
    main()
