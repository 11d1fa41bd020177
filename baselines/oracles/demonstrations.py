"""Demonstrations of the benchmark tasks: the object poses a video of the task would show.

The paper builds its Table-1 tasks from Something-Something videos, whose tracked 6D object
poses go into the task-code prompts ("video information"). Those videos cannot be fetched here,
so each benchmark task gets a stand-in: one successful episode of its scripted oracle in the
simulator, the objects' poses sampled at a video's frame rate (10 fps: every 5th 50 Hz step) from
the first frame until ``hold_s`` after the task first succeeded (how long the result stays). The
files are data in ``generator/assets/demonstrations/<TaskClass>.json`` (read by
``generator.reference_tasks``), labelled as simulated demonstrations, never as real video.

    python -m baselines.oracles.demonstrations              # every Table-1 task
    python -m baselines.oracles.demonstrations --tasks PushLeft LiftUp
"""
from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import torch

import v2p_envs
from generator.reference_tasks import DEMONSTRATIONS_DIR
from v2p_envs.ground_truth import TABLE1_TASKS

from ..policy import OraclePolicy

__all__ = ["record_demonstration", "main", "FRAME_EVERY_STEPS"]

log = logging.getLogger(__name__)

#: 50 Hz control, one frame per 5 steps: a 10 fps video
FRAME_EVERY_STEPS = 5
SOURCE = ("simulated demonstration: one successful episode of the task's scripted oracle "
          "(baselines.oracles), standing in for the paper's Something-Something video, which cannot be "
          "fetched here; object poses in the table frame (z from the table top), not a real video")


@torch.no_grad()
def record_demonstration(class_name: str, seeds: int = 8, hold_s: float = 1.0) -> dict[str, Any]:
    """The first of ``seeds`` seeded oracle episodes (seeds 0..N-1) that succeeds on ground truth,
    as per-object pose tracks; raises ``RuntimeError`` when none does."""
    env = v2p_envs.make_vec(f"V2P-{class_name}-v0", num_envs=seeds).unwrapped
    try:
        names = [o.name for o in env.scene.objects]
        policy = OraclePolicy(env)
        obs, _ = env.reset(seed=list(range(seeds)))
        policy.reset(None)
        to_table = torch.zeros(seeds, 3, device=env.device)
        to_table[:, 2] = env.sim.states["table_height"]
        frames: list[torch.Tensor] = []  # [N, objects, 7] per step, before the step
        success_step = torch.full((seeds,), -1, dtype=torch.long)
        for step in range(env.max_episode_steps):
            s = env.sim.states
            pos = torch.stack([s[f"{n}_pos"] - to_table for n in names], dim=1)
            frames.append(torch.cat((pos, torch.stack([s[f"{n}_quat"] for n in names], dim=1)), dim=-1).cpu())
            if step == env.max_episode_steps - 1:
                break  # the next step ends the episode and resets the envs
            obs, _, _, _, info = env.step(policy.act(obs))
            newly = (info["success"].cpu() & (success_step < 0))
            success_step[newly] = step + 1
        done = (success_step >= 0).nonzero().flatten()
        if len(done) == 0:
            raise RuntimeError(f"{class_name}: the oracle succeeded in none of seeds 0..{seeds - 1}")
        k = int(done[0])
        last = min(int(success_step[k]) + round(hold_s / env.dt), len(frames) - 1)
        track = torch.stack(frames[:last + 1])[:, k]  # [T, objects, 7]
        track = track[::FRAME_EVERY_STEPS]
        return {
            "task": class_name, "source": SOURCE, "oracle_seed": k,
            "frame_rate_hz": round(1.0 / (env.dt * FRAME_EVERY_STEPS), 3), "success_frame": int(success_step[k]) // FRAME_EVERY_STEPS, "hold_s": hold_s,
            "objects": {n: [[round(float(v), 5) for v in p] for p in track[:, j]] for j, n in enumerate(names)},
        }
    finally:
        env.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m baselines.oracles.demonstrations",
                                     description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--tasks", nargs="+", default=list(TABLE1_TASKS), help="task class names")
    parser.add_argument("--seeds", type=int, default=8, help="oracle episodes tried; the first success is kept")
    parser.add_argument("--hold-s", type=float, default=1.0, help="seconds kept after the first success")
    parser.add_argument("--out", type=Path, default=DEMONSTRATIONS_DIR, help="folder of <TaskClass>.json files")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.tasks:
        demo = record_demonstration(name, args.seeds, args.hold_s)
        path = args.out / f"{name}.json"
        path.write_text(json.dumps(demo, indent=None, separators=(",", ":")) + "\n")
        frames = len(next(iter(demo["objects"].values())))
        log.info("%s: %d frames (success at frame %d, oracle seed %d) -> %s", name, frames, demo["success_frame"],
                 demo["oracle_seed"], path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
