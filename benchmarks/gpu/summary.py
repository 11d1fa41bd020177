"""``summary.json`` and ``summary.md`` of a check's output folder: the issue's targets judged,
the benchmark table, the training run (with when its training success first reached the target,
and ``train_curve.png`` over wall time), the evaluations, the GPU tests and the stages."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from ..training_curves import first_crossing, plot_curves, run_metrics
from .plan import TRAIN_TASK

__all__ = ["build_summary", "summary_markdown", "write_summary"]

#: The issue's targets, on the GPU (PushLeft, 8192 envs, state observations).
TARGET_NUM_ENVS = 8192
TARGET_STEPS_PER_S = 500_000
TARGET_RATIO = 1.3
TARGET_SUCCESS = 0.9
TARGET_TRAIN_S = 180
#: ``--max-time`` ends training after the epoch that crosses it: an epoch's grace (~1 s at 8192 envs)
TRAIN_S_GRACE = 5
#: the training curve, over wall time, next to summary.md
CURVE_PNG = "train_curve.png"
EVAL_FIELDS = ("mean", "std", "per_seed_success", "seeds", "episodes", "episode_length", "checkpoints", "wall_time_s")


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _junit(path: Path) -> dict[str, Any] | None:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    if suite is None:
        return None
    counts: dict[str, Any] = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    counts["passed"] = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    counts["time_s"] = round(float(suite.get("time", 0.0)), 1)
    counts["failed"] = [f"{c.get('classname')}::{c.get('name')}" for c in suite.iter("testcase")
                        if c.find("failure") is not None or c.find("error") is not None]
    return counts


def _stages(path: Path) -> list[dict[str, Any]]:
    """gpu_check.sh's stages.tsv: name, exit code, seconds, limit (0: skipped)."""
    rows = []
    if path.is_file():
        for line in path.read_text().splitlines():
            parts = line.split("\t")
            if len(parts) >= 3:
                rows.append({"stage": parts[0], "rc": int(parts[1]), "seconds": int(parts[2]),
                             "limit_s": int(parts[3]) if len(parts) > 3 else None})
    return rows


def _train(run: dict[str, Any], plan: dict[str, Any], metrics: list[dict[str, Any]]) -> dict[str, Any]:
    config = run.get("config") or {}
    train = {k: run.get(k) for k in ("status", "env_steps", "wall_time_s", "steps_per_s", "final_train_success_rate")}
    train.update({k: config.get(k) for k in ("num_envs", "device", "backend", "steps", "max_time_s")})
    if train["status"] == "done" and train["env_steps"] is not None and train["steps"]:
        train["ended_by"] = "time limit" if train["env_steps"] < train["steps"] else "step count"
    if train.get("steps_per_s") and plan.get("env_steps_per_s"):
        train["train_over_env_rate"] = round(train["steps_per_s"] / plan["env_steps_per_s"], 3)
    # training episodes' ground-truth success, rolling mean over 3 logging periods (as time_to_success)
    train["time_to_target"] = first_crossing(metrics, TARGET_SUCCESS)
    return train


def _targets(key: dict[str, Any] | None, scored: str, score: float | None, train_s: float | None,
             mode: str) -> dict[str, Any]:
    """``key``: the benchmark row of PushLeft at 8192 envs (None if missing or failed)."""
    key = key or {}
    where = f"(PushLeft, {TARGET_NUM_ENVS} envs)"
    rate, ratio = key.get("env_steps_per_s"), key.get("env_over_bare")
    targets: dict[str, Any] = {
        "env_steps_per_s": {"target": f">= {TARGET_STEPS_PER_S:,} {where}", "value": rate,
                            "met": (rate or 0) >= TARGET_STEPS_PER_S},
        "env_over_bare": {"target": f"<= {TARGET_RATIO} {where}", "value": ratio,
                          "met": 0 < (ratio or 99) <= TARGET_RATIO},
        "push_left_success": {"target": f">= {TARGET_SUCCESS} ground truth after <= {TARGET_TRAIN_S} s of training "
                                        f"(--max-time {TARGET_TRAIN_S}: the epoch that crosses it ends it)",
                              "value": score, "checkpoint": scored, "train_wall_s": train_s,
                              "met": bool(mode == "gpu" and (score or 0) >= TARGET_SUCCESS and train_s is not None
                                          and train_s <= TARGET_TRAIN_S + TRAIN_S_GRACE)},
    }
    if mode != "gpu":
        targets["note"] = "tiny mode (Warp CPU device, tiny sizes): targets not assessed"
    return targets


