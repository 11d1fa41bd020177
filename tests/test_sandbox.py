"""The OS boundary around untrusted code (issue 26): hostile jobs and task code, each of which
must end as a recorded failure (or a harmless result) with nothing escaping.

The payloads (tests/hostile_payloads.py) run as sandboxed jobs, the way a training job of a
model's task code runs; the leaderboard's own hostile suite is in tests/leaderboard/.
"""
from __future__ import annotations

import os
import socket
import sys
import threading
from pathlib import Path

import pytest

from generator.jobs import Job, LocalRunner
from v2p_envs.untrusted.child import Limits, run_python_child
from v2p_envs.untrusted.sandbox import (NO_SANDBOX_VARIABLE, Sandbox, SandboxUnavailable, isolation_problem,
                                        sandboxed_command)

from .task_folders import task_variant

P = "tests.hostile_payloads"
TESTS = str(Path(__file__).parent)
PROBLEM = isolation_problem()
needs_sandbox = pytest.mark.skipif(PROBLEM is not None, reason=f"this host cannot isolate: {PROBLEM}")


def _run(tmp_path, function, kwargs=None, **options):
    job = Job("payload", f"{P}:{function}", kwargs or {}, readable=(TESTS,), timeout_s=options.pop("timeout_s", 120),
              **options)
    return LocalRunner().run([job], tmp_path / "jobs")[0]


@needs_sandbox
def test_secrets_in_the_environment_and_files_stay_out(tmp_path, monkeypatch):
    secret_dir = tmp_path / "private"
    secret_dir.mkdir()
    (secret_dir / "seeds.txt").write_text("SEED-4242")
    monkeypatch.setenv("V2P_LEADERBOARD_PRIVATE_SEEDS", "SEED-4242")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    result = _run(tmp_path, "read_environment_and_files", {"secret_file": str(secret_dir / "seeds.txt")})
    assert result.status == "done" and result.isolated
    assert "SEED-4242" not in str(result.result) and "sk-secret" not in str(result.result)
    assert result.result["files"][str(secret_dir / "seeds.txt")].startswith("refused")
    assert set(result.result["environ"]) <= {"PATH", "HOME", "TMPDIR", "V2P_CACHE", "PYTHONDONTWRITEBYTECODE",
                                             "PYTHONNOUSERSITE", "PYTHONPATH", "OMP_NUM_THREADS",
                                             "MKL_NUM_THREADS", "MUJOCO_GL", "PYOPENGL_PLATFORM", "CUDA_VISIBLE_DEVICES",
                                             "NVIDIA_VISIBLE_DEVICES", "LANG", "LC_ALL", "TZ", "LC_CTYPE",
                                             "PWD", "PYGAME_HIDE_SUPPORT_PROMPT"}  # set inside, by bwrap and an import


@needs_sandbox
def test_other_processes_are_invisible(tmp_path):
    result = _run(tmp_path, "list_processes")
    assert result.status == "done"
    seen = " ".join(result.result["cmdlines"].values())
    # only the sandbox's own: bwrap as its init and the job's python; not this test's process
    assert " ".join(sys.argv) not in seen and "test_sandbox.py" not in seen
    assert len(result.result["cmdlines"]) <= 3


@needs_sandbox
@pytest.mark.parametrize("target", ["host tmp", "repo", "var"])
def test_writing_outside_its_folders_never_reaches_the_host(tmp_path, target):
    path = {"host tmp": tmp_path / "escaped.txt", "repo": Path(TESTS).parent / "escaped.txt",
            "var": Path(f"/var/tmp/v2p-escaped-{os.getpid()}.txt")}[target]
    result = _run(tmp_path, "write_outside", {"path": str(path)})
    assert not path.exists()
    if target == "host tmp":  # the sandbox's /tmp is a private tmpfs: the write lands there and vanishes
        assert result.status in ("done", "failed")
    else:
        assert result.status == "failed" and "refused" in result.error


@needs_sandbox
def test_killing_the_parent_fails_the_job_only(tmp_path):
    result = _run(tmp_path, "kill_parent")
    assert result.status == "failed" and "refused" in result.error
    assert (tmp_path / "jobs" / "payload.json").is_file()


@needs_sandbox
def test_forking_is_refused_by_the_hook_and_by_the_kernel(tmp_path):
    above = _run(tmp_path / "a", "fork_many", {"count": 200})
    assert above.status == "failed" and "os.fork is refused" in above.error
    below = _run(tmp_path / "b", "fork_below_the_hook")
    assert below.status == "failed" and "PermissionError" in below.error  # seccomp: EPERM from clone


