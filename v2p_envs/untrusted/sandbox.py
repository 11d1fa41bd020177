"""The OS boundary around every process that runs untrusted code (bubblewrap namespaces).

Task code a model wrote, a leaderboard submission's policy and a Code-as-Policies plan run in
a child process that ``sandboxed_command`` wraps in ``bwrap``:

- a read-only view of the system: the interpreter, its libraries and this package's own
  folders, nothing else of the host (no home, no repository checkout, no run folders, no
  records, no private-seed file);
- writes only to the folders the caller names (its run or output folder) and a private tmpfs;
- no network (an empty network namespace), no view of other processes (its own PID
  namespace: the parent is not there to be read or signalled), no capabilities, a new session;
- an environment of its own, not the parent's (``child_environment``, given to the process as
  its whole environment): what Python needs and nothing else, so no secret enters it;
- it dies with its parent (``--die-with-parent``); the rlimits (address space, CPU time, file
  size, processes) are set by the caller (``child.py``) and inherited.

Inside, ``guard.install`` adds a seccomp filter (no fork, no exec) and a PEP 578 audit hook
before the untrusted code is imported: defence in depth, not the boundary.

Where the host cannot isolate (no bwrap, namespaces refused), ``isolation_problem`` says why and
callers refuse by default; an explicit opt-out (``Sandbox(isolate=False)``) runs the child
without the boundary, and the records say ``isolated: false``.
"""
from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import V2PError

__all__ = ["Sandbox", "SandboxUnavailable", "isolation_problem", "sandboxed_command", "child_environment",
           "sandbox_requested", "PROJECT_PACKAGES", "NO_SANDBOX_VARIABLE"]

#: This project's top-level packages: the child sees their folders (read-only) and nothing else of the checkout.
PROJECT_PACKAGES = ("v2p_envs", "generator", "baselines", "leaderboard", "benchmarks")
#: System folders a Python process with torch and MuJoCo reads; absent ones are skipped.
_SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc/ld.so.cache",
                 "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives", "/etc/localtime", "/etc/passwd",
                 "/etc/group", "/etc/nsswitch.conf", "/etc/glvnd", "/usr/share/glvnd", "/sys")
#: Device nodes for a GPU (CUDA, EGL), passed through when present.
_GPU_DEVICE_PREFIXES = ("nvidia", "dri")
#: Variables a child keeps from its parent when set (no credentials: threads, GL, GPU choice).
_PASSED_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "MUJOCO_GL", "PYOPENGL_PLATFORM",
                     "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "LANG", "LC_ALL", "TZ")


#: Set to 1, the explicit opt-out (the CLIs' ``--no-sandbox``): children run without the boundary,
#: and their records say ``isolated: false``.
NO_SANDBOX_VARIABLE = "V2P_NO_SANDBOX"


def sandbox_requested() -> bool:
    """False only when the user opted out (``V2P_NO_SANDBOX=1``, set by ``--no-sandbox``)."""
    return os.environ.get(NO_SANDBOX_VARIABLE, "") not in ("1", "true", "yes")


class SandboxUnavailable(V2PError):
    """The host cannot isolate a child and the caller did not opt out."""


