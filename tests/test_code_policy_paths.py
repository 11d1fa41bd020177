"""The code policy's attribute paths: the modules task and policy code may import (torch, numpy,
typing, math) hold os and sys as plain attributes, so a path from an imported name is walked
at check time and refused where it reaches a module off the allow-list or anything of os, sys,
subprocess, builtins, importlib, ... (issue 26). Normal task code, every shipped task and the
shipped leaderboard entries still pass."""
from __future__ import annotations

from pathlib import Path

import numpy
import pytest

from v2p_envs import GENERATED_DIR
from v2p_envs.untrusted.code_policy import ALLOWED_MODULES, check_source

LEADERBOARD_ENTRIES = Path(__file__).resolve().parents[1] / "leaderboard" / "entries"


def _messages(source: str, v2p_imports: bool = True) -> list[str]:
    return [str(v) for v in check_source(source, v2p_imports=v2p_imports)]


# (source, the line refused, the path the message names, what it says the path reaches)
REACHING = [
    ('import torch\ntorch.os.system("x")', 2, "torch.os.system", "module 'os'"),
    ("import typing\nx = typing.sys.modules", 2, "typing.sys.modules", "module 'sys'"),
    ("from torch import serialization\nserialization.os", 2, "serialization.os (that is torch.serialization.os)",
     "module 'torch.serialization'"),
    ("import torch\ny = torch.nn.modules.module.torch.os", 2, "torch.nn.modules.module.torch.os",
     "module 'torch.nn.modules'"),
    ("import torch as t\nt.os.getcwd()", 2, "t.os.getcwd (that is torch.os.getcwd)", "module 'os'"),
    ("from torch import nn as x\nx.modules.module.sys", 2, "x.modules.module.sys", "module 'torch.nn.modules'"),
    ("from torch.nn import functional as F\nF.torch.builtins.open", 2, "F.torch.builtins.open", "module 'builtins'"),
    ("import torch\ntorch.cuda.is_available()", 2, "torch.cuda.is_available", "module 'torch.cuda'"),
    ("import torch\n\n\ndef f():\n    return torch.importlib.import_module('os')", 5, "torch.importlib.import_module",
     "module 'importlib'"),
    ("from torch import os", 1, "from torch import os (that is torch.os)", "module 'os'"),
    ("from torch.nn.modules import module", 1, "torch.nn.modules", "module 'torch.nn.modules'"),
    ("import torch.nn.modules.module as m", 1, "import torch.nn.modules.module", "module 'torch.nn.modules'"),
    ("import v2p_envs.math3d as m3\nm3.torch.os", 2, "m3.torch.os (that is v2p_envs.math3d.torch.os)", "module 'os'"),
]


@pytest.mark.parametrize("source, line, path, reached", REACHING, ids=[r[2] for r in REACHING])
def test_paths_into_forbidden_modules_are_refused_naming_line_and_path(source, line, path, reached):
    messages = _messages(source)
    assert any(m.startswith(f"line {line}: ") and path in m and f"reaches {reached}" in m for m in messages), messages


@pytest.mark.parametrize("source", [
    "import numpy as n\nn.os",  # numpy 2 no longer holds os: refused by the attribute's name
    "import torch\ntorch.zeros(3).sys",  # no static path (a call's result): refused by the name
    "import typing\ntyping.io",
])
def test_attributes_named_like_forbidden_modules_are_refused_anywhere(source):
    assert any("the module of that name" in m for m in _messages(source))


@pytest.mark.skipif(not hasattr(numpy, "os"), reason="this numpy holds no os attribute")
def test_numpy_os_path_is_refused():
    assert any("reaches module 'os'" in m for m in _messages("import numpy as n\nn.os.system('x')"))


@pytest.mark.parametrize("source, words", [
    ("import torch\nx = torch", "used as a value"),
    ("import torch\nf = torch.nn.functional", "used as a value"),
    ("import torch\n[torch][0].os", "used as a value"),
    ("import torch\n\n\ndef f(m=torch):\n    pass", "used as a value"),
    ("import torch\ntorch.zeros = print", "assigning to 'torch.zeros'"),
    ("import math\nmath = None", "rebinding the imported name 'math'"),
    ("import torch as t\n\n\ndef f(t):\n    return t.os", "rebinding the imported name 't'"),
    ("import torch\ndel torch", "rebinding the imported name 'torch'"),
])
def test_modules_cannot_leave_the_static_view(source, words):
    """A module in a variable would take later paths out of the checker's sight."""
    assert any(words in m for m in _messages(source)), _messages(source)


def test_normal_task_code_passes():
    ok = ("from __future__ import annotations\nimport math\nimport numpy as np\nimport torch\n"
          "import torch.nn.functional as F\nfrom typing import Any, Dict\nfrom v2p_envs import Task\n"
          "from v2p_envs.math3d import quat_mul\n\n\nclass T(Task):\n    def __init__(self, context):\n"
          "        super().__init__(context)\n        self.n = torch.zeros(self.num_envs)\n\n"
          "    def f(self, states: Dict[str, Any]):\n"
          "        d = torch.linalg.norm(states['a'] - states['b'], dim=-1)\n"
          "        g = torch.distributions.Normal(0.0, 1.0).log_prob(d)\n"
          "        r = np.random.default_rng(0).normal() + np.linalg.norm(np.zeros(3)) + np.inf * 0\n"
          "        return F.elu(d) * math.pi + g + r + torch.nn.functional.relu(d) + torch.float32.itemsize\n")
    assert check_source(ok) == []


def test_the_allow_list_names_only_tensor_math_namespaces():
    assert {"torch", "numpy", "math", "typing", "torch.nn.functional"} <= ALLOWED_MODULES
    assert not {"os", "sys", "builtins", "importlib", "torch.serialization", "torch.utils"} & ALLOWED_MODULES


def test_every_shipped_task_passes():
    tasks = sorted(GENERATED_DIR.glob("*/task.py"))
    assert tasks
    for task_py in tasks:
        assert check_source(task_py.read_text(), str(task_py)) == [], task_py


def test_every_shipped_leaderboard_entry_passes():
    policies = sorted(LEADERBOARD_ENTRIES.glob("*/policy.py"))
    assert policies
    for policy in policies:
        assert check_source(policy.read_text(), str(policy), v2p_imports=False) == [], policy
