"""Reward reflection: iterations of reward samples, each trained, the best one carried forward.

The paper's loop (Sec. 3.2, App. A.1, Figs. 8-9): start from the picked task module; iteration 0
trains it as it is; every later iteration samples ``samples`` new reward functions conditioned on
the best module so far and its policy feedback, trains each (``seeds`` runs), and keeps the best
by its score, the *generated* success rate at the end of training (the ground truth is never
shown to the loop). Every sample's code, trial, training logs and score are kept in the run
folder; ``reflection.json`` is the record and ``reflection.png`` the score over iterations
(the paper's Fig. 4).

Trainings are jobs (``generator.jobs``: a local pool, or Ray), each in a child process; the
function that trains is named by the caller (``baselines.rl.jobs:train_job``), so this module
never imports the trainers. Before each iteration the best sample's log summary is read for
failure modes (``failure_diagnosis.diagnose``: never reaches, reaches but never moves the
object, grasps but drops, a penalty dominates, stops short, success rare, ...). With a model,
new rewards come from the ``reflection`` prompt, which shows that diagnosis next to the logs;
with the ``template`` backend, from rule-based reward edits for the diagnosis
(``failure_diagnosis.plan_edits``, written by ``reward_edit.edit_reward``: reweighting, a gate on
the reach terms, a bonus on the first centimetres of motion, ...; several strengths per
iteration), or the coefficient search when no failure mode stands out. Every sample records its
diagnosis and edit (``reflection.json``, and the task folder's provenance says "rule-based
reflection (template backend, not a model)").
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
import shutil
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from v2p_envs.errors import V2PError
from v2p_envs.scene_spec import load_scene_spec
from v2p_envs.untrusted.trial import TrialConfig, trial_task_dir

from ..emit import emit_task
from ..jobs import Job, JobResult, JobRunner
from .failure_diagnosis import RULE_BASED, Diagnosis, diagnose, plan_edits
from .llm import ChatClient, ChatRequest
from .parse import extract_code
from .prompts import render, system_prompt
from .reward_edit import (EDIT_PREFIX, RewardEdit, RewardEditError, current_edit, edit_reward, reward_function_source,
                          reward_objects, splice_reward)

__all__ = ["ReflectionConfig", "RewardSample", "Proposal", "ReflectionResult", "reflect", "template_proposals",
           "template_weight_candidates", "RECORD_FILE"]

log = logging.getLogger(__name__)
RECORD_FILE = "reflection.json"


@dataclass
class ReflectionConfig:
    iterations: int = 5  # after iteration 0 (the picked module as it is)
    samples: int = 8
    seeds: int = 1
    train_function: str = "baselines.rl.jobs:train_job"
    train_kwargs: dict[str, Any] = field(default_factory=dict)  # steps, num_envs, ... for the train function
    temperature: float = 1.0
    job_timeout_s: float = 3600.0
    job_memory_mb: int | None = 8192
    trial: TrialConfig = field(default_factory=TrialConfig)

    def __post_init__(self) -> None:
        if self.iterations < 0 or self.samples < 1 or self.seeds < 1:
            raise V2PError(f"iterations >= 0, samples >= 1 and seeds >= 1 are needed, got {self.iterations}, "
                           f"{self.samples}, {self.seeds}")


@dataclass
class RewardSample:
    iteration: int
    sample: int
    folder: str | None
    code_sha256: str | None
    status: str  # "trained", "non_runnable" (code policy / trial), "train_failed"
    score: float | None  # generated success rate at the end of training (mean over seeds)
    feedback: str | None = None
    error: str | None = None
    proposal: str = ""  # how the reward was made: "base", "model", or the rule-based edit in words
    jobs: list[dict[str, Any]] = field(default_factory=list)
    diagnosis: str = ""  # what the rules read from the previous best sample's logs (empty in iteration 0)
    edit: dict[str, Any] | None = None  # the template's whole RewardEdit (RewardEdit.to_json()); None for a model


@dataclass(frozen=True)
class Proposal:
    """A new reward for one sample: its code (empty when unusable), how it was made, the
    diagnosis it answers and, for the template, its edit."""

    code: str
    proposal: str
    diagnosis: str = ""
    edit: dict[str, Any] | None = None


@dataclass
class ReflectionResult:
    run_dir: Path
    best: RewardSample
    best_task_dir: Path
    samples: list[RewardSample]
    record: dict[str, Any]

    @property
    def best_score_per_iteration(self) -> list[float | None]:
        return self.record["best_score_per_iteration"]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def template_weight_candidates(feedback: dict[str, Any] | None, current: dict[str, float],
                               count: int) -> list[dict[str, float]]:
    """The coefficient search (the template's fallback when no failure mode stands out): from the
    components' per-step means in failed episodes, raise those near zero and lower the one that
    dominates; ``count`` candidates of growing step size."""
    components = (feedback or {}).get("components", {})
    failed = {name: c["failure"]["mean"] for name, c in components.items()
              if name != "reward" and c.get("failure", {}).get("mean") is not None}
    if not failed:  # no failed episodes logged: scale every component alike
        failed = {name: c.get("mean", 1.0) for name, c in components.items() if name != "reward"}
    total = sum(abs(v) for v in failed.values()) or 1.0
    small = {n for n, v in failed.items() if abs(v) < 0.05 * total and not n.endswith("penalty")}
    dominant = max(failed, key=lambda n: abs(failed[n])) if failed else None
    out = []
    for k in range(count):
        step = 1.5 + 0.5 * k  # 1.5, 2.0, 2.5, ...
        weights = dict(current)
        for n in small:
            weights[n] = round(weights.get(n, 1.0) * step, 4)
        if dominant is not None and abs(failed[dominant]) > 0.5 * total:
            weights[dominant] = round(weights.get(dominant, 1.0) / step, 4)
        if not small and (dominant is None or abs(failed[dominant]) <= 0.5 * total):
            # nothing stands out: try raising each non-penalty component in turn
            names = sorted(n for n in failed if not n.endswith("penalty")) or sorted(failed)
            if names:
                name = names[k % len(names)]
                weights[name] = round(weights.get(name, 1.0) * step, 4)
        out.append(weights)
    return out


class _Reflection:
    def __init__(self, base_task_dir: Path, run_dir: Path, config: ReflectionConfig, client: ChatClient | None,
                 runner: JobRunner) -> None:
        self.base_task_dir, self.run_dir, self.config = base_task_dir, run_dir, config
        self.client, self.runner = client, runner
        self.scene = load_scene_spec(base_task_dir / "scene.json")
        self.provenance = json.loads((base_task_dir / "provenance.json").read_text())
        self.caption = self.provenance.get("caption") or self.scene.task_title
        self.samples: list[RewardSample] = []
        self.edit = RewardEdit()  # the template's edit of the best sample so far (the unedited reward at first)
        self.tried: set[str] = set()  # the template's edits already trained from the current best (not again)
        self.diagnoses: list[dict[str, Any] | None] = [None]  # per iteration; iteration 0 trains as it is

    @property
    def reflection_by(self) -> str:
        return "model" if self.client is not None else RULE_BASED

    def emit(self, iteration: int, sample: int, proposal: Proposal) -> tuple[Path | None, RewardSample | None]:
        folder = self.run_dir / f"iter_{iteration:02d}" / f"sample_{sample:02d}"
        provenance = {**self.provenance, "iteration": iteration, "reward_sample": sample,
                      "reward_proposal": proposal.proposal}
        if iteration > 0:
            provenance.update(reflection=self.reflection_by, reward_diagnosis=proposal.diagnosis,
                              reward_edit=proposal.edit)
        emitted = emit_task(self.scene, proposal.code, provenance, out_root=folder, folder_name="task", overwrite=True)
        trial = trial_task_dir(emitted, self.config.trial)
        if not trial.passed:
            return None, RewardSample(iteration, sample, str(emitted), _sha(proposal.code), "non_runnable", None,
                                      error=f"{trial.category}: {trial.message}", proposal=proposal.proposal,
                                      diagnosis=proposal.diagnosis, edit=proposal.edit)
        return emitted, None

    def train(self, candidates: list[tuple[int, Path, Proposal]], iteration: int) -> list[RewardSample]:
        """Train every (sample, folder, proposal) with every seed as jobs; score = mean over seeds."""
        cfg = self.config
        jobs = [Job(f"iter{iteration:02d}_sample{s:02d}_seed{seed}", cfg.train_function,
                    {**cfg.train_kwargs, "task_dir": str(folder), "seed": seed,
                     "run_dir": str(folder.parent / f"train_seed{seed}")},
                    cfg.job_timeout_s, cfg.job_memory_mb,
                    writable=(str(folder.parent / f"train_seed{seed}"), str(folder)))
                for s, folder, _ in candidates for seed in range(cfg.seeds)]
        results = {r.key: r for r in self.runner.run(jobs, self.run_dir / "jobs")}
        out = []
        for s, folder, proposal in candidates:
            runs = [results[f"iter{iteration:02d}_sample{s:02d}_seed{seed}"] for seed in range(cfg.seeds)]
            scores = [r.result.get("score") for r in runs if r.ok and r.result]
            scores = [x for x in scores if x is not None and math.isfinite(x)]
            ok = [r for r in runs if r.ok]
            sample = RewardSample(iteration, s, str(folder), _sha(proposal.code), "trained" if ok else "train_failed",
                                  sum(scores) / len(scores) if scores else None,
                                  feedback=ok[0].result.get("feedback") if ok else None,
                                  error=None if ok else _job_error(runs[0]), proposal=proposal.proposal,
                                  jobs=[asdict(r) for r in runs], diagnosis=proposal.diagnosis, edit=proposal.edit)
            sample_feedback = ok[0].result.get("summary") if ok else None
            if sample_feedback is not None:
                (folder.parent / "feedback.json").write_text(json.dumps(sample_feedback, indent=1) + "\n")
            out.append(sample)
        return out

    def diagnose(self, iteration: int, summary: dict[str, Any] | None) -> Diagnosis:
        """The failure modes in the best sample's log summary, recorded for the iteration."""
        diagnosis = diagnose(summary)
        folder = self.run_dir / f"iter_{iteration:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "diagnosis.json").write_text(json.dumps(diagnosis.to_json(), indent=1) + "\n")
        self.diagnoses.append(diagnosis.to_json())
        log.info("reflection iteration %d: diagnosis: %s", iteration, diagnosis.headline)
        return diagnosis

    def propose(self, iteration: int, best: RewardSample, best_code: str) -> list[Proposal]:
        """The iteration's new rewards, each with its diagnosis (and, for the template, its edit)."""
        summary_path = Path(best.folder).parent / "feedback.json" if best.folder else None
        summary = json.loads(summary_path.read_text()) if summary_path and summary_path.is_file() else None
        diagnosis = self.diagnose(iteration, summary)
        if self.client is None:
            proposals = template_proposals(best_code, diagnosis, summary, self.edit, self.config.samples, self.tried)
            self.tried.update(_edit_key(p.edit) for p in proposals)
            return proposals
        prompt = render("reflection", task_title=self.scene.task_title, caption=self.caption,
                        reward_code=reward_function_source(best_code).strip(),
                        feedback=best.feedback or "(no feedback: the training run failed)",
                        diagnosis=diagnosis.text())
        (self.run_dir / f"iter_{iteration:02d}" / "prompt.txt").write_text(prompt)
        request = ChatRequest((("system", system_prompt()), ("user", prompt)), self.client.model,
                              n=self.config.samples, temperature=self.config.temperature,
                              purpose=f"reflect:{iteration}")
        out, text = [], diagnosis.text()
        for reply in self.client.complete(request).texts:
            parsed = extract_code(reply)
            if parsed.code is None:
                out.append(Proposal("", f"model (unparsable: {parsed.message})", text))
                continue
            try:
                out.append(Proposal(splice_reward(best_code, parsed.code), "model", text))
            except RewardEditError as exc:
                out.append(Proposal("", f"model ({exc})", text))
        return out


def _edit_key(edit: dict[str, Any] | None) -> str:
    return json.dumps(edit, sort_keys=True)


def template_proposals(best_code: str, diagnosis: Diagnosis, summary: dict[str, Any] | None, current: RewardEdit,
                       count: int, tried: set[str] | frozenset[str] = frozenset()) -> list[Proposal]:
    """The template backend's ``count`` rewards: rule-based edits for the diagnosis on top of the
    current edit (``plan_edits``), none twice and none already ``tried`` from this best (an
    iteration that found nothing better goes on to the next, stronger edits), topped up by the
    coefficient search when the diagnosis has fewer (or, "unclear", none)."""
    objects = reward_objects(best_code)
    text = diagnosis.text()
    out, seen = [], set(tried)
    for planned in plan_edits(diagnosis, current, objects, 3 * count + len(tried)):
        key = _edit_key(planned.edit.to_json())
        if key in seen:
            continue
        seen.add(key)
        out.append(Proposal(edit_reward(best_code, planned.edit, note=planned.finding.text()), planned.proposal(),
                            text, planned.edit.to_json()))
        if len(out) == count:
            break
    if summary is not None:  # the search weighs the reward's own components, not what an edit added
        summary = {**summary, "components": {k: v for k, v in (summary.get("components") or {}).items()
                                             if not k.startswith(EDIT_PREFIX)}}
    searched = template_weight_candidates(summary, current.weights, count - len(out)) if len(out) < count else []
    for weights in searched:
        edit = replace(current, weights=weights)
        delta = ", ".join(f"{n} x{w:g}" for n, w in sorted(weights.items()))
        out.append(Proposal(edit_reward(best_code, edit, note="no failure mode stands out: coefficient search"),
                            f"{RULE_BASED}: coefficient search; weights: {delta or 'none'}", text, edit.to_json()))
    return out


def _job_error(result: JobResult) -> str:
    category = (result.result or {}).get("category")
    return f"{result.status}{f' ({category})' if category else ''}: {result.error}"


def reflect(base_task_dir: Path | str | list[Path | str], run_dir: Path | str, config: ReflectionConfig | None = None,
            client: ChatClient | None = None, runner: JobRunner | None = None) -> ReflectionResult:
    """Reflect on the reward of ``base_task_dir`` (see the module doc); ``client`` None: the
    template's rule-based search. Several starting modules (Eureka's initial samples) are all
    trained in iteration 0 and the best by score is carried forward."""
    from ..jobs import LocalRunner

    config = config or ReflectionConfig()
    starts = [Path(p) for p in (base_task_dir if isinstance(base_task_dir, list) else [base_task_dir])]
    if not starts:
        raise V2PError("reflection needs at least one starting task module")
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    refl = _Reflection(starts[0], run_dir, config, client, runner or LocalRunner())
    started = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    initial = []
    for k, start in enumerate(starts):
        code = (start / "task.py").read_text()
        reward_function_source(code)  # fails early, clearly, for a module without one
        folder, failed = refl.emit(0, k, Proposal(code, "base"))
        if failed is not None:
            raise V2PError(f"{start}: the starting module fails its trial: {failed.error}")
        initial.append((k, folder, Proposal(code, "base")))
    trained = refl.train(initial, 0)
    refl.samples += trained
    scored = [s for s in trained if s.score is not None]
    best = max(scored, key=lambda s: s.score) if scored else trained[0]
    best_code = Path(best.folder, "task.py").read_text()
    refl.edit = current_edit(best_code) if refl.client is None else RewardEdit()
    best_per_iteration = [best.score]
    for iteration in range(1, config.iterations + 1):
        candidates = []
        for k, proposal in enumerate(refl.propose(iteration, best, best_code), start=1):
            if not proposal.code:
                refl.samples.append(RewardSample(iteration, k, None, None, "non_runnable", None,
                                                 error=proposal.proposal, proposal="model",
                                                 diagnosis=proposal.diagnosis))
                continue
            folder, failed = refl.emit(iteration, k, proposal)
            if failed is not None:
                refl.samples.append(failed)
            else:
                candidates.append((k, folder, proposal))
        trained = refl.train(candidates, iteration) if candidates else []
        refl.samples += trained
        for sample in trained:
            if sample.score is not None and (best.score is None or sample.score > best.score):
                best, best_code = sample, Path(sample.folder, "task.py").read_text()
                if refl.client is None:
                    refl.edit, refl.tried = RewardEdit.from_json(sample.edit), set()
        best_per_iteration.append(best.score)
        log.info("reflection iteration %d: best score %s", iteration, best.score)
    return _finish(refl, best, best_per_iteration, started)


def _finish(refl: _Reflection, best: RewardSample, per_iteration: list[float | None], started: str) -> ReflectionResult:
    run_dir = refl.run_dir
    best_dir = run_dir / "best" / refl.base_task_dir.name
    if best_dir.exists():
        shutil.rmtree(best_dir)
    shutil.copytree(best.folder, best_dir)
    provenance = json.loads((best_dir / "provenance.json").read_text())
    provenance.update(iteration=best.iteration, training_score=best.score, reflection=refl.reflection_by)
    (best_dir / "provenance.json").write_text(json.dumps(provenance, indent=2) + "\n")
    record = {"base_task_dir": str(refl.base_task_dir), "caption": refl.caption,
              "reflection": provenance["reflection"], "model": refl.client.model if refl.client else None,
              "config": {k: v for k, v in asdict(refl.config).items() if k != "trial"},
              "best": asdict(best), "best_score_per_iteration": per_iteration,
              "diagnosis_per_iteration": refl.diagnoses,
              "samples": [asdict(s) for s in refl.samples], "started": started, "best_task_dir": str(best_dir)}
    (run_dir / RECORD_FILE).write_text(json.dumps(record, indent=1) + "\n")
    _plot(refl.samples, per_iteration, run_dir / "reflection.png", refl.scene.task_title)
    return ReflectionResult(run_dir, best, best_dir, refl.samples, record)


def _plot(samples: list[RewardSample], per_iteration: list[float | None], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.4))
    xs = [s.iteration for s in samples if s.score is not None]
    ax.scatter(xs, [s.score for s in samples if s.score is not None], s=14, alpha=0.5, label="reward samples")
    ax.plot(range(len(per_iteration)), [v if v is not None else float("nan") for v in per_iteration],
            marker="o", label="best so far")
    ax.set(xlabel="iteration", ylabel="generated success rate", title=f"reflection: {title}", ylim=(-0.02, 1.02))
    ax.xaxis.get_major_locator().set_params(integer=True)  # iterations are whole
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
