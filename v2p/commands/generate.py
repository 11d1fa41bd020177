"""``v2p generate``: a scene folder or a video -> a runnable, checked task module (and an env)."""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from .common import HelpFormatter, add_progress_flag, non_negative_int, positive_int, output_console

__all__ = ["add_parser", "scene_from"]

_VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".webm", ".mkv", ".m4v")


def add_parser(subparsers) -> None:
    from generator.codegen.generate import BACKENDS, GenerateConfig
    from generator.codegen.llm import PriceTable
    from generator.reconstruct.cli import add_camera_arguments
    from generator.reconstruct.geometry import Intrinsics

    defaults = GenerateConfig()
    p = subparsers.add_parser(
        "generate", formatter_class=HelpFormatter,
        help="scene folder or video -> task code (samples, trial, pick) -> a task folder",
        description="Writes task code for a scene with a model (any OpenAI-compatible endpoint), replays a "
                    "recorded run, or uses the offline template writer (rule-based, not a model). Given a video, "
                    "reconstructs it first.")
    p.add_argument("source", type=Path, help="a scene folder (scene.json, from `v2p reconstruct`) or a video")
    p.add_argument("--caption", help="what happens in the video (default: the scene's title)")
    p.add_argument("--objects", nargs="+", help="object names as in the caption (needed for a video)")
    p.add_argument("--backend", choices=BACKENDS, default=defaults.backend,
                   help="template: offline rule-based writer; openai: any OpenAI-compatible endpoint; replay: a "
                        "recorded run's responses")
    p.add_argument("--base-url", help="the endpoint, e.g. http://127.0.0.1:8000/v1 (default: OPENAI_BASE_URL or "
                                      "api.openai.com); the key comes from OPENAI_API_KEY")
    p.add_argument("--model", help="the model name at the endpoint")
    p.add_argument("--samples", type=positive_int, default=defaults.samples)
    p.add_argument("--max-retries", type=non_negative_int, default=defaults.max_retries,
                   help="regenerations of a sample that fails its check or trial, with the error")
    p.add_argument("--temperature", type=float, default=defaults.temperature)
    p.add_argument("--no-pick", action="store_true", help="take the first runnable sample (the ablation)")
    p.add_argument("--no-video-info", action="store_true", help="show the model the caption only, no tracked poses")
    p.add_argument("--timeout", type=float, default=defaults.timeout_s, help="seconds per request")
    p.add_argument("--price", type=PriceTable.parse, help="USD per 1M tokens, PROMPT,COMPLETION: cost in the record")
    p.add_argument("--replay-from", type=Path, help="replay: the run folder whose responses to replay "
                                                    "(default: --out)")
    p.add_argument("--pool", type=Path, help="accepted tasks shown as curriculum examples; the chosen task joins it")
    p.add_argument("--out", type=Path, required=True, help="run folder: prompts, responses, samples, report")
    p.add_argument("--emit", action="store_true", help="also write the chosen task into --emit-dir and register it")
    p.add_argument("--emit-dir", type=Path, help="where --emit writes (default: v2p_envs/generated/, where "
                                                 "`import v2p_envs` registers it)")
    video = p.add_argument_group("reconstruction (when the source is a video)")
    video.add_argument("--intrinsics", type=Intrinsics.parse, help="fx,fy,cx,cy in pixels")
    add_camera_arguments(video)
    video.add_argument("--prompts", type=Path, help='JSON {"name": [x0, y0, x1, y1]}: boxes on frame 0')
    video.add_argument("--max-frames", type=positive_int, help="use only the first N frames")
    add_progress_flag(p)
    p.set_defaults(handler=_generate)


def scene_from(source: Path, out_dir: Path, caption: str | None = None, objects: list[str] | None = None,
               camera: dict | None = None, prompts: Path | None = None, max_frames: int | None = None,
               progress: bool = True):
    """The SceneSpec of a scene folder, or of a video reconstructed into ``out_dir/scene``;
    ``camera``: ``ReconstructConfig`` camera settings (``generator.reconstruct.cli.camera_settings``)."""
    from generator.reconstruct.config import ReconstructConfig
    from generator.reconstruct.depth import CameraPrior
    from generator.reconstruct.pipeline import run_pipeline
    from v2p_envs.errors import V2PError
    from v2p_envs.scene_spec import load_scene_spec

    if source.is_dir():
        return load_scene_spec(source / "scene.json")
    if source.suffix.lower() not in _VIDEO_SUFFIXES or not source.is_file():
        raise V2PError(f"{source}: expected a scene folder (with scene.json) or a video file ({', '.join(_VIDEO_SUFFIXES)})")
    if not caption or not objects:
        raise V2PError("a video needs --caption and --objects (the object names as the caption says them)")
    settings = camera if camera is not None else {"camera": CameraPrior(), "estimate_camera": True}
    config = ReconstructConfig(out_dir=out_dir / "scene", prompts=prompts, max_frames=max_frames, progress=progress,
                               **settings)
    return run_pipeline(source, caption, objects, config).scene


def _generate(args: argparse.Namespace) -> int:
    import v2p_envs
    from generator.codegen.generate import GenerateConfig, generate_task

    from generator.reconstruct.cli import camera_settings

    console = output_console()
    scene = scene_from(args.source, args.out, args.caption, args.objects, camera_settings(args), args.prompts,
                       args.max_frames, not args.no_progress)
    config = GenerateConfig(backend=args.backend, model=args.model, base_url=args.base_url, samples=args.samples,
                            max_retries=args.max_retries, temperature=args.temperature, pick=not args.no_pick,
                            use_video=not args.no_video_info, timeout_s=args.timeout, price=args.price,
                            pool=args.pool, replay_from=args.replay_from, progress=not args.no_progress)
    result = generate_task(scene, args.out, config, caption=args.caption)
    record = result.record
    console.print(f"{scene.task_class_name}: {len(result.attempts)} attempt(s), runnable samples "
                  f"{record['runnable_samples'] or 'none'}, chosen {result.chosen_sample} "
                  f"({result.pick.get('method')}) · report {args.out / 'report.md'}")
    if result.task_dir is None:
        console.print("no runnable task: see the report for each sample's failure")
        return 1
    console.print(f"task folder {result.task_dir}")
    goal = record.get("family_goal")
    if goal is not None:
        objects = goal["x"] if goal["y"] is None else f"{goal['x']}, {goal['y']}"
        console.print(f"family goal: {goal['family']} ({objects}) {goal['params']} · goal.json, derived by rule from "
                      "the caption" + (" and the video" if goal["derived_from"].get("video") else "")
                      + "; a task without a hand-written ground truth is evaluated by this family's ground truth")
    if args.emit:
        target_root = args.emit_dir or v2p_envs.GENERATED_DIR
        target = target_root / result.task_dir.name
        if target.exists():
            from v2p_envs.errors import V2PError

            raise V2PError(f"{target} exists: remove it, or pass another --emit-dir")
        shutil.copytree(result.task_dir, target)
        env_id = v2p_envs.register_task_dir(target) if args.emit_dir is None else v2p_envs.resolve_task(target).id
        console.print(f"emitted {target} as {env_id}" + ("" if args.emit_dir is None else
                                                           f" (make it with v2p_envs.make_vec('{target}'))"))
    return 0
