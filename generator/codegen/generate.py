"""Scene -> runnable task module: N samples, each checked and tried, regenerated on failure, one picked.

The paper's loop (Sec. 3.2, App. A.1-A.3): one query writes the whole task module from the
system prompt (contract, ``states`` keys), curriculum examples and the scene (caption, sizes,
first/last tracked poses and their difference); ``samples`` replies; each reply's code is
extracted, checked by the code policy and tried in a child process (``v2p_envs.untrusted``); a
failure is recorded with its category and sent back with the error for up to ``max_retries``
regenerations; the model then re-checks the runnable samples and picks one (``pick``), or the
first runnable one is taken (``--no-pick``, and when the pick answer names none).

Backends: ``openai`` (any OpenAI-compatible endpoint; every request and response is stored in
the run folder), ``replay`` (the stored responses of an earlier run: the same result, byte for
byte, with no endpoint) and ``template`` (the rule-based writer, honestly labelled: one
deterministic sample, no model). The run folder holds the prompts, the responses, every
sample's task folder and trial, the pick, ``generation.json`` and ``report.md``; the chosen
sample is emitted to ``<run_dir>/task/<folder>``. Every task folder of a caption of a known verb
family also holds ``goal.json``: the family goal from the caption and the video (``task_goal``,
by rule, never from the code), which evaluation scores a task without a hand-written ground
truth by.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from v2p_envs.errors import TRIAL_CATEGORIES, V2PError
from v2p_envs.registration import GENERATED_DIR
from v2p_envs.scene_spec import SceneSpec
from v2p_envs.untrusted.trial import TrialConfig, trial_task_dir

from ..emit import emit_task, task_folder_name
from .llm import ChatClient, ChatRequest, OpenAIChatClient, PriceTable
from .parse import extract_code, parse_pick
from .prompts import Example, example_prompt, prompt_file_hashes, render, system_prompt, user_prompt
from .response_store import RecordingClient, ReplayClient, ResponseStore
from .task_goal import task_goal
from .template_writer import TEMPLATE_WRITER_VERSION, without_poses, write_template_task

__all__ = ["BACKENDS", "GenerateConfig", "SampleRecord", "GenerationResult", "generate_task", "CURRICULUM_SEEDS",
           "RECORD_FILE", "make_client"]

log = logging.getLogger(__name__)
BACKENDS = ("template", "openai", "replay")
RECORD_FILE = "generation.json"
#: The curriculum starts from these shipped tasks (the paper: "reach a block", "grasp a block").
CURRICULUM_SEEDS = (GENERATED_DIR / "reach_block", GENERATED_DIR / "grasp_block")


@dataclass
class GenerateConfig:
    backend: str = "template"
    model: str | None = None  # the endpoint's model (openai); replay takes it from the recorded run
    base_url: str | None = None  # None: the openai package's default (OPENAI_BASE_URL, else api.openai.com)
    samples: int = 8
    max_retries: int = 3
    temperature: float = 1.0
    pick: bool = True
    use_video: bool = True  # False: the caption only (the "without visual information" ablation)
    timeout_s: float = 120.0
    price: PriceTable | None = None
    trial: TrialConfig = field(default_factory=TrialConfig)
    #: task folders shown as curriculum examples after the seeds (accepted tasks of earlier runs);
    #: the chosen task joins it
    pool: Path | None = None
    #: replay: the run folder whose stored responses to replay (default: the run folder itself)
    replay_from: Path | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise V2PError(f"backend must be one of {BACKENDS}, got {self.backend!r}")
        if self.samples < 1 or self.max_retries < 0:
            raise V2PError(f"samples must be >= 1 and max_retries >= 0, got {self.samples} and {self.max_retries}")
        if self.backend == "openai" and not self.model:
            raise V2PError("the openai backend needs a model name (--model)")


@dataclass
class SampleRecord:
    """One attempt at one sample: its code's fate (``category`` None: runnable)."""

    sample: int
    attempt: int
    request_key: str | None
    folder: str | None
    code_sha256: str | None
    category: str | None
    message: str
    trial_seconds: float = 0.0


@dataclass
class GenerationResult:
    run_dir: Path
    task_dir: Path | None  # the chosen sample's emitted folder; None when no sample was runnable
    chosen_sample: int | None
    pick: dict[str, Any]
    attempts: list[SampleRecord]
    record: dict[str, Any]

    @property
    def runnable(self) -> list[int]:
        return sorted({a.sample for a in self.attempts if a.category is None})


