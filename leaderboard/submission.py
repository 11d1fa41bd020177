"""A leaderboard submission: a folder (or a zip of one) that maps observations to actions.

    submission.yaml     method, authors, url, description, tasks, observation: state, privileged
    policy.py           class SubmittedPolicy: __init__(self, weights, spec), reset(env_ids), act(obs)
    *.safetensors       the weights (tensors only); the evaluator loads them and passes a dict

The policy never reads files itself: ``weights`` is a dict of tensors the evaluator loaded from
the folder's safetensors files, and ``spec`` holds the task id, the number of envs, the
observation and action sizes. ``policy.py`` is checked by the task-code policy (imports torch,
math, numpy, typing only; no I/O, no dunder or private access) with no ``v2p_envs`` import at
all, and it runs in a sandboxed child process that sees only observations. Other files (anything
that could be unpickled: .pt, .pth, .pkl, .npy ...) and symbolic links are refused.
"""
from __future__ import annotations

import errno
import hashlib
import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from v2p_envs.errors import V2PError
from v2p_envs.ground_truth import TABLE1_TASKS
from v2p_envs.untrusted.code_policy import check_source

__all__ = ["Submission", "SubmissionError", "load_submission", "unpack_submission", "private_copy", "SUBMISSION_FILE",
           "POLICY_FILE", "TABLE1_IDS"]

SUBMISSION_FILE = "submission.yaml"
POLICY_FILE = "policy.py"
TABLE1_IDS = tuple(f"V2P-{name}-v0" for name in TABLE1_TASKS)
_ALLOWED_SUFFIXES = (".py", ".yaml", ".yml", ".safetensors", ".md", ".txt", ".json")
_MAX_BYTES = 512 * 2**20


class SubmissionError(V2PError, ValueError):
    """A submission that cannot be evaluated; the message names the file and field."""


@dataclass(frozen=True)
class Submission:
    folder: Path
    method: str
    authors: list[str]
    url: str
    description: str
    tasks: tuple[str, ...]
    observation: str
    privileged: bool
    file_sha256: dict[str, str] = field(default_factory=dict)

    @property
    def weight_files(self) -> list[Path]:
        return sorted(self.folder.glob("*.safetensors"))

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "authors": self.authors, "url": self.url, "description": self.description,
                "tasks": list(self.tasks), "observation": self.observation, "privileged": self.privileged,
                "file_sha256": self.file_sha256}


def unpack_submission(source: Path, into: Path) -> Path:
    """A zip's single folder (or its root) extracted safely into ``into``; a folder as it is."""
    source = Path(source)
    if source.is_dir():
        return source
    if not zipfile.is_zipfile(source):
        raise SubmissionError(f"{source}: expected a submission folder or a .zip of one")
    into.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(source) as archive:
        total = 0
        for info in archive.infolist():
            name = Path(info.filename)
            if name.is_absolute() or ".." in name.parts:
                raise SubmissionError(f"{source}: member {info.filename!r} points outside the submission")
            total += info.file_size
            if total > _MAX_BYTES:
                raise SubmissionError(f"{source}: more than {_MAX_BYTES // 2**20} MiB unpacked")
        archive.extractall(into)
    roots = [p for p in into.iterdir() if p.is_dir()]
    return roots[0] if len(roots) == 1 and not (into / SUBMISSION_FILE).is_file() else into


def _field(data: dict, key: str, typ: type, source: Path, expected: str) -> Any:
    if key not in data:
        raise SubmissionError(f"{source}: field '{key}' is missing ({expected})")
    if not isinstance(data[key], typ):
        raise SubmissionError(f"{source}: field '{key}': expected {expected}, got {type(data[key]).__name__}")
    return data[key]


def load_submission(folder: Path | str) -> Submission:
    """Validate a submission folder (see the module doc); every problem names its file and field."""
    folder = Path(folder).resolve()
    meta = folder / SUBMISSION_FILE
    if not meta.is_file():
        raise SubmissionError(f"{folder}: no {SUBMISSION_FILE}")
    try:
        data = yaml.safe_load(meta.read_text()) or {}
    except yaml.YAMLError as exc:
        raise SubmissionError(f"{meta}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise SubmissionError(f"{meta}: expected a mapping of fields")
    method = _field(data, "method", str, meta, "a name")
    authors = _field(data, "authors", list, meta, "a list of names")
    tasks = _field(data, "tasks", list, meta, f"a list of task ids from {list(TABLE1_IDS)}")
    unknown = [t for t in tasks if t not in TABLE1_IDS]
    if unknown or not tasks:
        raise SubmissionError(f"{meta}: field 'tasks': {unknown or 'empty'}; the board's tasks are {list(TABLE1_IDS)}")
    observation = data.get("observation", "state")
    if observation != "state":
        raise SubmissionError(f"{meta}: field 'observation': only 'state' is evaluated so far, got {observation!r}")
    privileged = data.get("privileged", False)
    if not isinstance(privileged, bool):
        raise SubmissionError(f"{meta}: field 'privileged': expected true or false")
    hashes = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if "__pycache__" in rel:
            continue
        if path.suffix.lower() not in _ALLOWED_SUFFIXES:
            raise SubmissionError(f"{path}: refused: only {list(_ALLOWED_SUFFIXES)} files are accepted (weights as "
                                  ".safetensors: a pickle-based file could run code when loaded)")
        hashes[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    policy = folder / POLICY_FILE
    if not policy.is_file():
        raise SubmissionError(f"{folder}: no {POLICY_FILE} (class SubmittedPolicy with reset(env_ids) and act(obs))")
    violations = check_source(policy.read_text(), str(policy), v2p_imports=False)
    if violations:
        raise SubmissionError(f"{policy}: refused by the code policy: " + "; ".join(str(v) for v in violations[:5]))
    return Submission(folder, method, [str(a) for a in authors], str(data.get("url", "")),
                      str(data.get("description", "")), tuple(tasks), observation, privileged, hashes)


def private_copy(source: Path | str, into: Path) -> Path:
    """The submission's files copied into ``into``, a folder only the evaluator writes, before
    anything is checked: what is checked, hashed and run are then the same bytes, whatever happens
    to the original meanwhile. Only regular files are copied (opened without following a link):
    a symbolic link is refused, since it could name a file of the evaluator's (the private seeds)
    and have the evaluator copy it in where the policy can read it, and so are devices and pipes.
    ``__pycache__`` folders are left out: bytecode there would run instead of the checked source."""
    source = Path(source)
    if source.is_symlink() or not source.is_dir():
        raise SubmissionError(f"{source}: expected a submission folder (not a link)")
    into.mkdir(parents=True, exist_ok=True)
    total = 0
    for root, dirs, files in os.walk(source):  # does not follow links
        here = Path(root)
        for name in dirs:
            if (here / name).is_symlink():
                raise SubmissionError(f"{(here / name).relative_to(source)}: refused: a symbolic link")
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            rel = (here / name).relative_to(source)
            try:
                fd = os.open(here / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            except OSError as exc:
                why = "a symbolic link" if exc.errno == errno.ELOOP else exc.strerror
                raise SubmissionError(f"{rel}: refused: {why}") from None
            with os.fdopen(fd, "rb") as handle:
                if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                    raise SubmissionError(f"{rel}: refused: not a regular file")
                data = handle.read(_MAX_BYTES - total + 1)
            total += len(data)
            if total > _MAX_BYTES:
                raise SubmissionError(f"{source}: more than {_MAX_BYTES // 2**20} MiB")
            (into / rel).parent.mkdir(parents=True, exist_ok=True)
            (into / rel).write_bytes(data)
    return into
