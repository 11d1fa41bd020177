"""The trial: build a task folder's env in a child process, reset it, step it, check the contract.

Untrusted task code (a model's sample, a user's folder) runs in this process only after the
code policy accepted it and this trial passed. The child builds ``num_envs`` envs, resets and
steps them ``steps`` times with random actions; the env itself checks the contract at each
call (observation width == ``get_observation_space()``, reward and components finite of shape
(N,), success boolean of shape (N,)). A failure comes back as a category and a message
(``errors.TRIAL_CATEGORIES``), never as an exception or a hang. Results are cached by the
code's hash, so a folder is tried once per content.

    python -m v2p_envs.untrusted.trial TASK_DIR     # prints the result as JSON
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import TRIAL_CATEGORIES, UntrustedCodeError
from .child import Limits, run_python_child
from .sandbox import Sandbox
from .code_policy import check_source

__all__ = ["TrialConfig", "TrialResult", "trial_task_dir", "require_trial", "check_task_code", "code_digest"]

log = logging.getLogger(__name__)
_TRIAL_VERSION = 1  # part of the cache key: bump when what the trial checks changes


@dataclass(frozen=True)
class TrialConfig:
    num_envs: int = 2
    steps: int = 5
    #: time for task code: building, resetting and stepping the env (checked inside the child)
    call_timeout_s: float = 60.0
    #: wall clock for the whole child, interpreter start-up and imports included
    timeout_s: float = 180.0
    memory_mb: int | None = 4096
    seed: int = 0


@dataclass
class TrialResult:
    """What the trial found; ``category`` is None when it passed."""

    passed: bool
    category: str | None
    message: str
    folder: str
    seconds: float
    code_sha256: str = ""
    observation_dim: int | None = None
    config: dict[str, Any] = field(default_factory=dict)
    isolated: bool = False  # the child ran inside the sandbox

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "TrialResult":
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def code_digest(folder: Path) -> str:
    """sha256 over the files that decide what the task code does (task.py and scene.json)."""
    h = hashlib.sha256()
    for name in ("task.py", "scene.json"):
        path = folder / name
        h.update(name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b"<missing>") + b"\0")
    return h.hexdigest()


def check_task_code(folder: Path) -> TrialResult | None:
    """The code policy on ``folder/task.py``: a failed result, or None when the code is allowed."""
    path = Path(folder) / "task.py"
    try:
        source = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        return TrialResult(False, "contract", f"{path}: cannot read: {exc}", str(folder), 0.0)
    violations = check_source(source, str(path))
    if not violations:
        return None
    listed = "; ".join(str(v) for v in violations[:5]) + (f"; ... {len(violations) - 5} more" if len(violations) > 5 else "")
    return TrialResult(False, violations[0].category, f"{path}: {listed}", str(folder), 0.0)


def _cache_file(digest: str, config: TrialConfig) -> Path:
    from ..robot import cache_dir

    key = hashlib.sha256(json.dumps([digest, asdict(config), _TRIAL_VERSION, _package_version()]).encode())
    return cache_dir() / "trials" / f"{key.hexdigest()[:32]}.json"


def _package_version() -> str:
    from .. import __version__

    return __version__


def trial_task_dir(folder: Path | str, config: TrialConfig = TrialConfig(), use_cache: bool = True) -> TrialResult:
    """Check ``folder``'s code with the policy, then try it in a child process (see module doc)."""
    folder = Path(folder).resolve()
    digest = code_digest(folder)
    refused = check_task_code(folder)
    if refused is not None:
        refused.code_sha256 = digest
        return refused
    cache = _cache_file(digest, config)
    if use_cache and cache.is_file():
        try:
            return TrialResult.from_json(json.loads(cache.read_text()))
        except (json.JSONDecodeError, TypeError):
            cache.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="v2p_trial_") as tmp:
        out = Path(tmp) / "result.json"
        outcome = run_python_child(
            ["-m", "v2p_envs.untrusted.trial_child", str(folder), "--out", str(out), "--num-envs", str(config.num_envs),
             "--steps", str(config.steps), "--call-timeout", str(config.call_timeout_s), "--seed", str(config.seed)],
            Limits(config.timeout_s, config.memory_mb), cwd=Path(tmp),
            # it writes its result and its own folder (the meshes' collision cache), nothing else
            sandbox=Sandbox(writable=(Path(tmp), folder)))
        result = _read_outcome(folder, out, outcome)
    result.isolated = outcome.isolated
    result.code_sha256 = digest
    result.config = asdict(config)
    if result.category != "crash":  # a crash may be the machine's, not the code's: try again next time
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(result.to_json(), indent=1) + "\n")
    log.info("trial of %s: %s", folder, "passed" if result.passed else f"{result.category}: {result.message}")
    return result


def _read_outcome(folder: Path, out: Path, outcome) -> TrialResult:
    seconds = round(outcome.seconds, 2)
    if outcome.timed_out:
        return TrialResult(False, "timeout", f"the trial did not finish within its time limit ({seconds:.0f} s)",
                           str(folder), seconds)
    if outcome.returncode == 0 and out.is_file():
        try:
            result = TrialResult.from_json(json.loads(out.read_text()))
            result.seconds = seconds
            return result
        except (json.JSONDecodeError, TypeError) as exc:
            return TrialResult(False, "crash", f"unreadable trial result: {exc}", str(folder), seconds)
    tail = outcome.stderr_tail.strip().splitlines()[-3:]
    memory = any(w in outcome.stderr_tail for w in ("MemoryError", "Cannot allocate memory", "std::bad_alloc"))
    return TrialResult(False, "memory" if memory else "crash",
                       f"the child process exited with status {outcome.returncode}: {' | '.join(tail)}",
                       str(folder), seconds)


def require_trial(folder: Path | str, config: TrialConfig = TrialConfig()) -> TrialResult:
    """The passed trial of ``folder``, or ``UntrustedCodeError`` saying what failed and what to do."""
    result = trial_task_dir(folder, config)
    if not result.passed:
        raise UntrustedCodeError(
            f"{folder}: task code failed its trial ({result.category}: {TRIAL_CATEGORIES.get(result.category, '')}): "
            f"{result.message}. Folders other than the shipped tasks run only after passing the trial in a child "
            f"process; if you wrote this code and trust it, pass trust_task_code=True (CLI: --trust-task-code).")
    return result


def main(argv: list[str] | None = None) -> int:
    defaults = TrialConfig()
    p = argparse.ArgumentParser(prog="python -m v2p_envs.untrusted.trial", description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("folder", type=Path, help="task folder (scene.json, task.py, ...)")
    p.add_argument("--num-envs", type=int, default=defaults.num_envs)
    p.add_argument("--steps", type=int, default=defaults.steps)
    p.add_argument("--call-timeout", type=float, default=defaults.call_timeout_s)
    p.add_argument("--no-cache", action="store_true", help="try again even if a result is cached")
    args = p.parse_args(argv)
    result = trial_task_dir(args.folder, TrialConfig(args.num_envs, args.steps, args.call_timeout),
                            use_cache=not args.no_cache)
    sys.stdout.write(json.dumps(result.to_json(), indent=1) + "\n")
    return 0 if result.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
