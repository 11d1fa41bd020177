"""The policy side of the evaluator: a child process that sees only observations.

    python -P -m leaderboard.worker SUBMISSION_DIR/policy.py SCRATCH_DIR   (started by the evaluator, never by hand)

The evaluator starts it inside the sandbox (``leaderboard.remote``): the submission's private
copy read-only, ``SCRATCH_DIR`` its only writable folder and its cwd, no network, no view of
other processes, an environment without the evaluator's variables, rlimits. Here it imports
what it needs (torch, safetensors, numpy), loads the folder's safetensors weights (tensors
only), then installs the guard (``v2p_envs.untrusted.guard``: seccomp, no new processes; an
audit hook, no writes outside the scratch folder, no sockets, no signals but to itself), and
only then executes ``policy.py`` and builds ``SubmittedPolicy(weights, spec)`` from the
evaluator's ``spec`` frame. It answers ``reset`` and ``act`` frames (observations in, actions
out) over stdin/stdout until ``close``.

It does not check ``policy.py`` against the code policy again: the evaluator checked these very
bytes (its private copy, bound read-only here) before it started the worker.

What the policy raises goes back as an ``error`` frame whose message is capped; the evaluator
cleans it again (it does not trust this process to have done so).
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

from .wire import receive, send

#: The longest message of an error frame (the wire's header limit is 4096 bytes; ASCII keeps it below).
_MESSAGE_CHARS = 1000


def _message(exc: BaseException) -> str:
    """``Type: text`` of the policy's exception, printable ASCII, capped; never raises (a hostile
    ``__str__`` that raises gives the type alone)."""
    try:
        text = f"{type(exc).__name__}: {exc}"
    except BaseException:  # noqa: BLE001 - the exception's own __str__ failed
        text = f"{type(exc).__name__}: (its message could not be read)"
    return "".join(c if c.isascii() and c.isprintable() else "?" for c in text[:_MESSAGE_CHARS])


def _load_guard():
    """``v2p_envs.untrusted.guard`` by its file: importing it as ``v2p_envs.untrusted.guard`` runs
    ``v2p_envs/__init__``, which loads the simulator (MuJoCo, Gymnasium, the ground-truth modules):
    0.3 s of start-up, and a process that runs a submission should not hold them. The guard
    imports only the standard library (and pyseccomp)."""
    package = importlib.util.find_spec("v2p_envs")  # finds the package without executing it
    if package is None or not package.submodule_search_locations:
        raise ImportError("v2p_envs is not importable: the guard cannot be installed")
    path = Path(list(package.submodule_search_locations)[0]) / "untrusted" / "guard.py"
    spec = importlib.util.spec_from_file_location("v2p_sandbox_guard", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    policy_file, scratch = Path(argv[0]), Path(argv[1])
    folder = policy_file.parent
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # the policy's prints must not corrupt the wire
    try:
        import torch
        from safetensors.torch import load_file

        guard = _load_guard()
        torch.set_num_threads(1)
        weights = {}
        for path in sorted(folder.glob("*.safetensors")):
            weights.update(load_file(str(path)))
        header, _ = receive(stdin)
        spec = {k: header[k] for k in ("task", "num_envs", "obs_dim", "action_dim")}
        guard.install([scratch])  # from here on, the submitter's code runs
        module_spec = importlib.util.spec_from_file_location("submitted_policy", policy_file)
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        policy = module.SubmittedPolicy(weights, spec)
        send(stdout, "ready")
    except BaseException as exc:  # noqa: BLE001 - any failure to start is reported and ends the worker
        send(stdout, "error", message=_message(exc))
        return 1
    while True:
        header, array = receive(stdin)
        kind = header["kind"]
        if kind == "close":
            return 0
        try:
            if kind == "reset":
                policy.reset(torch.as_tensor(array) if array is not None else None)
                send(stdout, "done")
            elif kind == "act":
                with torch.no_grad():
                    actions = policy.act(torch.as_tensor(np.array(array)))
                send(stdout, "actions", np.asarray(torch.as_tensor(actions).detach().cpu(), dtype=np.float32))
        except Exception as exc:  # noqa: BLE001 - the policy's error is the evaluator's data
            send(stdout, "error", message=_message(exc))


if __name__ == "__main__":
    raise SystemExit(main())
