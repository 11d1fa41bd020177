"""How the family ground truth agrees with the hand-written ground truth on the Table-1 tasks.

    python -m benchmarks.family_ground_truth --episodes 10

A generated task without a hand-written success is scored by its family's ground truth
(``v2p_envs.ground_truth.families``), parameterised by the goal its caption and video show
(``generator.codegen.task_goal``). For each Table-1 task whose reference caption parses into a
family, this plays the shipped task (which has a hand-written ground truth) with its scripted
oracle, with uniform random actions and (``--noise``) with the oracle under Gaussian action noise
(near misses, where definitions part), evaluates both functions on the simulator's own states
at every step, and counts per episode (success at any step) how often they agree, and the share
of steps at which they agree. It prints a Markdown table (and writes it and the rows as JSON
under ``--out`` when given); it does not touch RESULTS.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

import v2p_envs
from baselines.policy import ActionNoise, OraclePolicy, RandomPolicy
from baselines.rollout import rollout
from generator.codegen.task_goal import task_goal
from generator.reference_tasks import REFERENCE_TASKS, build_reference_scene
from v2p_envs.ground_truth import TABLE1_TASKS
from v2p_envs.ground_truth.families import family_success
from v2p_envs.ground_truth.family_goal import FamilyGoal

__all__ = ["measure_task", "markdown", "main"]

#: each policy's episodes start from their own initial states
_SEED_BASE = {"oracle": 0, "noisy": 20_000, "random": 10_000}
POLICIES = ("oracle", "noisy", "random")


def _goal_text(goal: FamilyGoal) -> str:
    objects = goal.x if goal.y is None else f"{goal.x}, {goal.y}"
    params = ", ".join(f"{k}={list(v) if isinstance(v, tuple) else v}" for k, v in goal.params.items())
    return f"{goal.family}({objects}{'; ' + params if params else ''})"


def _play(env, policy, seeds: list[int], goal: FamilyGoal, progress: bool) -> dict[str, Any]:
    """One episode per env; hand-written success from the env, family success on ``env.sim.states``."""
    family = family_success(goal)
    family_once = torch.zeros(env.num_envs, dtype=torch.bool, device=env.device)
    steps_agreeing = torch.zeros((), dtype=torch.long)
    steps = 0

    def on_step(step, obs, actions, reward, info) -> None:
        nonlocal family_once, steps_agreeing, steps
        now = family(env.sim.states).reshape(env.num_envs)
        family_once = family_once | now
        steps_agreeing = steps_agreeing + int((now == info["success"]).sum())
        steps += env.num_envs

    result = rollout(env, policy, seeds, progress=progress, on_step=on_step)
    hand, fam = list(map(bool, result.success)), family_once.tolist()
    return {"hand": hand, "family": fam, "step_agree": int(steps_agreeing) / max(steps, 1),
            "both": sum(h and f for h, f in zip(hand, fam)), "hand_only": sum(h and not f for h, f in zip(hand, fam)),
            "family_only": sum(f and not h for h, f in zip(hand, fam)),
            "neither": sum(not h and not f for h, f in zip(hand, fam)),
            "agree": sum(h == f for h, f in zip(hand, fam)) / len(hand)}


def measure_task(class_name: str, episodes: int, seed: int, noise: float, progress: bool) -> dict[str, Any]:
    """The agreement row of one Table-1 task (``goal`` None when its caption does not parse)."""
    task = next(t for t in REFERENCE_TASKS if t.class_name == class_name)
    with tempfile.TemporaryDirectory() as tmp:
        scene = build_reference_scene(task, Path(tmp))
        goal = task_goal(scene, task.title)
    row: dict[str, Any] = {"task": class_name, "caption": task.title, "goal": goal.to_dict() if goal else None}
    if goal is None:
        return row
    row["goal_text"] = _goal_text(goal)
    # no autoreset: after each step the simulator's states are still the episode's (every episode
    # runs the full length, so none ends early)
    env = v2p_envs.make_vec(f"V2P-{class_name}-v0", num_envs=episodes, auto_reset=False).unwrapped
    try:
        if env.success_metric != "ground_truth":
            raise RuntimeError(f"{class_name}: expected a hand-written ground truth, got {env.success_metric}")
        policies = {"oracle": OraclePolicy(env), "random": RandomPolicy(seed)}
        if noise > 0:
            policies["noisy"] = ActionNoise(OraclePolicy(env), noise, seed)
        for name in POLICIES:
            if name in policies:
                seeds = [_SEED_BASE[name] + seed + i for i in range(episodes)]
                row[name] = _play(env, policies[name], seeds, goal, progress)
    finally:
        env.close()
    return row


def markdown(rows: list[dict[str, Any]], episodes: int, noise: float, command: str, wall_s: float) -> str:
    """The rows as a Markdown table with the totals."""
    done = [r for r in rows if r.get("goal")]
    used = [k for k in POLICIES if done and k in done[0]]
    names = {"oracle": "oracle", "noisy": f"oracle + noise {noise:g}", "random": "random"}
    total = {k: sum(sum(h == f for h, f in zip(r[k]["hand"], r[k]["family"])) for r in done) for k in used}
    count = max(len(done) * episodes, 1)
    date = dt.date.today().isoformat()
    machine = f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs"
    agreement = ", ".join(f"{names[k]} **{total[k] / count:.3f}**" for k in used)
    lines = [f"### Family ground truth vs hand-written ground truth ({len(done)} Table-1 tasks, {episodes} episodes "
             "per policy)", "",
             f"{date} · {machine} · {wall_s / 60:.1f} min · `{command}`", "",
             f"Per-episode agreement (success at any step): {agreement}. Per policy: success rate hand-written / "
             "family; episodes both / hand-written only / family only / neither; the share of steps at which the "
             "two agree.", "",
             "| task | caption | family goal | " + " | ".join(names[k] for k in used) + " |",
             "|---|---|---|" + "---|" * len(used)]
    rate = lambda xs: sum(xs) / len(xs)  # noqa: E731
    for r in rows:
        if not r.get("goal"):
            lines.append(f"| {r['task']} | {r['caption']} | caption does not parse |" + " |" * len(used))
            continue
        cells = [f"{rate(d['hand']):.2f} / {rate(d['family']):.2f}; {d['both']}/{d['hand_only']}/"
                 f"{d['family_only']}/{d['neither']}; steps {d['step_agree']:.3f}" for d in (r[k] for k in used)]
        lines.append(f"| {r['task']} | {r['caption']} | `{r['goal_text']}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.family_ground_truth", description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--tasks", nargs="+", default=list(TABLE1_TASKS), choices=list(TABLE1_TASKS), metavar="TASK",
                   help="Table-1 task class names")
    p.add_argument("--episodes", type=int, default=10, help="episodes per policy and task (run side by side)")
    p.add_argument("--seed", type=int, default=0, help="oracle episode i is seeded seed + i")
    p.add_argument("--noise", type=float, default=0.5,
                   help="also run the oracle with Gaussian action noise of this std (0: not)")
    p.add_argument("--out", type=Path, default=None, help="also write agreement.md and agreement.json here")
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    if args.episodes < 1 or args.seed < 0 or args.threads < 1 or args.noise < 0:
        p.error("--episodes and --threads must be >= 1, --seed and --noise >= 0")
    torch.set_num_threads(args.threads)
    command = shlex.join(["python", "-m", "benchmarks.family_ground_truth", *(sys.argv[1:] if argv is None else argv)])
    start = time.perf_counter()
    rows = []
    for name in args.tasks:
        rows.append(measure_task(name, args.episodes, args.seed, args.noise, not args.no_progress))
        r = rows[-1]
        summary = (", ".join(f"{k} agree {r[k]['agree']:.2f}" for k in POLICIES if k in r)
                   if r.get("goal") else "caption does not parse")
        print(f"{name}: {summary} ({time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)
    text = markdown(rows, args.episodes, args.noise, command, time.perf_counter() - start)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "agreement.json").write_text(json.dumps(rows, indent=1) + "\n")
        (args.out / "agreement.md").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
