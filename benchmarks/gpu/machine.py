"""Machine, package versions, commit and date of a check run."""
from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

__all__ = ["machine_info"]

PACKAGES = ("torch", "warp-lang", "mujoco", "mujoco-warp", "gymnasium", "rl-games", "numpy")


def _run(argv: list[str], cwd: Path | None = None) -> str | None:
    """The stripped stdout of ``argv``, None if it fails or says nothing."""
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False, cwd=cwd)
    except (OSError, subprocess.SubprocessError):
        return None
    return (out.stdout.strip() or None) if out.returncode == 0 else None


def _commit() -> str | None:
    """HEAD of this checkout (``+dirty`` with uncommitted changes to tracked files); on a copy
    without .git (the device tool's), ``$V2P_GPU_CHECK_COMMIT`` as the caller recorded it."""
    if os.environ.get("V2P_GPU_CHECK_COMMIT"):
        return os.environ["V2P_GPU_CHECK_COMMIT"]
    root = Path(__file__).resolve().parents[2]
    commit = _run(["git", "rev-parse", "HEAD"], root)
    if commit and _run(["git", "status", "--porcelain", "--untracked-files=no"], root):
        commit += "+dirty"
    return commit


def machine_info() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    info: dict[str, Any] = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                            "python": platform.python_version(), "machine": platform.machine(),
                            "cpus": os.cpu_count(), "commit": _commit()}
    for pkg in PACKAGES:
        try:
            info[pkg] = version(pkg)
        except PackageNotFoundError:
            info[pkg] = None
    try:
        import torch

        info.update(cuda_available=torch.cuda.is_available(), torch_cuda=torch.version.cuda)
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name()
    except ImportError:
        pass
    info["nvidia_smi"] = _run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"])
    return info
