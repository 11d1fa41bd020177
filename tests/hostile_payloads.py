"""Payloads for tests/test_sandbox.py: what a model's task code or a training job could try.

Each runs as a job function inside the sandbox (``generator.jobs``), with the guard installed
like any job. They report what they could see, or raise when refused; the test decides what
counts as an escape. Some call below the audit hook on purpose (``_posixsubprocess``) to test the
kernel's seccomp filter rather than the hook.
"""
from __future__ import annotations

import os
import socket
import sys
from pathlib import Path


def read_environment_and_files(secret_file: str) -> dict:
    readable = {}
    for path in (secret_file, "/root", "/home", "/etc/shadow", str(Path(secret_file).parent)):
        try:
            readable[path] = os.listdir(path) if os.path.isdir(path) else open(path).read()
        except OSError as exc:
            readable[path] = f"refused: {type(exc).__name__}"
    return {"environ": dict(os.environ), "files": readable}


def list_processes() -> dict:
    cmdlines = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdlines[entry] = open(f"/proc/{entry}/cmdline", "rb").read().replace(b"\0", b" ").decode()
            except OSError:
                pass
    return {"cmdlines": cmdlines, "ppid": os.getppid()}


def write_outside(path: str) -> dict:
    Path(path).write_text("escaped")
    return {"wrote": path}


def kill_parent() -> dict:
    os.kill(os.getppid(), 9)
    return {"killed": os.getppid()}


def fork_many(count: int = 200) -> dict:
    pids = []
    for _ in range(count):
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        pids.append(pid)
    return {"forked": len(pids)}


def fork_below_the_hook() -> dict:
    """Start a process through the C helper that subprocess uses, which the audit hook does not see."""
    import _posixsubprocess

    r, w = os.pipe()
    # Python 3.11's call (subprocess.Popen._execute_child): args, executables, close_fds, fds to
    # keep, cwd, env, six pipe ends, the error pipe, restore_signals, new session, process group,
    # gid, groups, uid, umask, preexec_fn, allow vfork
    pid = _posixsubprocess.fork_exec([b"/bin/true"], [b"/bin/true"], True, (w,), None, None,
                                     -1, -1, -1, -1, -1, -1, r, w, True, False, -1, None, None, None, -1, None, False)
    return {"started": pid}


def connect(port: int) -> dict:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"escaped")
    return {"connected": port}


def shout(megabytes: int = 20) -> dict:
    block = "x" * 2**20
    for _ in range(megabytes):
        sys.stdout.write(block)
        sys.stderr.write(block)
    return {"shouted": megabytes}


def write_big_file(folder: str, megabytes: int) -> dict:
    with open(Path(folder) / "big.bin", "wb") as f:
        for _ in range(megabytes):
            f.write(b"\0" * 2**20)
    return {"wrote_mb": megabytes}


def train_trusting(task_dir: str, run_dir: str, num_envs: int) -> dict:
    """Train ``task_dir`` skipping the code policy (as a policy bypass would): the payload in its
    reward runs only with more envs than the trial's 2, i.e. only in training."""
    from baselines.rl import TrainConfig, train

    result = train(TrainConfig("V2P-Hostile-v0", task_dir=task_dir, trust_task_code=True, num_envs=num_envs,
                               steps=4 * num_envs * 8, seed=0, run_dir=run_dir, progress=False, max_episode_steps=16,
                               ppo_overrides={"horizon_length": 8}))
    return {"env_steps": result.env_steps}


def start_over(path: str) -> dict:
    """Not hostile: what a restarted training job does to its own run folder."""
    from baselines.rl.jobs import empty_folder

    empty_folder(Path(path))
    return {"emptied": path}
