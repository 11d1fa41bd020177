"""``v2p train``: PPO on a task (a registered id or a task folder); a run folder with run.json."""
from __future__ import annotations

import argparse
from pathlib import Path

from .common import HelpFormatter, add_progress_flag, non_negative_int, positive_int, output_console

__all__ = ["add_parser"]


def add_parser(subparsers) -> None:
    from baselines.rl import TRAINERS

    p = subparsers.add_parser("train", help="train a policy on a task with PPO (rl-games by default)",
                              formatter_class=HelpFormatter)
    p.add_argument("task", help="a registered task id (V2P-PushLeft-v0) or a task folder")
    p.add_argument("--trainer", choices=sorted(TRAINERS), default="rl_games")
    p.add_argument("--num-envs", type=positive_int, default=256)
    p.add_argument("--device", default="cpu", help="cpu or cuda (the learner's and the env's device)")
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.add_argument("--steps", type=positive_int, default=1_000_000, help="env steps in all (all envs together)")
    p.add_argument("--run-dir", type=Path, help="run folder (default runs/<env_id>/<trainer>_seed<seed>)")
    p.add_argument("--resume", action="store_true", help="continue the run in --run-dir from its last checkpoint")
    p.add_argument("--episode-length", type=positive_int, help="training episode length (default: the task's, 300)")
    p.add_argument("--backend", choices=("mujoco", "warp"), help="physics backend (default: MuJoCo on the CPU, "
                                                                 "MuJoCo Warp on CUDA); kept in run.json")
    p.add_argument("--max-time", type=float, help="stop after the epoch in which this many seconds of training "
                                                  "have passed (rl_games, sb3)")
    p.add_argument("--trust-task-code", action="store_true", help="run a non-shipped folder's code without its trial")
    add_progress_flag(p)
    p.set_defaults(handler=_train)


def _train(args: argparse.Namespace) -> int:

    import v2p_envs
    from baselines.rl import TrainConfig, train

    task_dir = None
    env_id = args.task
    if Path(args.task).is_dir():
        task_dir = str(Path(args.task).resolve())
        env_id = v2p_envs.resolve_task(task_dir).id
    else:
        v2p_envs.resolve_task(env_id)  # an unknown id fails here, in one line
    run_dir = args.run_dir or Path("runs") / env_id / f"{args.trainer}_seed{args.seed}"
    cfg = TrainConfig(env_id=env_id, task_dir=task_dir, trainer=args.trainer, num_envs=args.num_envs,
                      device=args.device, seed=args.seed, steps=args.steps, run_dir=str(run_dir), resume=args.resume,
                      max_episode_steps=args.episode_length, progress=not args.no_progress,
                      trust_task_code=args.trust_task_code, backend=args.backend, max_time_s=args.max_time)
    result = train(cfg)
    rate = "n/a" if result.final_success_rate is None else f"{result.final_success_rate:.2f}"
    output_console().print(f"{env_id} · {args.trainer} · {result.env_steps} steps in {result.wall_time_s:.0f} s "
                    f"({result.steps_per_s:.0f} steps/s) · training success {rate}\n"
                    f"checkpoint {result.checkpoint}" + (f" (best training reward: {result.best_checkpoint})"
                                                         if result.best_checkpoint else "") +
                    f" · logs {run_dir}/metrics.jsonl, {run_dir}/tb")
    return 0
