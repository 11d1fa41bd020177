"""A wheel built from this tree holds everything the packages read at run time, and works installed.

Builds the wheel from a clean copy of the working tree (tracked and untracked-but-not-ignored
files, as a fresh clone would have them), installs it with ``--no-deps`` into a fresh venv that
sees this interpreter's site-packages (torch, mujoco ... are not downloaded), and then, from a
directory outside the repo, makes every registered env with CoACD blocked: the shipped convex
collision parts must be used as they are, and nothing may be written into the installed package.
Slow (a wheel build, a venv, 14 envs): ``pytest -m slow tests/test_packaging.py``.
"""
from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
#: Folders (relative to the repo) whose every file must ship in the wheel: read at run time.
DATA_ROOTS = ("v2p_envs/generated", "v2p_envs/assets", "generator/templates", "generator/prompts",
              "generator/reconstruct/data", "leaderboard/entries")
_JUNK = ("__pycache__", ".pyc", ".pyo")

_BLOCK_COACD = textwrap.dedent('''
    """Installed by tests/test_packaging.py: any import of coacd fails, and leaves a marker file."""
    import os, sys

    class _NoCoacd:
        @staticmethod
        def find_spec(name, path=None, target=None):
            if name == "coacd" or name.startswith("coacd."):
                with open(os.environ["V2P_COACD_MARKER"], "a") as f:
                    f.write(name + "\\n")
                raise ImportError("coacd is blocked: an installed env must use the shipped collision parts")
            return None

    sys.modules.pop("coacd", None)
    sys.meta_path.insert(0, _NoCoacd)
''')

_CHILD = textwrap.dedent('''
    import json, os, sys
    from pathlib import Path

    venv = Path(sys.argv[1]).resolve()
    out = {"sitecustomize": getattr(sys.modules.get("sitecustomize"), "__file__", None)}
    import gymnasium as gym
    import v2p_envs
    from v2p_envs.task_loader import GENERATED_DIR
    import generator.emit, generator.reconstruct.testvideos as tv

    out["files"] = {m.__name__: str(Path(m.__file__).resolve()) for m in (v2p_envs, generator.emit, tv)}
    out["generated_dir"] = str(GENERATED_DIR)
    out["ppo_template"] = [str(generator.emit.PPO_TEMPLATE), generator.emit.PPO_TEMPLATE.is_file()]
    out["data_dir"] = str(tv.DATA_DIR)
    out["made"] = {}
    ids = v2p_envs.registered_task_ids()
    for env_id in ids:
        task_dir = gym.spec(env_id).kwargs["task_dir"]
        env = gym.make(env_id)
        try:
            env.reset(seed=0)
            obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
            out["made"][env_id] = {"task_dir": str(Path(task_dir).resolve()), "obs": list(obs.shape)}
        finally:
            env.close()
    out["ids"] = ids
    print("RESULT " + json.dumps(out))
''')


def _source_files(root: Path) -> list[Path]:
    """The working tree as a fresh clone plus local edits would have it (no build outputs)."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                cwd=root, capture_output=True, check=True, timeout=60).stdout
        names = [n for n in listed.decode().split("\0") if n]
        return [Path(n) for n in names if (root / n).is_file()]
    except (OSError, subprocess.SubprocessError):
        skip = {".git", "build", "dist", "__pycache__", ".venv", "runs", ".whl", ".pytest_cache", ".benchmarks"}
        return [p.relative_to(root) for p in root.rglob("*") if p.is_file()
                and not any(part in skip or part.endswith(".egg-info") for part in p.relative_to(root).parts)]


def _copy_tree(src: Path, dst: Path) -> None:
    for rel in _source_files(src):
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / rel, dst / rel)


def _data_files(root: Path) -> list[str]:
    """Every run-time data file (posix, relative to root) under DATA_ROOTS."""
    names = []
    for folder in DATA_ROOTS:
        for p in sorted((root / folder).rglob("*")):
            rel = p.relative_to(root).as_posix()
            if p.is_file() and not any(j in rel for j in _JUNK):
                names.append(rel)
    return names


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Files of ``folder`` (bytecode aside) with size and mtime: a changed or new file shows."""
    return {p.relative_to(folder).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file() and not any(j in p.name or j in p.parent.name for j in _JUNK)}


def _run(cmd: list, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], check=False, capture_output=True, text=True, **kw)
    shown = " ".join(str(c) if len(str(c)) < 200 else "<script>" for c in cmd)
    assert proc.returncode == 0, f"{shown} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc


