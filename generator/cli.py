"""The ``v2p`` command line: run tasks, reconstruct scenes, train policies and evaluate them."""
from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")

__all__ = ["main", "build_parser"]


def _add_run(subparsers) -> None:
    from baselines.rollout import POLICIES

    p = subparsers.add_parser("run", help="run episodes of a task with a policy, print success, write a video")
    p.add_argument("env_id", help="a registered task id, e.g. V2P-ThrowGarlic-v0")
    p.add_argument("--policy", choices=POLICIES, default="oracle")
    p.add_argument("--episodes", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--video", type=Path, help="write an mp4 of all episodes here")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from baselines.rollout import run_episodes

    results = run_episodes(args.env_id, args.policy, args.episodes, args.seed, args.video)
    table = Table(title=f"{args.env_id} · policy {args.policy}")
    for column in ("episode", "seed", "success", "generated success", "return", "steps"):
        table.add_column(column)
    for r in results:
        table.add_row(str(r.episode), str(r.seed), str(r.success), str(r.generated_success),
                      f"{r.episode_return:.1f}", str(r.steps))
    console = Console()
    console.print(table)
    rate = sum(r.success for r in results) / max(len(results), 1)
    console.print(f"success rate {rate:.2f}" + (f" · video {args.video}" if args.video else ""))
    return 0


def _add_train(subparsers) -> None:
    p = subparsers.add_parser("train", help="train a policy on a task with PPO (rl-games by default)")
    p.add_argument("env_id", help="a registered task id (V2P-PushLeft-v0) or a task folder to register and train")
    p.add_argument("--trainer", choices=("rl_games", "sb3", "skrl"), default="rl_games")
    p.add_argument("--num-envs", type=int, default=256)
    p.add_argument("--device", default="cpu", help="cpu or cuda (the learner's and the env's device)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=1_000_000, help="env steps in all (all envs together)")
    p.add_argument("--run-dir", type=Path, help="run folder (default runs/<env_id>/<trainer>_seed<seed>)")
    p.add_argument("--resume", action="store_true", help="continue the run in --run-dir from its last checkpoint")
    p.add_argument("--episode-length", type=int, help="training episode length (default: the task's, 300)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=_train)


def _train(args: argparse.Namespace) -> int:
    from rich.console import Console

    from baselines.rl import TrainConfig, train

    from baselines.rl.config import register_run_task

    task_dir = None
    if Path(args.env_id).is_dir():
        task_dir = str(Path(args.env_id).resolve())
        args.env_id = register_run_task(task_dir)
    run_dir = args.run_dir or Path("runs") / args.env_id / f"{args.trainer}_seed{args.seed}"
    cfg = TrainConfig(env_id=args.env_id, task_dir=task_dir, trainer=args.trainer, num_envs=args.num_envs, device=args.device,
                      seed=args.seed, steps=args.steps, run_dir=str(run_dir), resume=args.resume,
                      max_episode_steps=args.episode_length, progress=not args.no_progress)
    result = train(cfg)
    rate = "n/a" if result.final_success_rate is None else f"{result.final_success_rate:.2f}"
    Console().print(f"{args.env_id} · {args.trainer} · {result.env_steps} steps in {result.wall_time_s:.0f} s "
                    f"({result.steps_per_s:.0f} steps/s) · training success {rate}\n"
                    f"checkpoint {result.checkpoint}" + (f" (best training reward: {result.best_checkpoint})"
                                                         if result.best_checkpoint else "") +
                    f" · logs {run_dir}/metrics.jsonl, {run_dir}/tb")
    return 0


def _add_eval(subparsers) -> None:
    p = subparsers.add_parser("eval", help="evaluate checkpoints with ground-truth success; write a JSON record")
    p.add_argument("--checkpoint", type=Path, nargs="+", required=True,
                   help="one checkpoint (evaluated with every seed) or one per seed (one training run per seed)")
    p.add_argument("--episodes", type=int, default=10)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--device", default="cpu")
    p.add_argument("--video", type=Path, help="write an mp4 of env 0 for the first seed")
    p.add_argument("--out", type=Path, help="JSON record path (default: eval.json next to the first run)")
    p.add_argument("--method", help="method name in the record (default v2p/<trainer>)")
    p.set_defaults(handler=_eval)


def _eval(args: argparse.Namespace) -> int:
    import json

    from rich.console import Console

    from baselines.rl import evaluate_checkpoints, read_run

    record = evaluate_checkpoints(args.checkpoint, args.seeds, args.episodes, args.device, args.video, args.method)
    out = args.out
    if out is None:
        run_dir = Path(read_run(args.checkpoint[0])["config"]["run_dir"])
        out = run_dir / "eval.json"
    record.write(out)
    console = Console()
    console.print_json(json.dumps(record.to_json()))
    console.print(f"{record.task}: ground-truth success {record.mean:.2f} +- {record.std:.2f} over seeds "
                  f"{record.seeds} ({record.episodes} episodes each) · record {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="v2p", description="Video2Policy: videos -> simulated tasks -> policies")
    parser.add_argument("-v", "--verbose", action="store_true")
    subparsers = parser.add_subparsers(dest="command", required=True)
    _add_run(subparsers)
    _add_train(subparsers)
    _add_eval(subparsers)
    try:
        from generator.reconstruct.cli import add_reconstruct_parser
    except ImportError:
        pass
    else:
        add_reconstruct_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
