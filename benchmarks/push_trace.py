"""How a pushing policy's episodes go (issue 11): where the hand met the object, how far it went.

    python -m benchmarks.push_trace runs/tts/V2P-PushRight-v0/seed0/checkpoints/last.pth \\
        --object cup --direction y- --episodes 20
    python -m benchmarks.push_trace --oracle V2P-PushRight-v0 --object cup --direction y-

A success rate says that a push policy fails, not how: this traces each episode (one per env,
reset seeds ``--seed`` .. ``--seed + episodes - 1``) of a trained checkpoint (deterministic
actions) or of the task's oracle and reports, per episode: the step the object first moved
1 cm in the push direction, the hand's height above the table over the 0.5 s that follow (the
push height), the furthest push, the sideways drift there, the object's lowest up-axis z (below
0.95 it tipped past 18 degrees) and the ground truth (at any step). The table height is the
object's initial centre less half its height.
"""
from __future__ import annotations

import argparse
import json
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from v2p_envs.errors import V2PError
from v2p_envs.math3d import up_z

__all__ = ["EpisodeTrace", "trace_pushes", "main"]

DIRECTIONS = {"x+": (0, 1.0), "x-": (0, -1.0), "y+": (1, 1.0), "y-": (1, -1.0)}  # world axis, sign
PUSH_WINDOW_STEPS = 25  # 0.5 s at the 20 ms control period
MOVED_M = 0.01


@dataclass
class EpisodeTrace:
    seed: int
    push_start_step: int | None   # first step the object was 1 cm along the push direction
    push_height_cm: float | None  # hand above the table, mean over PUSH_WINDOW_STEPS from then
    furthest_push_cm: float       # largest displacement along the push direction
    drift_cm: float               # sideways displacement at the furthest push
    min_up_z: float               # object's lowest up-axis z (1 upright, 0 on its side)
    success: bool


def trace_pushes(env, policy, obj: str, direction: str, seeds: list[int]) -> list[EpisodeTrace]:
    """Play one episode per env of ``env`` (a V2PVectorEnv) and trace the push of ``obj``."""
    from baselines.rollout import rollout

    if direction not in DIRECTIONS:
        raise V2PError(f"--direction must be one of {sorted(DIRECTIONS)}, got {direction!r}")
    axis, sign = DIRECTIONS[direction]
    frames: list[torch.Tensor] = []

    def record(step: int, obs, actions, reward, info: dict[str, Any]) -> None:
        s = env.sim.states
        if f"{obj}_init_pos" not in s:
            names = sorted(k[:-len("_init_pos")] for k in s if k.endswith("_init_pos"))
            raise V2PError(f"--object {obj!r} is not an object of {env.scene.env_id}; it has {names}")
        init, size = s[f"{obj}_init_pos"], s[f"{obj}_size"]
        disp = s[f"{obj}_pos"] - init
        table = init[:, 2] - size[:, 2] / 2
        frames.append(torch.stack((sign * disp[:, axis], disp[:, 1 - axis].abs(), s["eef_pos"][:, 2] - table,
                                   up_z(s[f"{obj}_quat"])), dim=-1).detach().cpu().clone())

    result = rollout(env, policy, seeds, on_step=record)
    trace = torch.stack(frames)  # steps x envs x (push, drift, hand height, up z)
    out = []
    for i, seed in enumerate(seeds):
        # the last step of an episode already shows the autoreset's state
        t = trace[:max(result.lengths[i] - 1, 1), i]
        moved = (t[:, 0] >= MOVED_M).nonzero()
        start = int(moved[0]) if len(moved) else None
        height = float(t[start:start + PUSH_WINDOW_STEPS, 2].mean()) * 100 if start is not None else None
        far = int(t[:, 0].argmax())
        out.append(EpisodeTrace(seed, start, None if height is None else round(height, 1),
                                round(float(t[far, 0]) * 100, 1), round(float(t[far, 1]) * 100, 1),
                                round(float(t[:, 3].min()), 2), bool(result.success[i])))
    return out


def markdown(traces: list[EpisodeTrace], title: str) -> str:
    lines = [f"**{title}**", "", "| seed | push starts (step) | push height (cm) | furthest push (cm) | "
             "drift there (cm) | lowest up-axis z | success |", "|---|---|---|---|---|---|---|"]
    for e in traces:
        lines.append(f"| {e.seed} | {e.push_start_step if e.push_start_step is not None else 'never'} | "
                     f"{e.push_height_cm if e.push_height_cm is not None else '-'} | {e.furthest_push_cm} | "
                     f"{e.drift_cm} | {e.min_up_z} | {'yes' if e.success else 'no'} |")
    ok = [e.push_height_cm for e in traces if e.success and e.push_height_cm is not None]
    bad = [e.push_height_cm for e in traces if not e.success and e.push_height_cm is not None]
    med = (lambda xs: f"{statistics.median(xs):.1f} cm ({len(xs)})" if xs else "none")
    lines += ["", f"Success {sum(e.success for e in traces)}/{len(traces)}; median push height of the successes "
                  f"{med(ok)}, of the failures that pushed {med(bad)}; never pushed: "
                  f"{sum(e.push_start_step is None for e in traces)}."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.push_trace", description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("checkpoint", nargs="?", type=Path, help="a training run's checkpoint (or give --oracle)")
    p.add_argument("--oracle", metavar="ENV_ID", help="trace the task's oracle instead of a checkpoint")
    p.add_argument("--object", required=True, help="the pushed object's name in the scene")
    p.add_argument("--direction", required=True, choices=sorted(DIRECTIONS), help="the push direction (world axis and sign; PushRight pushes y-)")
    p.add_argument("--episodes", type=int, default=20)
    p.add_argument("--seed", type=int, default=1000, help="reset seed of the first episode")
    p.add_argument("--json", type=Path, help="also write the traces here")
    args = p.parse_args(argv)
    if (args.checkpoint is None) == (args.oracle is None):
        p.error("give a checkpoint or --oracle ENV_ID, not both")
    if args.episodes < 1:
        p.error(f"--episodes must be at least 1, got {args.episodes}")
    torch.set_num_threads(1)
    seeds = list(range(args.seed, args.seed + args.episodes))
    try:
        if args.oracle:
            import v2p_envs
            from baselines.policy import OraclePolicy

            env = v2p_envs.make_vec(args.oracle, num_envs=args.episodes).unwrapped
            policy, title = OraclePolicy(env), f"{args.oracle}, oracle"
        else:
            from baselines.rl.run_record import RunInfo
            from baselines.rl.trainer import load_policy, make_run_env

            if not args.checkpoint.is_file():
                raise V2PError(f"checkpoint {args.checkpoint} does not exist")
            run = RunInfo.of_checkpoint(args.checkpoint)
            env = make_run_env(run, args.episodes)
            policy, title = load_policy(args.checkpoint, env, "cpu", run), f"{run.env_id}, {args.checkpoint}"
        try:
            traces = trace_pushes(env, policy, args.object, args.direction, seeds)
        finally:
            env.close()
    except V2PError as e:
        p.exit(2, f"push_trace: error: {e}\n")
    text = markdown(traces, f"{title}: {args.object} pushed {args.direction}, reset seeds {seeds[0]}-{seeds[-1]}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([asdict(t) for t in traces], indent=1) + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