def _inside(path: str | Path, folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(folder.resolve())


def test_wheel_ships_run_time_data_and_works_installed(tmp_path):
    # 1. Build the wheel from a clean copy (build/ and *.egg-info of the repo stay out of it).
    src, wheels = tmp_path / "src", tmp_path / "wheels"
    _copy_tree(REPO, src)
    _run([sys.executable, "-m", "pip", "wheel", src, "--no-deps", "--no-build-isolation", "--no-index",
          "-q", "-w", wheels], timeout=600)
    (wheel,) = wheels.glob("video2policy-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        in_wheel = set(zf.namelist())
    expected = _data_files(src)
    assert any(".obj.collision/" in n for n in expected), "the source tree has no cached collision parts"
    assert "generator/templates/ppo.yaml" in expected
    missing = [n for n in expected if n not in in_wheel]
    assert not missing, f"{len(missing)} run-time files are not in {wheel.name}: {missing[:20]}"
    assert not [n for n in in_wheel if any(j in n for j in _JUNK)], "bytecode in the wheel"

    # 2. A fresh venv that sees this interpreter's packages; the wheel's own copy must win over
    #    the repo's editable install there.
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    purelib = Path(_run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    if sys.prefix != sys.base_prefix:  # running inside a venv: its packages are not the "system" ones
        (purelib / "_outer_site.pth").write_text(
            "".join(f"import site; site.addsitedir({d!r})\n" for d in site.getsitepackages()))
    _run([py, "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", "-q", wheel], timeout=600)

    # 3. Use it from outside the repo, CoACD blocked, caches pointed at a tmp dir.
    work, hooks, cache = tmp_path / "work", tmp_path / "hooks", tmp_path / "cache"
    for d in (work, hooks, cache):
        d.mkdir()
    (hooks / "sitecustomize.py").write_text(_BLOCK_COACD)
    marker = tmp_path / "coacd_imports.txt"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(PYTHONPATH=str(hooks), PYTHONNOUSERSITE="1", V2P_CACHE=str(cache), V2P_COACD_MARKER=str(marker),
               PATH=f"{env_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}")

    before = _snapshot(env_dir)
    proc = _run([py, "-c", _CHILD, env_dir], cwd=work, env=env, timeout=900)
    after = _snapshot(env_dir)
    assert not marker.exists(), f"coacd was imported by the installed package: {marker.read_text()}"
    (line,) = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    out = json.loads(line[len("RESULT "):])

    assert out["sitecustomize"] and _inside(out["sitecustomize"], hooks), "the CoACD block was not active"
    for name, file in out["files"].items():
        assert _inside(file, purelib), f"{name} imported from {file}, not from the installed wheel in {purelib}"
        assert not _inside(file, REPO), f"{name} imported from the source tree: {file}"
    assert _inside(out["generated_dir"], purelib)
    assert out["ppo_template"][1] and _inside(out["ppo_template"][0], purelib), out["ppo_template"]
    assert len(out["ids"]) >= 14 and set(out["made"]) == set(out["ids"])
    for env_id, made in out["made"].items():
        assert _inside(made["task_dir"], purelib), f"{env_id} built from {made['task_dir']}"

    changed = sorted(k for k in after.keys() & before.keys() if after[k] != before[k])
    added = sorted(after.keys() - before.keys())
    assert not added and not changed, f"making the envs wrote into the venv: added {added[:20]}, changed {changed[:20]}"
    assert any(cache.rglob("*.obj")), "the robot's visual meshes did not go to $V2P_CACHE"

    # The shipped test videos and truth files are in the installed package.
    data_dir = Path(out["data_dir"])
    assert _inside(data_dir, purelib)
    shipped = [n for n in expected if n.startswith("generator/reconstruct/data/")]
    assert any(n.endswith("video.mp4") for n in shipped)
    for n in shipped:
        installed = purelib / n
        assert installed.is_file() and installed.stat().st_size == (src / n).stat().st_size, n

    # 4. The console script and the emitter's template, each in a fresh process.
    help_ = _run([env_dir / "bin" / "v2p", "--help"], cwd=work, env=env, timeout=300)
    assert "usage" in help_.stdout.lower()
    check_template = ("from generator.emit import PPO_TEMPLATE; assert PPO_TEMPLATE.is_file(), PPO_TEMPLATE; "
                      f"assert PPO_TEMPLATE.resolve().is_relative_to({str(purelib.resolve())!r}), PPO_TEMPLATE")
    _run([py, "-c", check_template], cwd=work, env=env, timeout=300)
