"""Code as Policies (Liang et al.): the model writes policy code, no RL.

The policy code (``plan(robot)`` over ``primitives``) comes from the model (the ``cap`` prompt,
with the robot API) or from the template backend's rule-based writer; it is checked by the code
policy and evaluated in a job's child process (it is untrusted) on the task's env (the same
reset as the generated task, as in the paper), closed loop, re-planned every 50 steps. A plan
that raises in an env holds that env still and is counted; the episode is a failure unless the
ground truth says otherwise.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np

import v2p_envs
from generator.codegen.generate import GenerateConfig, generate_task, make_client
from generator.codegen.llm import ChatRequest
from generator.codegen.parse import extract_code
from generator.codegen.prompts import PROMPTS_DIR, render
from generator.codegen.task_goal import expected_metric
from generator.jobs import Job, make_runner
from v2p_envs.errors import V2PError
from v2p_envs.scene_spec import SceneSpec
from v2p_envs.untrusted.code_policy import check_source

from ..rl.evaluate import eval_seeds
from ..rollout import rollout
from .config import Budget, MethodConfig
from .primitives import PrimitivePolicy

__all__ = ["run_code_as_policies", "evaluate_plan_job", "load_plan"]


def load_plan(path: Path) -> Callable:
    """``plan`` from a policy-code file, after the code policy accepted it."""
    source = Path(path).read_text()
    violations = check_source(source, str(path))
    if violations:
        raise V2PError(f"{path}: the code policy refuses: {'; '.join(map(str, violations[:3]))}")
    spec = importlib.util.spec_from_file_location(f"v2p_cap_plan_{abs(hash(str(path)))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not callable(getattr(module, "plan", None)):
        raise V2PError(f"{path}: defines no function plan(robot)")
    return module.plan


def evaluate_plan_job(task_dir: str, plan_file: str, seeds: list[int], episodes: int,
                      replan_every: int = 50) -> dict[str, Any]:
    """The paper's protocol for a plan: ``episodes`` per seed, ground truth at any step (a job)."""
    plan = load_plan(Path(plan_file))
    env = v2p_envs.make_vec(task_dir, num_envs=episodes * len(seeds)).unwrapped
    try:
        policy = PrimitivePolicy(env, plan, replan_every)
        result = rollout(env, policy, [s for seed in seeds for s in eval_seeds(seed, episodes)])
        metric = env.success_metric
    finally:
        env.close()
    per_seed = [float(np.mean(result.success[k * episodes:(k + 1) * episodes])) for k in range(len(seeds))]
    return {"per_seed_success": per_seed, "metric": metric, "plan_errors": len(policy.errors),
            "first_errors": policy.errors[:5]}


def _model_plan(scene: SceneSpec, codegen: GenerateConfig, out_dir: Path, replan_every: int) -> str | None:
    client = make_client(codegen, out_dir)
    prompt = render("cap", task_title=scene.task_title, caption=scene.task_title,
                    objects=", ".join(o.name for o in scene.objects), replan_every=replan_every,
                    api=(PROMPTS_DIR / "cap_api.txt").read_text().strip())
    text = client.complete(ChatRequest((("user", prompt),), client.model, n=1, temperature=codegen.temperature,
                                       purpose="cap")).texts[0]
    parsed = extract_code(text)
    return parsed.code if parsed.ok else None


def run_code_as_policies(scene: SceneSpec, out_dir: Path, method: MethodConfig, budget: Budget,
                         codegen: GenerateConfig) -> dict[str, Any]:
    # the task env: generated as the RL methods' (its reset is shared with them, as in the paper)
    generation = generate_task(scene, out_dir / "generate", dataclasses.replace(codegen, samples=1, pick=False))
    if generation.task_dir is None:
        return {"per_seed_success": [0.0] * budget.seeds, "mean": 0.0, "std": 0.0, "metric": expected_metric(scene),
                "failure": "no runnable task code for the env"}
    if codegen.backend == "template":
        from generator.codegen.cap_template import write_template_plan

        code, writer = write_template_plan(scene)[0], "template (rule-based, not a model)"
    else:
        code, writer = _model_plan(scene, codegen, out_dir / "generate", method.replan_every), codegen.model
    plan_file = out_dir / "plan.py"
    if code is None:
        return {"per_seed_success": [0.0] * budget.seeds, "mean": 0.0, "std": 0.0, "metric": expected_metric(scene),
                "failure": "the model's reply held no usable policy code", "plan_writer": writer}
    plan_file.write_text(code)
    seeds = list(range(budget.seeds))
    job = Job("evaluate_plan", "baselines.methods.code_as_policies:evaluate_plan_job",
              {"task_dir": str(generation.task_dir), "plan_file": str(plan_file), "seeds": seeds,
               "episodes": budget.eval_episodes, "replan_every": method.replan_every}, timeout_s=3600,
              writable=(str(generation.task_dir),), readable=(str(plan_file),))
    result = make_runner(budget.workers, budget.ray_address).run([job], out_dir / "jobs")[0]
    out: dict[str, Any] = {"plan_writer": writer, "task_dir": str(generation.task_dir), "plan_file": str(plan_file)}
    if not result.ok:
        out.update(per_seed_success=[0.0] * len(seeds), metric=expected_metric(scene),
                   failure=f"{result.status}: {result.error}")
    else:
        out.update(result.result)
    per_seed = out["per_seed_success"]
    out.update(mean=round(float(np.mean(per_seed)), 4), std=round(float(np.std(per_seed)), 4))
    return out


if __name__ == "__main__":  # pragma: no cover - a quick look: python -m baselines.methods.code_as_policies TASK_DIR PLAN
    sys.stdout.write(json.dumps(evaluate_plan_job(sys.argv[1], sys.argv[2], [0], 5)) + "\n")
