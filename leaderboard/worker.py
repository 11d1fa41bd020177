"""The policy side of the evaluator: a child process that sees only observations.

    python -m leaderboard.worker SUBMISSION_DIR          (started by the evaluator, never by hand)

It checks the policy code again, loads the folder's safetensors weights (tensors only), builds
``SubmittedPolicy(weights, spec)`` from the evaluator's ``spec`` frame, then answers ``reset``
frames and ``act`` frames (observations in, actions out) over stdin/stdout until ``close``.
The evaluator starts it without network (a new network namespace where the host allows it),
with time and memory limits; whatever it does, it cannot reach the simulator or the records.
"""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import numpy as np

from .submission import POLICY_FILE, load_submission
from .wire import receive, send


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    folder = Path(argv[0])
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # the policy's prints must not corrupt the wire
    try:
        import torch
        from safetensors.torch import load_file

        submission = load_submission(folder)
        weights = {}
        for path in submission.weight_files:
            weights.update(load_file(str(path)))
        header, _ = receive(stdin)
        spec = {k: header[k] for k in ("task", "num_envs", "obs_dim", "action_dim")}
        module_spec = importlib.util.spec_from_file_location("submitted_policy", folder / POLICY_FILE)
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        policy = module.SubmittedPolicy(weights, spec)
        send(stdout, "ready")
    except BaseException as exc:  # noqa: BLE001 - any failure to start is reported and ends the worker
        send(stdout, "error", message=f"{type(exc).__name__}: {exc}"[:2000])
        return 1
    torch.set_num_threads(1)
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
            send(stdout, "error", message=f"{type(exc).__name__}: {exc}"[:2000])


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    raise SystemExit(main())
