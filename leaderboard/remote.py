"""The submitted policy as the evaluator sees it: a worker process behind the OS boundary.

``RemotePolicy`` starts ``leaderboard.worker`` with ``sandboxed_command`` (bubblewrap: a
read-only view of the interpreter, its libraries and this project's packages, the submission's
private copy read-only, one scratch folder of its own as the only writable place and its cwd, no
network, its own PID namespace, so the evaluator is neither visible nor signalable), with
``child_environment`` as its whole environment (the evaluator's variables, the private seeds
among them, never reach it), the rlimits every untrusted child gets (``untrusted.child``) and its
own session. The worker installs the guard (seccomp, audit hook) itself, before it loads
``policy.py``.

Everything the worker says is data: a frame that is late, malformed, too large or an error
becomes a ``Failure`` (a category and a message the ``Redactor`` cleaned), the episodes still
running fail, the worker is killed, and the evaluator goes on; it never raises for what the
policy did. The worker's stderr is read as it comes and only its tail kept (for the log, never
the record), so a policy that writes megabytes costs the evaluator nothing.
"""
from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np
import torch

from v2p_envs.untrusted.child import Limits, drain_tail, limit_preexec
from v2p_envs.untrusted.sandbox import Sandbox, child_environment, sandboxed_command

from .failures import Failure, Redactor
from .wire import WireError, WireTimeout, receive, send

__all__ = ["RemotePolicy", "worker_limits"]

log = logging.getLogger(__name__)

ACTION_DIM = 7
#: How long a closing worker may take before it is killed, and how long a dead one may take to be reaped.
_CLOSE_S = 5.0
_REAP_S = 2.0


def worker_limits(memory_mb: int, cpu_s: int) -> Limits:
    """The rlimits of one worker: its address space, CPU seconds over its whole life (a policy that
    answers within each step's deadline but computes for ever is bounded too), 64 MB as the largest
    file it may write in its scratch folder, and a process budget (seccomp refuses new processes
    anyway). ``Limits.timeout_s`` is ``run_python_child``'s wall clock; a worker's clock is the
    per-frame deadline instead, so it is only given a valid value here."""
    return Limits(timeout_s=float(cpu_s), memory_mb=memory_mb, cpu_s=cpu_s, file_mb=64, processes=32)


def _exit_text(returncode: int, isolated: bool) -> str:
    """How the worker ended; bwrap reports a child killed by signal N as exit status 128 + N."""
    signum = -returncode if returncode < 0 else (returncode - 128 if isolated and 128 < returncode < 160 else 0)
    if signum:
        try:
            name = signal.Signals(signum).name
        except ValueError:
            name = f"signal {signum}"
        return f"the worker was killed by {name}"
    return f"the worker exited with status {returncode}"


