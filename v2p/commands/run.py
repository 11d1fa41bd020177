"""``v2p run``: episodes of a task with a built-in policy or a checkpoint; success and a video."""
from __future__ import annotations

import argparse
from pathlib import Path

from .common import HelpFormatter, add_progress_flag, non_negative_int, positive_int, output_console

__all__ = ["add_parser", "run_policy"]


def add_parser(subparsers) -> None:
    from baselines.policy import BUILTIN_POLICIES

    p = subparsers.add_parser("run", help="run episodes of a task with a policy, print success, write a video",
                              formatter_class=HelpFormatter)
    p.add_argument("task", nargs="?", help="a task id (V2P-ThrowGarlic-v0) or task folder; with --checkpoint, "
                                           "default: the checkpoint's task")
    p.add_argument("--policy", choices=BUILTIN_POLICIES, default="oracle", help="a built-in policy")
    p.add_argument("--checkpoint", type=Path, help="run this trained policy instead (a `v2p train` checkpoint)")
    p.add_argument("--episodes", type=positive_int, default=3, help="episodes, run side by side")
    p.add_argument("--seed", type=non_negative_int, default=0, help="episode i is reset with seed + i")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--video", type=Path, help="write an mp4 of all episodes here (tiled)")
    p.add_argument("--trust-task-code", action="store_true", help="run a non-shipped folder's code without its trial")
    add_progress_flag(p)
    p.set_defaults(handler=_run)


def run_policy(task: str | None, policy: str, checkpoint: Path | None, episodes: int, seed: int,
               device: str = "cpu", video: Path | None = None, progress: bool = False,
               trust_task_code: bool = False):
    """Make the env, the policy and run one rollout; returns (RolloutResult, env id)."""
    from baselines.policy import make_builtin_policy
    from baselines.rl import RunInfo, load_policy, make_env
    from baselines.rollout import rollout
    from v2p_envs.errors import V2PError

    run = RunInfo.of_checkpoint(checkpoint) if checkpoint else None
    if run is not None:
        if task is not None and task not in (run.env_id, run.task_dir):
            raise V2PError(f"{checkpoint} was trained on {run.task_dir or run.env_id}, not {task}")
        env = make_env(run.env_id, episodes, device, task_dir=run.task_dir, render_mode="rgb_array" if video else None,
                       trust_task_code=run.config.trust_task_code or trust_task_code)
    elif task is None:
        raise V2PError("give a task id or folder (or --checkpoint)")
    else:
        env = make_env(task, episodes, device, render_mode="rgb_array" if video else None,
                       trust_task_code=trust_task_code)
    try:
        agent = load_policy(checkpoint, env, device, run) if run is not None else make_builtin_policy(policy, env, seed)
        result = rollout(env, agent, [seed + i for i in range(episodes)], video=video, video_envs=None,
                         progress=progress)
        return result, env.scene.env_id
    finally:
        env.close()


def _run(args: argparse.Namespace) -> int:
    from rich.table import Table

    from v2p_envs.ground_truth import metric_label

    result, env_id = run_policy(args.task, args.policy, args.checkpoint, args.episodes, args.seed, args.device,
                                args.video, not args.no_progress, args.trust_task_code)
    label = str(args.checkpoint) if args.checkpoint else args.policy
    metric = {"ground_truth": "success", "family_ground_truth": "success (family ground truth)"}.get(
        result.success_metric, "success (generated: no ground truth)")
    table = Table(title=f"{env_id} · policy {label}")
    for column in ("episode", "seed", metric, "generated success", "return", "steps"):
        table.add_column(column)
    for k, seed in enumerate(result.seeds):
        table.add_row(str(k), str(seed), str(result.success[k]), str(result.generated_success[k]),
                      f"{result.returns[k]:.1f}", str(result.lengths[k]))
    console = output_console()
    console.print(table)
    console.print(f"success rate {result.success_rate:.2f} ({metric_label(result.success_metric)})"
                  + (f" · video {args.video}" if args.video else ""))
    return 0