def make_client(config: GenerateConfig, run_dir: Path) -> ChatClient | None:
    """The backend's chat client, recording into ``run_dir`` (None for the template backend)."""
    if config.backend == "openai":
        return RecordingClient(OpenAIChatClient(config.base_url, config.model, timeout_s=config.timeout_s,
                                                price=config.price), ResponseStore.for_run(run_dir))
    if config.backend == "replay":
        source = Path(config.replay_from or run_dir)
        store = ResponseStore.for_run(source)
        if not store.keys():
            raise V2PError(f"replay: {store.folder} holds no recorded responses; replay the run folder of an openai "
                           "generation (--replay-from RUN_DIR)")
        replay = ReplayClient(store, model=config.model or _recorded_model(source))
        # the responses used are copied into this run's own store, so the run folder stands alone
        return replay if source.resolve() == run_dir.resolve() else RecordingClient(replay, ResponseStore.for_run(run_dir))
    return None


def _recorded_model(run_dir: Path) -> str:
    try:
        return json.loads((run_dir / RECORD_FILE).read_text())["model"] or "replay"
    except (OSError, json.JSONDecodeError, KeyError):
        return "replay"


def _examples(pool: Path | None) -> list[Example]:
    """The curriculum seeds, then the pool's accepted tasks (newest last)."""
    folders = list(CURRICULUM_SEEDS)
    if pool is not None and pool.is_dir():
        folders += sorted((p for p in pool.iterdir() if (p / "task.py").is_file()), key=lambda p: p.stat().st_mtime)
    examples = []
    for folder in folders:
        scene = json.loads((folder / "scene.json").read_text())
        examples.append(Example(scene["task_title"], scene.get("description", ""), (folder / "task.py").read_text()))
    return examples


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class _Run:
    """The state of one generation: where things go and what has happened."""

    def __init__(self, scene: SceneSpec, caption: str, run_dir: Path, config: GenerateConfig) -> None:
        self.scene, self.caption, self.run_dir, self.config = scene, caption, run_dir, config
        self.attempts: list[SampleRecord] = []
        self.requests: list[str] = []
        self.usage = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        self.cost: float | None = None
        self.model_answered: str | None = None
        self.prompt_sha256: dict[str, str] = {}
        #: the family goal of the caption (None: no known family): goal.json of every sample. It
        #: reads the video even when the writer may not (``use_video=False``, an ablation): the
        #: bar a task is evaluated by is the video's, the same for every method.
        self.goal = task_goal(scene, caption, use_video=True)

    def ask(self, client: ChatClient, messages: tuple[tuple[str, str], ...], n: int, purpose: str) -> list[str]:
        request = ChatRequest(messages, client.model, n=n, temperature=self.config.temperature, purpose=purpose)
        response = client.complete(request)
        self.requests.append(request.key())
        for k in self.usage:
            self.usage[k] += int(response.usage.get(k, 0))
        if response.cost_usd is not None:
            self.cost = (self.cost or 0.0) + response.cost_usd
        self.model_answered = response.model
        return response.texts

    def try_code(self, sample: int, attempt: int, text: str | None, code: str | None, request_key: str | None,
                 provenance: dict[str, Any]) -> SampleRecord:
        """Extract (from ``text``) or take ``code``, check it, emit it as a task folder and try it."""
        if code is None:
            parsed = extract_code(text or "")
            (self.sample_dir(sample, attempt)).mkdir(parents=True, exist_ok=True)
            (self.sample_dir(sample, attempt) / "reply.md").write_text(text or "")
            if not parsed.ok:
                record = SampleRecord(sample, attempt, request_key, None, parsed.code and _sha(parsed.code),
                                      parsed.category, parsed.message)
                self.attempts.append(record)
                return record
            code = parsed.code
        folder = emit_task(self.scene, code, {**provenance, "sample_id": sample, "attempt": attempt},
                           out_root=self.sample_dir(sample, attempt), folder_name="task", overwrite=True,
                           goal=self.goal)
        trial = trial_task_dir(folder, self.config.trial)
        record = SampleRecord(sample, attempt, request_key, str(folder), _sha(code), trial.category,
                              trial.message, trial.seconds)
        self.attempts.append(record)
        return record

    def sample_dir(self, sample: int, attempt: int) -> Path:
        return self.run_dir / "samples" / f"sample_{sample:02d}" / f"attempt_{attempt}"


