"""``v2p pipeline``: a video and its caption -> a simulated task -> a trained, evaluated policy -> an mp4.

The paper's whole method in one command: reconstruct the video, generate the task code (the
offline template backend by default, or any model), reflect on the reward (trainings as jobs),
train the final policy, evaluate it and write a video of it.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from .common import HelpFormatter, add_progress_flag, output_console, positive_int, success_phrase

__all__ = ["add_parser"]


def add_parser(subparsers) -> None:
    from baselines.methods import ABLATIONS, METHODS
    from baselines.methods.config import BUDGET_PRESETS
    from generator.codegen.generate import BACKENDS

    p = subparsers.add_parser("pipeline", formatter_class=HelpFormatter,
                              help="video + caption -> task -> reward reflection -> trained policy -> evaluation, mp4",
                              description=__doc__)
    p.add_argument("video", type=Path, help="the video (or a scene folder from `v2p reconstruct`)")
    p.add_argument("--caption", help="what happens in the video (needed for a video)")
    p.add_argument("--objects", nargs="+", help="the object names as the caption says them (needed for a video)")
    p.add_argument("--out", type=Path, help="run folder (default runs/pipeline/<video name>)")
    p.add_argument("--method", choices=sorted({*METHODS, *ABLATIONS} - {"cop"}), default="v2p")
    p.add_argument("--backend", choices=BACKENDS, default="template",
                   help="code generation: template (offline, rule-based, not a model), openai, replay")
    p.add_argument("--model", help="the model (openai backend)")
    p.add_argument("--base-url", help="the OpenAI-compatible endpoint (openai backend)")
    p.add_argument("--budget", choices=BUDGET_PRESETS, default="cpu-small",
                   help="compute: cpu-small runs the loop end to end in about 10 minutes on 2 cores (its policies do "
                        "not learn yet); cpu is sized for the single-object rewards to learn (3M-step final run); "
                        "tiny is a smoke test; paper is GPU scale")
    p.add_argument("--episodes", type=positive_int, default=10, help="evaluation episodes")
    p.add_argument("--workers", type=positive_int, default=1, help="training jobs at a time")
    p.add_argument("--ray-address", help="run the training jobs on Ray")
    add_progress_flag(p)
    p.set_defaults(handler=_pipeline)


def _pipeline(args: argparse.Namespace) -> int:

    from baselines.methods import method_config, run_method
    from generator.codegen.generate import GenerateConfig
    from v2p_envs.errors import V2PError

    from baselines.methods import Budget

    from .generate import scene_from
    from .run import run_policy

    console = output_console()
    out = args.out or Path("runs") / "pipeline" / args.video.stem
    scene = scene_from(args.video, out, args.caption, args.objects, progress=not args.no_progress)
    console.print(f"1/4 scene: {scene.task_class_name}, objects {[o.name for o in scene.objects]} · {out / 'scene'}")
    budget = dataclasses.replace(Budget.preset(args.budget), seeds=1, eval_episodes=args.episodes, workers=args.workers,
                                 ray_address=args.ray_address)
    codegen = GenerateConfig(backend=args.backend, model=args.model, base_url=args.base_url)
    record = run_method(method_config(args.method), scene, out, budget, codegen)
    if record.get("failure"):
        raise V2PError(f"the pipeline stopped: {record['failure']} (see {out})")
    console.print(f"2/4 task code: {record['task_dir']}")
    if "reflection" in record:
        console.print(f"3/4 reward reflection, best generated success per iteration: "
                      f"{record['reflection']['best_score_per_iteration']} · {out / 'reflect' / 'reflection.png'}")
    final = json.loads((out / "final" / "jobs" / "final_seed0.json").read_text())
    checkpoint = Path(final["result"]["checkpoint"])
    video = out / "policy.mp4"
    result, env_id = run_policy(None, "oracle", checkpoint, 4, 0, video=video, progress=not args.no_progress)
    console.print(f"4/4 policy {checkpoint}: {success_phrase(record['metric'])} {record['mean']:.2f} "
                  f"over {args.episodes} episodes · "
                  f"video {video} ({len(result.success)} episodes tiled) · record {out / 'method.json'}")
    return 0