@dataclass(frozen=True)
class Sandbox:
    """What one sandboxed child may see: ``writable`` folders (bound read-write, created if
    missing), ``readable`` paths (bound read-only: a task folder, a submission), and ``env``
    variables beyond ``child_environment``'s. ``isolate=False`` is the explicit opt-out."""

    writable: tuple[Path, ...] = ()
    readable: tuple[Path, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    isolate: bool | None = None  # None: unless the user opted out (``sandbox_requested``)

    @property
    def isolated(self) -> bool:
        return sandbox_requested() if self.isolate is None else self.isolate


def _bwrap() -> str | None:
    return shutil.which("bwrap")


@functools.lru_cache(maxsize=1)
def isolation_problem() -> str | None:
    """Why this host cannot run a sandboxed child, or None when it can (tried once, cached)."""
    if not sys.platform.startswith("linux"):
        return f"the sandbox needs Linux namespaces; this is {sys.platform}"
    bwrap = _bwrap()
    if bwrap is None:
        return "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    if importlib.util.find_spec("pyseccomp") is None:
        return "pyseccomp is not installed (pip install pyseccomp)"
    probe = subprocess.run([*_bwrap_args(bwrap, Sandbox(), None), "/bin/true"], capture_output=True, text=True,
                           timeout=60)
    if probe.returncode != 0:
        return f"bwrap cannot create the namespaces here: {probe.stderr.strip()[-300:]}"
    return None


def _package_folders() -> list[Path]:
    """The folders of this project's packages, wherever they are installed or checked out."""
    folders = []
    for name in PROJECT_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            folders += [Path(p).resolve() for p in spec.submodule_search_locations]
    return folders


def _python_folders() -> list[Path]:
    """The interpreter's prefixes and every existing sys.path folder outside this checkout (the
    site-packages of a venv, user site); the checkout itself is reached only through its packages."""
    checkout_roots = {p.parent for p in _package_folders()}
    out = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), Path(sys.executable).resolve().parent}
    for entry in sys.path:
        path = Path(entry or ".").resolve()
        if path.is_dir() and path not in checkout_roots:
            out.add(path)
    return sorted(out)


def _bind_ro(path: Path) -> list[str]:
    """A read-only bind; a top-level symlink (merged /usr: /lib -> usr/lib) is recreated as one."""
    if path.is_symlink() and path.parent == Path("/"):
        return ["--symlink", os.readlink(path), str(path)]
    return ["--ro-bind", str(path), str(path)]


def _bwrap_args(bwrap: str, sandbox: Sandbox, cwd: Path | None) -> list[str]:
    args = [bwrap, "--die-with-parent", "--new-session", "--unshare-all", "--cap-drop", "ALL",
            "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    seen: set[Path] = set()
    for raw in _SYSTEM_PATHS:
        path = Path(raw)
        if path.exists() or path.is_symlink():
            args += _bind_ro(path)
            seen.add(path)
    for path in [*_python_folders(), *_package_folders(), *(Path(p).resolve() for p in sandbox.readable)]:
        if path.exists() and path not in seen and not any(parent in seen for parent in path.parents):
            args += ["--ro-bind", str(path), str(path)]
            seen.add(path)
    dev = Path("/dev")
    for node in sorted(dev.iterdir()) if dev.is_dir() else []:
        if node.name.startswith(_GPU_DEVICE_PREFIXES):
            args += ["--dev-bind", str(node), str(node)]
    for folder in sandbox.writable:
        folder = Path(folder).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        args += ["--bind", str(folder), str(folder)]
    # bwrap's own root is a tmpfs; read-only, so that the only writable places are the binds above
    args += ["--remount-ro", "/"]
    if cwd is not None:
        args += ["--chdir", str(Path(cwd).resolve())]
    return args


def child_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """A sandboxed child's whole environment: a path, a home and a cache on its tmpfs, this
    package's import path, the parent's thread/GL/GPU settings, and ``extra``; nothing else."""
    roots = sorted({str(p.parent) for p in _package_folders()})
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp", "V2P_CACHE": "/tmp/v2p-cache",
           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1", "PYTHONPATH": os.pathsep.join(roots),
           "OMP_NUM_THREADS": "1"}
    env.update({k: os.environ[k] for k in _PASSED_VARIABLES if k in os.environ})
    env.update(extra or {})
    return env


def sandboxed_command(argv: list[str], sandbox: Sandbox, cwd: Path | None = None) -> list[str]:
    """``argv`` wrapped in bwrap per ``sandbox``; ``SandboxUnavailable`` when the host cannot
    isolate (unless the sandbox is opted out of: then ``argv`` itself, unisolated)."""
    if not sandbox.isolated:
        return list(argv)
    problem = isolation_problem()
    if problem is not None:
        raise SandboxUnavailable(f"cannot isolate untrusted code on this host: {problem}. Install it, or run "
                                 f"without the sandbox explicitly ({NO_SANDBOX_VARIABLE}=1 or --no-sandbox; records "
                                 f"then say isolated: false)")
    return [*_bwrap_args(_bwrap(), sandbox, cwd), *argv]