def build_summary(out_dir: Path, mode: str) -> dict[str, Any]:
    work = out_dir / "work"
    bench = _load(out_dir / "bench.json") or {}
    run = _load(work / "run" / "run.json") or {}
    metrics = run_metrics(work / "run")
    plan = _load(work / "plan.json") or {}
    evals = {k: _load(out_dir / f"eval_{k}.json") for k in ("best", "last")}
    key = next((r for r in bench.get("rows", []) if r.get("task") == TRAIN_TASK
                and r.get("num_envs") == TARGET_NUM_ENVS and "error" not in r), None)
    scored = "best" if evals["best"] else "last"  # rl-games keeps a best checkpoint only after 50 epochs
    return {
        "mode": mode, "machine": _load(work / "env.json"), "stages": _stages(work / "stages.tsv"),
        "tests": _junit(work / "pytest_gpu.xml"), "bench": bench, "train_plan": plan,
        "train": _train(run, plan, metrics),
        "eval": {k: None if v is None else {f: v.get(f) for f in EVAL_FIELDS} for k, v in evals.items()},
        "targets": _targets(key, scored, (evals[scored] or {}).get("mean"), run.get("wall_time_s"), mode),
    }


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.1f}" if abs(v) >= 10 else f"{v:.3f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _targets_md(targets: dict[str, Any]) -> list[str]:
    lines = ["## Targets", "", "| target | value | met |", "|---|---|---|"]
    for name, t in targets.items():
        if isinstance(t, dict):
            extra = (f" ({t['checkpoint']} checkpoint, {_fmt(t['train_wall_s'])} s of training)"
                     if "train_wall_s" in t else "")
            lines.append(f"| {name}: {t['target']} | {_fmt(t['value'])}{extra} | {_fmt(t['met'])} |")
    if "note" in targets:
        lines += ["", targets["note"]]
    return lines


def _bench_md(b: dict[str, Any]) -> list[str]:
    title = (f"## Env step vs bare MuJoCo Warp physics ({b.get('device')}; {b.get('steps')} steps x "
             f"{b.get('rounds')} rounds, median)")
    head = ("| task | N | env steps/s | bare steps/s | env / bare | peak GPU mem GiB (torch + Warp pool) | "
            "nvidia-smi used GiB | build s |")
    lines = [title, "", head, "|---|---|---|---|---|---|---|---|"]
    for r in sorted(b.get("rows", []), key=lambda r: (r.get("task", ""), r.get("num_envs", 0))):
        if "error" in r:
            lines.append(f"| {r['task']} | {r['num_envs']} | error: {r['error'][:80]} | | | | | |")
            continue
        mem = "-" if r.get("peak_gpu_mem_gib") is None else (
            f"{r['peak_gpu_mem_gib']:.2f} ({r['peak_torch_gib']:.2f} + {r['peak_warp_pool_gib']:.2f})")
        lines.append(f"| {r['task']} | {r['num_envs']:,} | {_fmt(r.get('env_steps_per_s'))} | "
                     f"{_fmt(r.get('bare_steps_per_s'))} | {_fmt(r.get('env_over_bare'))} | {mem} | "
                     f"{_fmt(r.get('smi_used_gib'))} | {_fmt(r.get('build_s'))} |")
    return lines


def _train_md(t: dict[str, Any], p: dict[str, Any]) -> list[str]:
    def g(v: Any) -> str:
        return "-" if v is None else f"{v:g}"

    line = (f"`v2p train --backend {t.get('backend')} --num-envs {t.get('num_envs')} --max-time "
            f"{g(t.get('max_time_s'))} --steps {t.get('steps')}` on {t.get('device')} (the steps bound: env rate "
            f"{_fmt(p.get('env_steps_per_s'))}/s x {g(p.get('max_time_s'))} s x margin {g(p.get('margin'))}): "
            f"{_fmt(t.get('env_steps'))} steps in {_fmt(t.get('wall_time_s'))} s ({_fmt(t.get('steps_per_s'))} "
            f"steps/s, {_fmt(t.get('train_over_env_rate'))} of the env's rate), ended by {t.get('ended_by', '-')}, "
            f"status {t.get('status')}, final training success {_fmt(t.get('final_train_success_rate'))}")
    reached = t.get("time_to_target")
    when = (f"after {_fmt(reached['wall_time_s'])} s of training ({_fmt(reached['env_steps'])} env steps)" if reached
            else "not within the run")
    crossing = (f"Training success (ground truth, training episodes, rolling mean of 3 periods) first reached "
                f"{TARGET_SUCCESS} {when}; curve: {CURVE_PNG}.")
    return ["## Training (rl-games PPO, PushLeft)", "", line, "", crossing]


def _eval_md(evals: dict[str, Any]) -> list[str]:
    lines = ["## Ground-truth evaluation", "", "| checkpoint | mean | std | per seed | episodes x seeds | eval s |",
             "|---|---|---|---|---|---|"]
    for k, e in evals.items():
        if e:
            lines.append(f"| {k} | {_fmt(e.get('mean'))} | {_fmt(e.get('std'))} | {e.get('per_seed_success')} | "
                         f"{e.get('episodes')} x {len(e.get('seeds') or [])} ({e.get('episode_length')} steps) | "
                         f"{_fmt((e.get('wall_time_s') or {}).get('eval'))} |")
        else:
            lines.append(f"| {k} | not evaluated | | | | |")
    return lines


def _tests_md(tests: dict[str, Any] | None) -> list[str]:
    if not tests:
        result = "no result"
    else:
        result = (f"{tests['passed']} passed, {tests['failures'] + tests['errors']} failed, {tests['skipped']} "
                  f"skipped in {tests['time_s']} s" + (f"; failed: {', '.join(tests['failed'])}" if tests["failed"]
                                                       else ""))
    return ["## Tests (`python -m pytest -m gpu tests/warp`)", "", result]


def summary_markdown(s: dict[str, Any]) -> str:
    m = s.get("machine") or {}
    header = (f"{m.get('date')} · commit {m.get('commit')} · {m.get('gpu') or m.get('nvidia_smi') or 'no GPU'} · "
              f"torch {m.get('torch')} (CUDA {m.get('torch_cuda')}) · warp-lang {m.get('warp-lang')} · "
              f"mujoco-warp {m.get('mujoco-warp')} · mujoco {m.get('mujoco')} · {m.get('cpus')} CPUs")
    stages = ["## Stages", "", "| stage | exit code | s | limit s |", "|---|---|---|---|"]
    stages += [f"| {r['stage']} | {r['rc']} | {r['seconds']} | {_fmt(r['limit_s'])} |" for r in s.get("stages", [])]
    sections = [[f"# GPU check ({s['mode']})", "", header], _targets_md(s["targets"]), _bench_md(s.get("bench") or {}),
                _train_md(s.get("train") or {}, s.get("train_plan") or {}), _eval_md(s.get("eval") or {}),
                _tests_md(s.get("tests")), stages]
    return "\n\n".join("\n".join(lines) for lines in sections) + "\n"


def write_summary(out_dir: Path, mode: str) -> str:
    """Write ``summary.json`` and ``summary.md`` into ``out_dir``; return the Markdown."""
    s = build_summary(out_dir, mode)
    metrics = run_metrics(out_dir / "work" / "run")
    if metrics:
        title = f"{TRAIN_TASK}, {s['train'].get('num_envs')} envs"
        plot_curves({TRAIN_TASK: metrics}, title, out_dir / CURVE_PNG, x="wall_time_s", target=TARGET_SUCCESS)
    (out_dir / "summary.json").write_text(json.dumps(s, indent=1) + "\n")
    md = summary_markdown(s)
    (out_dir / "summary.md").write_text(md)
    return md
