"""One method on one task: generate -> (reflect) -> train with seeds -> evaluate on ground truth.

The same loop serves every RL method (``config.py`` says how they differ); Code as Policies
writes policy code instead and is evaluated directly. Trainings are jobs on the local pool or
Ray (``generator.jobs``). The record (``method.json`` in the run folder) names the backend, the
budget, the metric and the device, and keeps every stage's own record.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import platform
from pathlib import Path
from typing import Any

import numpy as np

from generator.codegen.generate import GenerateConfig, generate_task, make_client
from generator.codegen.reflection import ReflectionConfig, reflect
from generator.codegen.task_goal import expected_metric
from generator.jobs import Job, make_runner
from v2p_envs.scene_spec import SceneSpec

from ..rl.evaluate import evaluate_checkpoints, git_commit, package_version
from .config import Budget, MethodConfig

__all__ = ["run_method", "RECORD_FILE"]

log = logging.getLogger(__name__)
RECORD_FILE = "method.json"


def _final_trainings(task_dir: Path, out_dir: Path, budget: Budget, runner) -> list[dict[str, Any]]:
    jobs = [Job(f"final_seed{seed}", "baselines.rl.jobs:train_job",
                {"task_dir": str(task_dir), "seed": seed, "run_dir": str(out_dir / "final" / f"seed{seed}"),
                 "steps": budget.final_steps, "num_envs": budget.num_envs, "episode_length": budget.episode_length},
                timeout_s=24 * 3600, writable=(str(out_dir / "final" / f"seed{seed}"), str(task_dir)))
            for seed in range(budget.seeds)]
    return [dataclasses.asdict(r) for r in runner.run(jobs, out_dir / "final" / "jobs")]


def _evaluate(trainings: list[dict[str, Any]], method: MethodConfig, budget: Budget, planned_metric: str,
              runner, out_dir: Path) -> dict[str, Any]:
    """Each seed's policy on its own evaluation seed (the paper: 10 episodes x 3 seeds), in a
    sandboxed job like its training (the env runs the task's code); ``planned_metric`` names what
    the zeros measure when no policy could be evaluated."""
    per_seed, metric, failures, jobs = [0.0] * len(trainings), None, [], {}
    for seed, job in enumerate(trainings):
        result = job.get("result") or {}
        checkpoint = result.get("best_checkpoint") if method.keep == "best_return" else None
        checkpoint = checkpoint or result.get("checkpoint")
        if job["status"] != "done" or not checkpoint:
            # a failed training run scores nothing, and is listed
            failures.append({"seed": seed, "status": job["status"], "error": job.get("error")})
            continue
        run_dir = Path(result.get("run_dir") or Path(checkpoint).parent.parent)
        task_dir = json.loads((run_dir / "run.json").read_text())["config"].get("task_dir")
        jobs[seed] = Job(f"evaluate_seed{seed}", "baselines.rl.jobs:evaluate_job",
                         {"checkpoint": str(checkpoint), "seed": seed, "episodes": budget.eval_episodes},
                         timeout_s=3 * 3600, readable=(str(run_dir),), writable=(str(task_dir),) if task_dir else ())
    for seed, done in zip(jobs, runner.run(list(jobs.values()), out_dir / "final" / "eval_jobs")):
        if done.ok:
            per_seed[seed] = done.result["per_seed_success"][0]
            metric = done.result["metric"]
        else:
            failures.append({"seed": seed, "status": f"evaluation {done.status}", "error": done.error})
    return {"per_seed_success": per_seed, "mean": round(float(np.mean(per_seed)), 4),
            "std": round(float(np.std(per_seed)), 4), "metric": metric or planned_metric,
            "failed_trainings": failures}


def run_method(method: MethodConfig, scene: SceneSpec, out_dir: Path | str, budget: Budget = Budget(),
               codegen: GenerateConfig | None = None) -> dict[str, Any]:
    """Run ``method`` on ``scene`` within ``budget`` (see the module doc); returns the record."""
    method = budget.cap(method)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    codegen = dataclasses.replace(codegen or GenerateConfig(), samples=method.samples, pick=method.pick,
                                  use_video=method.use_video, progress=False)
    record: dict[str, Any] = {"method": method.name, "task": scene.task_class_name, "caption": scene.task_title,
                              "backend": codegen.backend, "model": codegen.model, "config": dataclasses.asdict(method),
                              "budget": dataclasses.asdict(budget), "device": "cpu",
                              "machine": f"{platform.machine()} {platform.system()}",
                              "package_version": package_version(), "git_commit": git_commit()}
    if method.policy == "code":
        from .code_as_policies import run_code_as_policies

        record.update(run_code_as_policies(scene, out_dir, method, budget, codegen))
    else:
        record.update(_run_rl_method(scene, out_dir, method, budget, codegen))
    (out_dir / RECORD_FILE).write_text(json.dumps(record, indent=1) + "\n")
    return record


def _run_rl_method(scene: SceneSpec, out_dir: Path, method: MethodConfig, budget: Budget,
                   codegen: GenerateConfig) -> dict[str, Any]:
    generation = generate_task(scene, out_dir / "generate", codegen)
    out: dict[str, Any] = {"generation": {"runnable_samples": generation.runnable,
                                          "chosen_sample": generation.chosen_sample, "pick": generation.pick}}
    if generation.task_dir is None:
        out.update(per_seed_success=[0.0] * budget.seeds, mean=0.0, std=0.0, metric=expected_metric(scene),
                   failure="no runnable task code")
        return out
    runner = make_runner(budget.workers, budget.ray_address)
    task_dir = generation.task_dir
    starts = [Path(a.folder) for a in generation.attempts if a.category is None] if method.train_all_samples else []
    if method.reflection_iterations > 0 or len(starts) > 1:
        if warning := budget.short_reflection_warning():
            log.warning("%s: %s", method.name, warning)
            out["budget_warning"] = warning
        client = make_client(codegen, out_dir / "generate")
        reflection = reflect(starts or [task_dir], out_dir / "reflect", ReflectionConfig(
            iterations=method.reflection_iterations, samples=method.reflection_samples,
            train_kwargs={"steps": budget.reflection_steps, "num_envs": budget.num_envs,
                          "episode_length": budget.episode_length}), client=client, runner=runner)
        task_dir = reflection.best_task_dir
        out["reflection"] = {"best_score_per_iteration": reflection.best_score_per_iteration,
                             "best_iteration": reflection.best.iteration, "samples": len(reflection.samples)}
    out["task_dir"] = str(task_dir)
    trainings = _final_trainings(task_dir, out_dir, budget, runner)
    out["final_trainings"] = [{k: v for k, v in t.items() if k != "result"} | {
        "score": (t.get("result") or {}).get("score")} for t in trainings]
    out.update(_evaluate(trainings, method, budget, expected_metric(scene), runner, out_dir))
    log.info("%s on %s: %s", method.name, scene.task_class_name, out["per_seed_success"])
    return out