def generate_task(scene: SceneSpec, run_dir: Path | str, config: GenerateConfig | None = None,
                  caption: str | None = None) -> GenerationResult:
    """Generate, check, try and pick task code for ``scene``; see the module doc."""
    config = config or GenerateConfig()
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    caption = (caption or scene.task_title).strip()
    run = _Run(scene, caption, run_dir, config)
    client = make_client(config, run_dir)
    base_provenance = _provenance_base(config, client, scene, caption)
    base_provenance["family_goal"] = _goal_provenance(run)
    started = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    if client is None:
        # without video information (the ablation, and Eureka / RoboGen) the writer gets the caption
        # and the objects only, as a model gets a prompt without the tracked poses
        result = write_template_task(scene if config.use_video else without_poses(scene), caption)
        run.try_code(1, 0, None, result.code, None, base_provenance)
        pick = {"method": "single sample", "reason": "the template backend writes one deterministic sample"}
        chosen = 1 if run.attempts[-1].category is None else None
    else:
        system, user = _prompts(run, config)
        messages = (("system", system), ("user", user))
        texts = run.ask(client, messages, config.samples, "sample")
        final: dict[int, SampleRecord] = {}
        bar = tqdm(total=len(texts), desc="samples", disable=not config.progress, leave=False)
        for k, text in enumerate(texts, start=1):
            record = run.try_code(k, 0, text, None, run.requests[0], base_provenance)
            conversation, reply = messages, text
            for attempt in range(1, config.max_retries + 1):
                if record.category is None:
                    break
                conversation = conversation + (("assistant", reply), ("user", _feedback(record)))
                reply = run.ask(client, conversation, 1, f"regenerate:{k}:{attempt}")[0]
                record = run.try_code(k, attempt, reply, None, run.requests[-1], base_provenance)
            final[k] = record
            bar.update(1)
            bar.set_postfix(runnable=sum(r.category is None for r in final.values()))
        bar.close()
        chosen, pick = _pick(run, client, final, config)
    return _finish(run, chosen, pick, base_provenance, started)


def _prompts(run: _Run, config: GenerateConfig) -> tuple[str, str]:
    system = system_prompt()
    examples = "\n\n".join(example_prompt(e) for e in _examples(config.pool))
    user = examples + "\n\n" + user_prompt(run.scene, run.caption, use_video=config.use_video)
    prompts = run.run_dir / "prompts"
    prompts.mkdir(exist_ok=True)
    (prompts / "system.txt").write_text(system)
    (prompts / "user.txt").write_text(user)
    run.prompt_sha256 = {"system": _sha(system), "user": _sha(user)}
    return system, user


def _feedback(record: SampleRecord) -> str:
    return render("execution_error", category=record.category,
                  category_meaning=TRIAL_CATEGORIES.get(record.category, ""), message=record.message)


def _pick(run: _Run, client: ChatClient, final: dict[int, SampleRecord],
          config: GenerateConfig) -> tuple[int | None, dict[str, Any]]:
    runnable = [k for k, r in sorted(final.items()) if r.category is None]
    if not runnable:
        return None, {"method": "none", "reason": "no sample was runnable"}
    if len(runnable) == 1:
        return runnable[0], {"method": "single runnable sample", "reason": f"only sample {runnable[0]} ran"}
    if not config.pick:
        return runnable[0], {"method": "first runnable (--no-pick)", "reason": f"sample {runnable[0]} is the first "
                                                                              "runnable sample"}
    codes = [Path(final[k].folder, "task.py").read_text() for k in runnable]
    candidates = "\n".join(render("candidate", index=i, code=c.strip()) for i, c in enumerate(codes, start=1))
    prompt = render("pick", count=len(runnable), task_title=run.scene.task_title, caption=run.caption,
                    candidates=candidates)
    (run.run_dir / "prompts" / "pick.txt").write_text(prompt)
    answer = run.ask(client, (("system", system_prompt()), ("user", prompt)), 1, "pick")[0]
    index = parse_pick(answer, len(runnable))
    if index is None:
        return runnable[0], {"method": "fallback: first runnable", "answer": answer,
                             "reason": "the pick answer named no candidate in range (expected 'Chosen: <1.."
                                       f"{len(runnable)}>'); took sample {runnable[0]}, the first runnable one"}
    return runnable[index - 1], {"method": "model", "answer": answer, "candidate": index,
                                 "reason": answer.strip().splitlines()[0][:500] if answer.strip() else ""}


