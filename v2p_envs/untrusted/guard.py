"""Defence in depth inside a sandboxed child: a seccomp filter and a PEP 578 audit hook.

``install`` runs in the child after its own imports (torch, MuJoCo, the trainer) and before the
untrusted code is imported. From then on:

- seccomp (kernel): no new processes (``fork``, ``vfork``, a ``clone`` that is not a thread),
  no ``exec``, no signals but to itself (``kill``, ``tgkill``, pidfds), no ``ptrace`` or
  cross-process memory access; the call fails with EPERM, whatever library or foreign code makes it;
- the audit hook (interpreter): refuses opening a file for writing, creating, renaming or
  removing one outside the child's writable folders and its tmpfs; exec, spawn, fork and
  ``os.system``; creating, binding and connecting sockets; loading foreign code with ctypes;
  and signals to any process but itself.

Neither is the boundary (``sandbox.py`` is): a hook cannot be removed, but it sees only what the
interpreter reports. A refusal raises ``SandboxRefusal`` (a ``PermissionError``), which the
untrusted code may catch, but not get past.
"""
from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterable
from pathlib import Path

__all__ = ["SandboxRefusal", "install", "installed"]

_CLONE_THREAD = 0x00010000
_ALWAYS_REFUSED = frozenset({
    "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "subprocess.Popen",
    "socket.__new__", "socket.bind", "socket.connect", "socket.sendto", "socket.sendmsg",
    "ctypes.dlopen", "ctypes.dlsym", "ctypes.dlsym/handle", "ctypes.cdata", "os.startfile",
})
#: Events whose path arguments must lie in a writable folder: (index of the path, index of the
#: directory descriptor it is relative to, if the event passes one) for each path argument.
_PATH_EVENTS = {"os.remove": ((0, 1),), "os.rmdir": ((0, 1),), "os.mkdir": ((0, 2),), "shutil.rmtree": ((0, 1),),
                "os.rename": ((0, 2), (1, 3)), "os.link": ((0, 2), (1, 3)), "os.symlink": ((1, 2),),
                "os.truncate": ((0, None),), "os.chmod": ((0, 2),), "os.chown": ((0, 3),), "os.utime": ((0, 3),),
                "shutil.move": ((0, None), (1, None)), "shutil.copyfile": ((1, None),), "os.mkfifo": ((0, 2),)}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_installed = False


class SandboxRefusal(PermissionError):
    """What the child tried and the guard refused."""


def installed() -> bool:
    return _installed


def _seccomp() -> None:
    import pyseccomp as seccomp

    refuse = seccomp.ERRNO(errno.EPERM)
    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    for name in ("fork", "vfork", "execve", "execveat"):
        rules.add_rule(refuse, name)
    # clone(2) starts a thread (allowed) or a process (refused); clone3 passes its flags in
    # memory that seccomp cannot read, so it reports "not implemented" and glibc falls back to clone
    rules.add_rule(refuse, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, _CLONE_THREAD, 0))
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    # signals only to itself (the audit hook does not see pidfd_send_signal)
    own = os.getpid()
    rules.add_rule(refuse, "kill", seccomp.Arg(0, seccomp.NE, own))
    rules.add_rule(refuse, "tgkill", seccomp.Arg(0, seccomp.NE, own))
    for name in ("pidfd_open", "pidfd_send_signal", "ptrace", "process_vm_writev", "process_vm_readv"):
        rules.add_rule(refuse, name)
    rules.load()


def _make_hook(writable: list[str]):
    own_pid = os.getpid()

    def inside(path, dir_fd=None) -> bool:
        if isinstance(path, int):
            return True  # an already open descriptor
        try:
            path = os.fsdecode(path)
            if isinstance(dir_fd, int) and dir_fd >= 0 and not os.path.isabs(path):
                path = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), path)  # shutil.rmtree's walk
            real = os.path.realpath(path)
        except (TypeError, ValueError, OSError):
            return False
        return any(real == root or real.startswith(root + os.sep) for root in writable)

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = (tuple(args) + (None, None, None))[:3]
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & _WRITE_FLAGS)
            if writing and path is not None and not inside(path):
                raise SandboxRefusal(f"sandbox: writing {path!r} is refused (writable: {', '.join(writable)})")
        elif event in _ALWAYS_REFUSED:
            raise SandboxRefusal(f"sandbox: {event} is refused")
        elif event in ("os.kill", "os.killpg"):
            if event == "os.killpg" or args[0] != own_pid:
                raise SandboxRefusal(f"sandbox: {event}({args[0]}) is refused: only signals to itself")
        elif event == "sqlite3.connect":  # creates its file from C, no "open" event
            if args and str(args[0]) not in (":memory:", "") and not inside(args[0]):
                raise SandboxRefusal(f"sandbox: sqlite3.connect({args[0]!r}) is refused (outside the writable folders)")
        elif event in _PATH_EVENTS:
            for i, fd in _PATH_EVENTS[event]:
                dir_fd = args[fd] if fd is not None and fd < len(args) else None
                if i < len(args) and not inside(args[i], dir_fd):
                    raise SandboxRefusal(f"sandbox: {event} on {args[i]!r} is refused (outside the writable folders)")

    return hook


def install(writable: Iterable[Path | str] = (), seccomp: bool | None = None) -> None:
    """Install the seccomp filter and the audit hook; the child may write under ``writable``,
    /tmp and /dev/null only. ``seccomp`` None: where the host has it (Linux with pyseccomp; the
    sandbox requires it, so only an opted-out child can lack it). Once per process."""
    global _installed
    if _installed:
        return
    roots = [os.path.realpath(p) for p in (*writable, "/tmp", "/dev/null", "/dev/shm")]
    if seccomp is None:
        import importlib.util

        seccomp = sys.platform.startswith("linux") and importlib.util.find_spec("pyseccomp") is not None
    if seccomp:
        _seccomp()  # before the hook: pyseccomp loads libseccomp with ctypes
    sys.addaudithook(_make_hook(roots))
    _installed = True
