"""``v2p list``: the registered tasks with their objects and a one-line description."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from .common import HelpFormatter, output_console

__all__ = ["add_parser", "task_rows"]


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("list", help="list the registered tasks (id, objects, description)",
                              formatter_class=HelpFormatter)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(handler=_list)


def task_rows() -> list[dict]:
    import gymnasium as gym

    import v2p_envs
    from v2p_envs.ground_truth import TABLE1_TASKS, get_ground_truth
    from v2p_envs.ground_truth.family_goal import GOAL_FILE, load_goal
    from v2p_envs.scene_spec import load_scene_spec

    rows = []
    for env_id in v2p_envs.registered_task_ids():
        task_dir = Path(gym.registry[env_id].kwargs["task_dir"])
        scene = load_scene_spec(task_dir / "scene.json", check_files=False)
        hand_written = get_ground_truth(scene.task_class_name) is not None
        # a generated task without a hand-written ground truth is scored by its goal.json's family
        family = (load_goal(task_dir / GOAL_FILE).family
                  if not hand_written and (task_dir / GOAL_FILE).is_file() else None)
        metric = "ground_truth" if hand_written else "family_ground_truth" if family else "generated"
        rows.append({"id": env_id, "objects": [o.name for o in scene.objects], "description": scene.description,
                     "title": scene.task_title, "table1": scene.task_class_name in TABLE1_TASKS,
                     "ground_truth": hand_written, "success_metric": metric, "family": family})
    return rows


def _list(args: argparse.Namespace) -> int:
    from rich.table import Table

    rows = task_rows()
    console = output_console()
    if args.json:
        console.print_json(json.dumps(rows))
        return 0
    table = Table(title=f"{len(rows)} tasks")
    for column in ("id", "objects", "description", "Table 1", "ground truth"):
        table.add_column(column)
    for r in rows:
        truth = "yes" if r["ground_truth"] else f"family ({r['family']})" if r["family"] else "no"
        table.add_row(r["id"], ", ".join(r["objects"]), r["description"], "yes" if r["table1"] else "", truth)
    console.print(table)
    return 0