class RemotePolicy:
    """A ``Policy`` whose code runs in the sandboxed worker; ``failed`` marks the envs whose episodes
    its answers failed, ``failures`` says why (``Failure``s, already cleaned), ``isolated`` whether
    the worker ran inside the sandbox. ``SandboxUnavailable`` when the host cannot isolate and the
    caller did not opt out (``sandbox=False``): that is the evaluator's refusal, not the policy's."""

    privileged = False

    def __init__(self, policy_file: Path, task: str, num_envs: int, obs_dim: int, *, seed_label: str,
                 redactor: Redactor, limits: Limits, sandbox: bool | None = None,
                 start_timeout_s: float = 120.0, step_timeout_s: float = 5.0) -> None:
        self.num_envs, self.seed_label, self.redactor = num_envs, seed_label, redactor
        self.start_timeout_s, self.step_timeout_s = start_timeout_s, step_timeout_s
        self.failed = torch.zeros(num_envs, dtype=torch.bool)
        self.failures: list[Failure] = []
        self.dead = self._closed = False
        self.scratch = Path(tempfile.mkdtemp(prefix="v2p_worker_"))
        boundary = Sandbox(writable=(self.scratch,), readable=(Path(policy_file).parent,), isolate=sandbox)
        self.isolated = boundary.isolated
        argv = [sys.executable, "-P", "-m", "leaderboard.worker", str(policy_file), str(self.scratch)]
        try:
            command = sandboxed_command(argv, boundary, self.scratch)
        except BaseException:
            shutil.rmtree(self.scratch, ignore_errors=True)
            raise
        env = child_environment()
        if not self.isolated:  # no private tmpfs: the scratch folder is its home and temporary folder
            env.update(HOME=str(self.scratch), TMPDIR=str(self.scratch), V2P_CACHE=str(self.scratch / "cache"))
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     cwd=self.scratch, env=env, preexec_fn=limit_preexec(limits),
                                     start_new_session=True)
        self._stderr: list[bytes] = []
        self._stderr_reader = threading.Thread(target=drain_tail, args=(self.proc.stderr, self._stderr), daemon=True)
        self._stderr_reader.start()
        try:
            send(self.proc.stdin, "spec", task=task, num_envs=num_envs, obs_dim=obs_dim, action_dim=ACTION_DIM)
            header, _ = receive(self.proc.stdout, start_timeout_s, max_payload=0)
        except (WireError, OSError) as exc:
            self._fail_all("start", exc, start=True)
            return
        if header.get("kind") != "ready":
            self._fail_from_header("start", header, start=True)

    # failures ------------------------------------------------------------------------------
    def _record(self, category: str, phase: str, message: str) -> None:
        self.failures.append(Failure(self.seed_label, category, phase, message))

    def _fail_all(self, phase: str, exc: BaseException | None = None, *, start: bool = False,
                  category: str | None = None, message: str = "") -> None:
        """Every episode still running fails; the worker is stopped; the cause is recorded once."""
        if category is None:
            category, message = self._classify(phase, exc, start)
        self._record(category, phase, message)
        self.failed[:] = True
        self.dead = True
        self.close()

    def _classify(self, phase: str, exc: BaseException | None, start: bool) -> tuple[str, str]:
        """A wire or pipe error as a category: the worker's exit (crashed, or start_failed before it
        was ready), a missed deadline, or a frame that broke the protocol."""
        if isinstance(exc, WireTimeout):
            deadline = self.start_timeout_s if start else self.step_timeout_s
            return "timeout", f"no answer within {deadline:g} s"
        try:
            returncode = self.proc.wait(timeout=_REAP_S)
        except subprocess.TimeoutExpired:
            returncode = None
        if returncode is not None:
            text = _exit_text(returncode, self.isolated)
            return ("start_failed", f"{text} before it was ready") if start else ("crashed", text)
        if isinstance(exc, WireError):
            return "protocol", f"not a frame of the wire ({exc})"[:200]
        return "crashed", f"the pipe to the worker failed ({type(exc).__name__})"

    def _fail_from_header(self, phase: str, header: dict[str, Any], *, start: bool = False) -> None:
        """An answer of the wrong kind: the policy's error (its message cleaned), else a protocol breach."""
        if header.get("kind") == "error":
            self._fail_all(phase, category="exception", message=self.redactor.clean(header.get("message")))
        else:
            self._fail_all(phase, category="protocol",
                           message=f"expected {'ready' if start else 'an answer'}, got a "
                                   f"{self.redactor.clean(header.get('kind'), 40)!r} frame")

    # the Policy protocol --------------------------------------------------------------------
    def reset(self, env_ids: torch.Tensor | None = None) -> None:
        if self.dead:
            return
        try:
            ids = None if env_ids is None else env_ids.cpu().numpy().astype(np.int64)
            send(self.proc.stdin, "reset", ids)
            header, _ = receive(self.proc.stdout, self.step_timeout_s, max_payload=0)
        except (WireError, OSError) as exc:
            self._fail_all("reset", exc)
            return
        if header.get("kind") != "done":
            self._fail_from_header("reset", header)

    def act(self, obs: torch.Tensor) -> torch.Tensor:
        zeros = torch.zeros(self.num_envs, ACTION_DIM, device=obs.device)
        if self.dead:
            return zeros
        try:
            send(self.proc.stdin, "act", obs.detach().cpu().numpy().astype(np.float32))
            header, actions = receive(self.proc.stdout, self.step_timeout_s,
                                      max_payload=self.num_envs * ACTION_DIM * 8)
        except (WireError, OSError) as exc:
            self._fail_all("act", exc)
            return zeros
        if header.get("kind") != "actions" or actions is None:
            self._fail_from_header("act", header)
            return zeros
        if actions.shape != (self.num_envs, ACTION_DIM):
            self._fail_all("act", category="bad_actions",
                           message=f"actions of shape {tuple(actions.shape)}, expected ({self.num_envs}, {ACTION_DIM})")
            return zeros
        actions = torch.as_tensor(np.array(actions, dtype=np.float32), device=obs.device)
        bad = ~torch.isfinite(actions).all(dim=1)
        if bool(bad.any()):
            newly = bad.cpu() & ~self.failed
            if bool(newly.any()):
                envs = torch.nonzero(newly).flatten().tolist()
                self._record("bad_actions", "act", f"NaN or inf actions for envs {envs}"[:200])
            self.failed |= bad.cpu()
        actions[self.failed.to(actions.device)] = 0.0
        return actions.clamp(-1.0, 1.0)

    def close(self) -> None:
        """Stop the worker (a polite ``close``, then SIGKILL to its group: bwrap's death takes its PID
        namespace with it), log its stderr's tail when it failed, and remove its scratch folder."""
        if self._closed:
            return
        self._closed = True
        if self.proc.poll() is None:
            try:
                if not self.dead:
                    send(self.proc.stdin, "close")
                    self.proc.wait(timeout=_CLOSE_S)
            except (OSError, WireError, subprocess.TimeoutExpired):
                pass
            if self.proc.poll() is None:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self._stderr_reader.join(timeout=10)
        if self.failures and self._stderr:
            log.info("worker stderr (its tail, cleaned) after %s: %s", self.failures[0],
                     self.redactor.clean(self._stderr[0].decode("utf-8", "replace"), 1000))
        shutil.rmtree(self.scratch, ignore_errors=True)