def _provenance_base(config: GenerateConfig, client: ChatClient | None, scene: SceneSpec,
                     caption: str) -> dict[str, Any]:
    template = client is None
    return {
        "written_by": ("video2policy template backend (a rule-based writer, not a model)" if template
                       else f"language model {client.model} via {config.backend}"),
        "is_model_output": not template,
        "backend": config.backend,
        "model": None if template else client.model,
        "template_writer_version": TEMPLATE_WRITER_VERSION if template else None,
        "caption": caption,
        "use_video": config.use_video,
        "prompt_files_sha256": None if template else prompt_file_hashes(),
        "scene_source": str(scene.source_dir) if scene.source_dir else None,
        "iteration": None,
        "training_score": None,
    }


def _goal_provenance(run: _Run) -> dict[str, Any] | None:
    """What provenance says of goal.json: the family, and that a rule derived it from the caption
    (and the video), not the task code."""
    if run.goal is None:
        return None
    return {"file": "goal.json", "family": run.goal.family, "objects": list(run.goal.objects),
            **run.goal.derived_from}


def _finish(run: _Run, chosen: int | None, pick: dict[str, Any], base: dict[str, Any], started: str) -> GenerationResult:
    config = run.config
    final = {a.sample: a for a in run.attempts}
    task_dir = None
    if chosen is not None:
        source = Path(final[chosen].folder)
        task_dir = run.run_dir / "task" / task_folder_name(run.scene.task_class_name)
        if task_dir.exists():
            shutil.rmtree(task_dir)
        shutil.copytree(source, task_dir)
        provenance = {**base, "sample_id": chosen, "attempt": final[chosen].attempt, "pick": pick,
                      "prompt_sha256": run.prompt_sha256 or None, "request_keys": run.requests, "trial": "passed",
                      "generated_at": started}
        if not base["is_model_output"]:
            provenance["request_keys"] = []
        (task_dir / "provenance.json").write_text(json.dumps(provenance, indent=2) + "\n")
        if config.pool is not None:
            config.pool.mkdir(parents=True, exist_ok=True)
            shutil.copytree(task_dir, config.pool / task_dir.name, dirs_exist_ok=True)
    record = {
        "backend": config.backend, "model": base["model"], "base_url": config.base_url if config.backend == "openai"
        else None, "caption": run.caption, "task_class_name": run.scene.task_class_name,
        "samples": config.samples if config.backend != "template" else 1, "max_retries": config.max_retries,
        "temperature": config.temperature, "pick_enabled": config.pick, "use_video": config.use_video,
        "trial": asdict(config.trial), "attempts": [asdict(a) for a in run.attempts],
        "runnable_samples": sorted({a.sample for a in run.attempts if a.category is None}),
        "chosen_sample": chosen, "pick": pick, "task_dir": str(task_dir) if task_dir else None,
        "request_keys": run.requests, "usage": run.usage, "cost_usd": run.cost, "model_answered": run.model_answered,
        "prompt_files_sha256": base["prompt_files_sha256"], "prompt_sha256": run.prompt_sha256, "started": started,
        "family_goal": run.goal.to_dict() if run.goal is not None else None,
    }
    (run.run_dir / RECORD_FILE).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    (run.run_dir / "report.md").write_text(_report(record))
    log.info("generation %s: %d attempt(s), runnable samples %s, chosen %s", run.run_dir, len(run.attempts),
             record["runnable_samples"], chosen)
    return GenerationResult(run.run_dir, task_dir, chosen, pick, run.attempts, record)


def _report(record: dict[str, Any]) -> str:
    lines = [f"# Generation: {record['caption']}", "",
             f"- backend: {record['backend']}" + (f", model {record['model']}" if record["model"] else
                                                  " (rule-based writer, not a model)"),
             f"- samples: {record['samples']}, up to {record['max_retries']} regeneration(s) each; picking "
             f"{'on' if record['pick_enabled'] else 'off'}; video information {'used' if record['use_video'] else 'not used'}",
             f"- runnable samples: {record['runnable_samples'] or 'none'}; chosen: {record['chosen_sample']} "
             f"({record['pick'].get('method')}: {record['pick'].get('reason', '')})",
             f"- tokens: {record['usage']['total_tokens']}" + (f", cost ${record['cost_usd']:.4f}" if record["cost_usd"]
                                                             else ""),
             f"- task folder: {record['task_dir']}", "", "| sample | attempt | result | message |", "|---|---|---|---|"]
    for a in record["attempts"]:
        message = " ".join(a["message"].split())[:160].replace("|", "/")
        lines.append(f"| {a['sample']} | {a['attempt']} | {a['category'] or 'runnable'} | {message} |")
    return "\n".join(lines) + "\n"
