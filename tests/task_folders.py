"""Task folders the tests make: a shipped folder copied, with its task.py edited."""
from __future__ import annotations

import shutil
from pathlib import Path

from v2p_envs import GENERATED_DIR


def task_variant(tmp_path: Path, source: str, replacements: dict[str, str] | None = None, append: str = "",
                 name: str | None = None) -> Path:
    """Copy ``v2p_envs/generated/<source>`` to ``tmp_path/<name>`` and edit task.py: each key of
    ``replacements`` must occur in it (the edit would otherwise silently test nothing)."""
    folder = tmp_path / (name or source)
    shutil.copytree(GENERATED_DIR / source, folder)
    task_py = folder / "task.py"
    code = task_py.read_text()
    for old, new in (replacements or {}).items():
        assert old in code, f"{old!r} is not in {source}/task.py"
        code = code.replace(old, new)
    task_py.write_text(code + append)
    return folder
