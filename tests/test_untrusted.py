"""Untrusted task code: the code policy, the trial in a child process, and the loader's gate.

Each hostile folder gives a recorded failure with its category within the trial's timeout;
none runs its payload or hangs."""
from __future__ import annotations

import time

import pytest

from v2p_envs import GENERATED_DIR, UntrustedCodeError
from v2p_envs.task_loader import load_task_dir
from v2p_envs.untrusted.code_policy import check_source
from v2p_envs.untrusted.trial import TrialConfig, trial_task_dir

from .task_folders import task_variant

REACH_SUCCESS = 'return torch.norm(states["block_pos"] - states["eef_pos"], dim=-1) < 0.03'
REACH_REWARD = "return reach_reward - action_penalty, components"
FAST = TrialConfig(num_envs=2, steps=3, call_timeout_s=20.0, timeout_s=120.0)


def _categories(source: str) -> list[str]:
    return [v.category for v in check_source(source)]


# -- the code policy (no execution) -----------------------------------------------------
def test_shipped_task_code_passes_the_policy():
    for task_py in sorted(GENERATED_DIR.glob("*/task.py")):
        assert check_source(task_py.read_text()) == [], task_py


@pytest.mark.parametrize("source, category", [
    ("import os", "import"),
    ("import subprocess as sp", "import"),
    ("from . import x", "import"),
    ("from v2p_envs.ground_truth import GROUND_TRUTH", "import"),
    ("from v2p_envs import registration", "import"),
    ("import torch.utils.cpp_extension", "forbidden"),
    ("from typing import get_type_hints", "forbidden"),
    ("x = open('f')", "forbidden"),
    ("eval('1')", "forbidden"),
    ("__import__('os')", "forbidden"),
    ("getattr(object, 'x')", "forbidden"),
    ("y = ().__class__", "forbidden"),
    ("y = self.context._sim", "forbidden"),
    ("torch.load('f')", "forbidden"),
    ("t.tofile('f')", "forbidden"),
    ("torch.set_default_dtype(torch.float64)", "forbidden"),
    ("torch.manual_seed(0)", "forbidden"),
    ("f = (x for x in []).gi_frame", "forbidden"),
    ("def f():\n    global y", "forbidden"),
    ("class A(metaclass=M):\n    pass", "forbidden"),
    ("def f(:", "syntax"),
])
def test_the_policy_refuses(source, category):
    assert category in _categories(source), source


def test_the_policy_allows_task_code_idioms():
    ok = ("import math\nimport torch\nimport numpy as np\nfrom typing import Dict\nfrom v2p_envs import Task\n"
          "class T(Task):\n    def __init__(self, context):\n        super().__init__(context)\n"
          "        self.n = torch.zeros(self.num_envs)\n    def f(self, states):\n"
          "        return torch.norm(states['a'] - states['b'], dim=-1).clamp(0, 1) * math.pi\n")
    assert check_source(ok) == []


# -- the trial ------------------------------------------------------------------------
def test_a_good_folder_passes_and_is_cached(tmp_path):
    folder = task_variant(tmp_path, "reach_block", append="\n# a copy\n")
    result = trial_task_dir(folder, FAST, use_cache=False)
    assert result.passed and result.category is None and result.observation_dim == 21, result
    start = time.perf_counter()
    assert trial_task_dir(folder, FAST).passed and trial_task_dir(folder, FAST).passed
    assert time.perf_counter() - start < 2.0  # the second call reads the cache, no child process


def test_import_os_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    folder = task_variant(tmp_path, "reach_block", {"import torch\n": f"import torch\nimport os\nos.system('touch {marker}')\n"})
    result = trial_task_dir(folder, FAST, use_cache=False)
    assert not result.passed and result.category == "import" and "os" in result.message
    assert not marker.exists()


def test_open_in_compute_success_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    folder = task_variant(tmp_path, "reach_block", {REACH_SUCCESS: f"open('{marker}', 'w')\n        {REACH_SUCCESS}"})
    result = trial_task_dir(folder, FAST, use_cache=False)
    assert not result.passed and result.category == "forbidden" and "open" in result.message
    assert not marker.exists()


def test_endless_loop_times_out(tmp_path):
    folder = task_variant(tmp_path, "reach_block", {REACH_SUCCESS: f"while True:\n            pass\n        {REACH_SUCCESS}"})
    config = TrialConfig(num_envs=2, steps=3, call_timeout_s=8.0, timeout_s=90.0)
    start = time.perf_counter()
    result = trial_task_dir(folder, config, use_cache=False)
    assert not result.passed and result.category == "timeout", result
    assert time.perf_counter() - start < 90.0


def test_nan_reward_is_non_finite(tmp_path):
    folder = task_variant(tmp_path, "reach_block", {REACH_REWARD: "return reach_reward * float('nan'), components"})
    result = trial_task_dir(folder, FAST, use_cache=False)
    assert not result.passed and result.category == "non_finite" and "reward" in result.message


def test_wrong_reward_shape(tmp_path):
    folder = task_variant(tmp_path, "reach_block", {REACH_REWARD: "return reach_reward[:, None], components"})
    result = trial_task_dir(folder, FAST, use_cache=False)
    assert not result.passed and result.category == "shape" and "reward" in result.message


def test_wrong_observation_width(tmp_path):
    folder = task_variant(tmp_path, "reach_block", {"return super().get_observation_space() + 3":
                                                    "return super().get_observation_space() + 4"})
    result = trial_task_dir(folder, FAST, use_cache=False)
    assert not result.passed and result.category == "shape" and "get_observation_space" in result.message


def test_huge_allocation_hits_the_memory_limit(tmp_path):
    folder = task_variant(tmp_path, "reach_block", {REACH_SUCCESS: f"x = torch.ones(2 ** 34)\n        {REACH_SUCCESS}"})
    result = trial_task_dir(folder, FAST, use_cache=False)
    assert not result.passed and result.category == "memory", result


def test_moving_objects_outside_reset_is_refused(tmp_path):
    """Task code cannot teleport an object mid-episode (it would forge any success)."""
    folder = task_variant(tmp_path, "reach_block", {REACH_SUCCESS: (
        "self.place_on_table('block', torch.arange(self.num_envs), states['eef_pos'][:, :2])\n        "
        + REACH_SUCCESS)})
    result = trial_task_dir(folder, FAST, use_cache=False)
    assert not result.passed and result.category == "forbidden" and "reset_objects_states" in result.message


# -- the loader's gate ----------------------------------------------------------------
def test_loader_refuses_untried_failing_code_and_trusts_only_when_asked(tmp_path):
    folder = task_variant(tmp_path, "reach_block", {"import torch\n": "import torch\nimport os\n"})
    with pytest.raises(UntrustedCodeError, match="import.*trust_task_code"):
        load_task_dir(folder)
    assert load_task_dir(folder, trust_task_code=True).trusted_by == "caller"
    assert load_task_dir(GENERATED_DIR / "reach_block").trusted_by == "shipped"