@needs_sandbox
def test_no_network_even_to_localhost(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(15)
    arrived: list = []
    threading.Thread(target=lambda: arrived.append(_accept(server)), daemon=True).start()
    result = _run(tmp_path, "connect", {"port": server.getsockname()[1]})
    assert result.status == "failed"
    server.close()
    assert arrived in ([], [None])


def _accept(server):
    try:
        return server.accept()
    except OSError:
        return None


@needs_sandbox
def test_megabytes_of_output_cost_the_parent_a_tail(tmp_path):
    result = _run(tmp_path, "shout", {"megabytes": 20})
    assert result.status == "done" and result.result == {"shouted": 20}
    outcome = run_python_child(["-c", "import sys; [sys.stdout.write('y' * 2**20) for _ in range(30)]"],
                               Limits(60), sandbox=Sandbox())
    assert outcome.returncode == 0 and outcome.isolated and len(outcome.stdout_tail) <= 4000


@needs_sandbox
def test_a_file_over_the_size_limit_kills_the_child(tmp_path):
    folder = tmp_path / "out"
    outcome = run_python_child(["-c", f"open('{folder}/big.bin', 'wb').write(b'0' * 3 * 2**20)"],
                               Limits(60, file_mb=1), sandbox=Sandbox(writable=(folder,)))
    assert outcome.returncode not in (0, None)  # SIGXFSZ (or EFBIG where the signal is ignored)
    assert (folder / "big.bin").stat().st_size <= 2**20


@needs_sandbox
def test_a_payload_that_waits_until_training_is_contained(tmp_path):
    marker = tmp_path / "escaped.txt"
    payload = (f"        if actions.shape[0] > 2:\n"
               f"            __import__('os').system('touch {marker}')\n")
    folder = task_variant(tmp_path, "reach_block",
                          {"    def compute_reward(self, actions, states):\n":
                           "    def compute_reward(self, actions, states):\n" + payload})
    run_dir = tmp_path / "run"
    job = Job("train", f"{P}:train_trusting", {"task_dir": str(folder), "run_dir": str(run_dir), "num_envs": 8},
              readable=(TESTS,), writable=(str(run_dir), str(folder)), timeout_s=300)
    result = LocalRunner().run([job], tmp_path / "jobs")[0]
    assert result.status == "failed" and "os.system is refused" in result.error
    assert not marker.exists()


@needs_sandbox
def test_the_namespace_alone_holds_without_the_guard(tmp_path):
    """No audit hook, no seccomp: bwrap's namespaces by themselves keep the network and the host away."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    port = server.getsockname()[1]
    code = (f"import socket, os\n"
            f"try:\n socket.create_connection(('127.0.0.1', {port}), timeout=3); print('NET')\n"
            f"except OSError: print('nonet')\n"
            f"try:\n open('{tmp_path}/x', 'w'); print('WROTE')\n"
            f"except OSError: print('rofs')\n"
            f"print(sorted(p for p in os.listdir('/proc') if p.isdigit()))\n")
    outcome = run_python_child(["-c", code], Limits(60), sandbox=Sandbox())
    server.close()
    assert outcome.returncode == 0, outcome.stderr_tail
    assert "nonet" in outcome.stdout_tail and "rofs" in outcome.stdout_tail and not (tmp_path / "x").exists()
    assert str(os.getpid()) not in outcome.stdout_tail


def test_a_host_that_cannot_isolate_refuses_unless_told(monkeypatch):
    import v2p_envs.untrusted.sandbox as sandbox

    monkeypatch.setattr(sandbox, "isolation_problem", lambda: "bubblewrap is not installed")
    with pytest.raises(SandboxUnavailable, match="bubblewrap is not installed.*V2P_NO_SANDBOX"):
        sandboxed_command([sys.executable, "-c", "pass"], Sandbox())
    monkeypatch.setenv(NO_SANDBOX_VARIABLE, "1")
    assert sandboxed_command([sys.executable, "-c", "pass"], Sandbox()) == [sys.executable, "-c", "pass"]
    monkeypatch.setenv("V2P_LEADERBOARD_PRIVATE_SEEDS", "SEED-4242")
    outcome = run_python_child(["-c", "import os; print('ran', os.environ.get('V2P_LEADERBOARD_PRIVATE_SEEDS'))"],
                               Limits(60))
    assert outcome.returncode == 0 and not outcome.isolated and "ran None" in outcome.stdout_tail  # no secrets


@needs_sandbox
def test_a_trial_runs_isolated(tmp_path):
    from v2p_envs.untrusted.trial import trial_task_dir

    folder = task_variant(tmp_path, "reach_block", name="reach_copy")
    result = trial_task_dir(folder, use_cache=False)
    assert result.passed and result.isolated


@needs_sandbox
def test_a_job_empties_a_relative_folder_of_its_own(tmp_path, monkeypatch):
    """shutil.rmtree walks with directory descriptors: the guard resolves the names against them
    (a restarted training job's clean-up of a relative run_dir was refused)."""
    monkeypatch.chdir(tmp_path)
    old = Path("runs/old")
    (old / "sub").mkdir(parents=True)
    (old / "sub" / "metrics.jsonl").write_text("{}")
    result = _run(tmp_path, "start_over", {"path": "runs/old"}, writable=("runs/old",))
    assert result.status == "done", result.error
    assert old.is_dir() and not any(old.iterdir())  # emptied; the folder is the sandbox's mount point
