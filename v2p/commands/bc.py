"""``v2p bc collect | train | eval``: behaviour cloning from the data engine (issue 15).

    v2p bc collect runs/lift_family --out runs/bc/data.hdf5 --tasks 10 --episodes 10
    v2p bc train runs/bc/data.hdf5 --out runs/bc/n10 --preset cpu
    v2p bc train runs/bc/data.hdf5 --out runs/bc/video_k4 --policy video --horizon 4
    v2p bc eval runs/bc/n10 --family runs/lift_family --split held_out --episodes 10 --seeds 3
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from .common import HelpFormatter, add_progress_flag, non_negative_int, output_console, positive_int

__all__ = ["add_parser"]


def add_parser(subparsers) -> None:
    from baselines.bc.engine import CollectConfig
    from baselines.bc.train import PRESETS

    p = subparsers.add_parser("bc", help="behaviour cloning: collect demonstrations, train, evaluate",
                              description=__doc__, formatter_class=HelpFormatter)
    sub = p.add_subparsers(dest="bc_command", required=True)
    defaults = CollectConfig()
    c = sub.add_parser("collect", help="successful episodes on a lift family's training tasks (robomimic HDF5)",
                       formatter_class=HelpFormatter)
    c.add_argument("family", type=Path, help="folder written by python -m generator.lift_family")
    c.add_argument("--out", type=Path, required=True, help="dataset file (.hdf5); a dataset card goes next to it")
    c.add_argument("--split", default="train", choices=("train", "held_out_seen", "held_out_unseen"))
    c.add_argument("--tasks", type=positive_int, help="only the first N tasks of the split (default: all)")
    c.add_argument("--episodes", type=positive_int, default=defaults.episodes, help="attempts per task")
    c.add_argument("--image-size", type=positive_int, default=defaults.image_size)
    c.add_argument("--action-noise", type=float, default=defaults.action_noise, help="Gaussian noise on actions")
    c.add_argument("--max-steps", type=positive_int, default=defaults.max_steps)
    c.add_argument("--seed", type=non_negative_int, default=defaults.seed)
    add_progress_flag(c)
    c.set_defaults(handler=_collect)

    t = sub.add_parser("train", help="train the ResNet18 BC policy on a dataset", formatter_class=HelpFormatter)
    t.add_argument("data", type=Path, help="dataset from v2p bc collect")
    t.add_argument("--out", type=Path, required=True, help="run folder: policy.safetensors + bc.json")
    t.add_argument("--preset", choices=sorted(PRESETS), default="cpu",
                   help="cpu: 64 px, 400 steps at batch 64, robot state as input; paper: 256 px, 30 epochs, RGB only")
    t.add_argument("--tasks", type=positive_int, help="train on the episodes of the first N tasks only")
    budget = t.add_mutually_exclusive_group()
    budget.add_argument("--epochs", type=positive_int, help="override the preset's budget: whole passes over the data")
    budget.add_argument("--steps", type=positive_int, help="override the preset's budget: gradient steps (resnet18)")
    t.add_argument("--images-only", action="store_true", help="no robot-state input (the paper's RGB-only BC)")
    t.add_argument("--batch-size", type=positive_int, help="override the preset's batch size")
    t.add_argument("--backbone-weights", type=Path, help="torchvision resnet18 state dict (.safetensors or .pth)")
    t.add_argument("--seed", type=non_negative_int, default=0)
    t.add_argument("--device", default="cpu", help="torch device for training (cuda for the paper preset)")
    t.add_argument("--policy", choices=("resnet18", "video"), default="resnet18",
                   help="resnet18: the paper's BC; video: a video-prediction model with an action head")
    t.add_argument("--horizon", type=positive_int, default=4, help="video: frames the video model predicts")
    t.add_argument("--mode", choices=("two_stage", "joint"), default="two_stage",
                   help="video: freeze the video model before the action head, or train both together")
    add_progress_flag(t)
    t.set_defaults(handler=_train)

    e = sub.add_parser("eval", help="a BC policy on a family's held-out tasks (ground truth)",
                       formatter_class=HelpFormatter)
    e.add_argument("run", type=Path, help="run folder from v2p bc train")
    e.add_argument("--family", type=Path, required=True, help="the lift family folder")
    e.add_argument("--split", default="held_out", help="held_out (both held-out splits), train, or one split name")
    e.add_argument("--tasks", type=positive_int, help="only the first N tasks of the split (default: all)")
    e.add_argument("--episodes", type=positive_int, default=10, help="episodes per task and seed")
    e.add_argument("--seeds", type=positive_int, default=3, help="evaluation seeds 0..S-1")
    e.add_argument("--max-steps", type=positive_int, default=defaults.max_steps)
    e.add_argument("--json", type=Path, help="also write the per-task results here")
    add_progress_flag(e)
    e.set_defaults(handler=_eval)


def _family_tasks(family: Path, split: str):
    from generator.lift_family import load_family

    tasks = load_family(family)
    chosen = [(s, f) for s, f in tasks if s.split == split or (split == "held_out" and s.split.startswith("held_out"))]
    if not chosen:
        raise FileNotFoundError(f"{family}: no tasks in split {split!r} (splits: {sorted({s.split for s, _ in tasks})})")
    return chosen


def _collect(args: argparse.Namespace) -> int:
    from baselines.bc.dataset import write_card, write_dataset
    from baselines.bc.engine import CollectConfig, collect_task

    config = CollectConfig(args.episodes, args.image_size, args.action_noise, max_steps=args.max_steps,
                           seed=args.seed, progress=not args.no_progress)
    tasks = _family_tasks(args.family, args.split)[: args.tasks]
    episodes, attempts = [], 0
    for spec, folder in tasks:
        kept, tried = collect_task(folder, spec.kind, spec.split, config)
        episodes += kept
        attempts += tried
    env_args = {"image_size": args.image_size, "policy": "scripted oracle (privileged stand-in for trained policies)",
                "randomization": {"action_noise": args.action_noise}, "family": str(args.family),
                "tasks": [f.name for _, f in tasks]}
    write_dataset(args.out, episodes, env_args)
    card = write_card(args.out, episodes, env_args)
    output_console().print(f"{len(episodes)} of {attempts} episodes succeeded on {len(tasks)} tasks -> {args.out} "
                           f"(card {card})")
    return 0 if episodes else 1


def _train(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from baselines.bc.dataset import read_episodes
    from baselines.bc.train import PRESETS, train_bc

    config = replace(PRESETS[args.preset], seed=args.seed, device=args.device,
                     backbone_weights=str(args.backbone_weights) if args.backbone_weights else None)
    if args.images_only:
        config = replace(config, proprio=False)
    if args.epochs:
        config = replace(config, epochs=args.epochs, steps=None)
    if args.steps:
        config = replace(config, steps=args.steps)
    if args.batch_size:
        config = replace(config, batch_size=args.batch_size)
    tasks = None
    if args.tasks:
        episodes, _ = read_episodes(args.data)
        tasks = set(list(dict.fromkeys(e.task for e in episodes))[: args.tasks])
    try:
        if args.policy == "video":
            from baselines.bc.video_policy import VideoPolicyConfig, train_video_policy

            if args.steps:
                raise ValueError("--steps sets the resnet18 policy's budget; the video policy trains by --epochs "
                                 "(per stage)")

            video = VideoPolicyConfig(horizon=args.horizon, mode=args.mode, seed=args.seed, device=args.device,
                                      batch_size=args.batch_size or VideoPolicyConfig.batch_size,
                                      proprio=not args.images_only)
            if args.epochs:
                video = replace(video, video_epochs=args.epochs, action_epochs=args.epochs)
            out = train_video_policy(args.data, args.out, video, tasks, progress=not args.no_progress)
        else:
            out = train_bc(args.data, args.out, config, tasks, progress=not args.no_progress)
    except ValueError as exc:
        raise FileNotFoundError(str(exc)) from None
    record = json.loads((out / "bc.json").read_text())
    output_console().print(f"trained on {record['episodes']} episodes of {len(record['tasks'])} tasks "
                           f"({record['samples']} samples), final loss {record['losses'][-1]:.4f} -> {out}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    import numpy as np

    from baselines.bc.evaluate import evaluate_task
    from baselines.bc.train import load_policy

    net, config = load_policy(args.run)
    results = []
    for spec, folder in _family_tasks(args.family, args.split)[: args.tasks]:
        for seed in range(args.seeds):
            results.append(evaluate_task(net, config.image_size, folder, spec.kind, spec.split, args.episodes, seed,
                                         args.max_steps, progress=not args.no_progress))
    console = output_console()
    for r in results:
        console.print(f"{r.task} ({r.split}) seed {r.seed}: {r.success_rate:.2f}")
    per_seed = [np.mean([r.success_rate for r in results if r.seed == s]) for s in range(args.seeds)]
    console.print(f"mean success over {len(results) // args.seeds} tasks: {np.mean(per_seed):.2f} "
                  f"+- {np.std(per_seed):.2f} over {args.seeds} seeds")
    if args.json:
        from dataclasses import asdict

        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=1) + "\n")
    return 0
