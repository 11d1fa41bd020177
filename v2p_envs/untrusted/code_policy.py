"""The code policy for untrusted task code: what a task module may import, call and touch.

Read before anything runs (``ast`` only). Task code is vectorised tensor math over ``states``:
it needs torch, math, numpy, typing and ``v2p_envs.Task``, and nothing that reads or writes
files, runs other code, or reaches past the names it was given. The policy refuses

- imports outside the allow-list, and relative imports;
- the builtins that run or load code or reach namespaces (exec, eval, compile, open,
  __import__, getattr/setattr/delattr, globals/locals/vars, input, breakpoint, ...);
- any dunder name and any private attribute (``x._y``), which is how a caller's frames,
  the simulator behind ``self.context`` or the interpreter's internals would be reached;
- attributes that do I/O, load code or change process-wide state: ``torch.load``/``save``,
  ``numpy.load``/``tofile``, ``torch.hub``/``utils``/``ops``/``jit``/``compile``,
  ``set_*`` (torch.set_default_dtype, ...), ``manual_seed``, frame and code attributes;
- ``global``/``nonlocal`` statements and ``async`` code.

This is a policy, not a security boundary: Python code cannot be made safe by inspection.
The containment is the trial in a child process with a time and memory limit
(``v2p_envs.untrusted.trial``); the policy keeps obvious payloads from ever running there and
keeps the in-process use of trial-passed code away from the simulator and the ground truth.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

__all__ = ["Violation", "check_source", "ALLOWED_IMPORTS", "FORBIDDEN_NAMES", "FORBIDDEN_ATTRIBUTES",
           "FORBIDDEN_ATTRIBUTE_PREFIXES"]

#: Top-level modules task code may import (``from v2p_envs import Task`` is the one v2p_envs import).
ALLOWED_IMPORTS = frozenset({"torch", "math", "typing", "numpy", "__future__"})
_V2P_IMPORTS = {"v2p_envs": frozenset({"Task"}), "v2p_envs.math3d": None}  # None: any name

FORBIDDEN_NAMES = frozenset({
    "exec", "eval", "compile", "open", "__import__", "getattr", "setattr", "delattr", "globals", "locals",
    "vars", "input", "breakpoint", "memoryview", "exit", "quit", "help",
})
FORBIDDEN_ATTRIBUTES = frozenset({
    # code loading, compilation, foreign functions
    "hub", "ops", "classes", "library", "package", "utils", "cpp_extension", "jit", "compile", "fx",
    "ctypes", "ctypeslib", "f2py", "distutils", "testing", "extbuild", "lib", "onnx", "export",
    "serialization", "profiler", "backends", "distributed", "multiprocessing",
    # file and memory I/O
    "memmap", "open_memmap", "genfromtxt", "fromregex", "DataSource", "storage", "untyped_storage",
    "data_ptr", "system", "popen",
    # process-wide random state and typing's string evaluation
    "manual_seed", "seed", "get_type_hints", "ForwardRef",
})
#: Prefixes: private names, loading/saving, global setters, hooks, and frame/code/traceback attributes.
FORBIDDEN_ATTRIBUTE_PREFIXES = ("_", "load", "save", "set_", "from_file", "fromfile", "tofile", "dump",
                                "register_", "f_", "gi_", "cr_", "ag_", "tb_", "co_")


@dataclass(frozen=True)
class Violation:
    """One refusal: ``category`` is "syntax", "import" or "forbidden" (``errors.TRIAL_CATEGORIES``)."""

    category: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def _attribute_refused(name: str) -> bool:
    return name in FORBIDDEN_ATTRIBUTES or name.startswith(FORBIDDEN_ATTRIBUTE_PREFIXES)


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def _is_super_init(node: ast.Attribute) -> bool:
    """``super().__init__``: the one dunder a Task subclass needs (in its own ``__init__``)."""
    value = node.value
    return (node.attr == "__init__" and isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
            and value.func.id == "super")


class _Checker(ast.NodeVisitor):
    def __init__(self, v2p_imports: bool = True) -> None:
        self.violations: list[Violation] = []
        self.v2p_imports = v2p_imports

    def refuse(self, node: ast.AST, category: str, message: str) -> None:
        self.violations.append(Violation(category, getattr(node, "lineno", 0), message))

    # imports ---------------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._check_module(node, alias.name)
            if alias.asname:
                self._check_name(node, alias.asname)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level:
            self.refuse(node, "import", f"relative import 'from {'.' * node.level}{module} import ...' is not allowed")
            return
        if self.v2p_imports and module in _V2P_IMPORTS:
            allowed = _V2P_IMPORTS[module]
            for alias in node.names:
                if allowed is not None and alias.name not in allowed:
                    self.refuse(node, "import", f"'from {module} import {alias.name}': only {sorted(allowed)} "
                                                f"may be imported from {module}")
        else:
            self._check_module(node, module)
        for alias in node.names:
            if alias.name == "*":
                self.refuse(node, "import", f"'from {module} import *' is not allowed")
            elif module != "__future__":
                self._check_attribute_name(node, alias.name, f"'from {module} import {alias.name}'")
                if alias.asname:
                    self._check_name(node, alias.asname)

    def _check_module(self, node: ast.AST, dotted: str) -> None:
        parts = dotted.split(".")
        if self.v2p_imports and dotted in _V2P_IMPORTS and dotted != "v2p_envs":
            return
        if parts[0] not in ALLOWED_IMPORTS:
            self.refuse(node, "import", f"import of {dotted!r}: task code may import only "
                                        f"{sorted(ALLOWED_IMPORTS - {'__future__'})} and 'from v2p_envs import Task'")
            return
        for part in parts[1:]:
            self._check_attribute_name(node, part, f"import of {dotted!r}")

    # names and attributes ---------------------------------------------------------------
    def _check_name(self, node: ast.AST, name: str) -> None:
        if _is_dunder(name):
            self.refuse(node, "forbidden", f"dunder name {name!r} is not allowed")
        elif name in FORBIDDEN_NAMES:
            self.refuse(node, "forbidden", f"{name!r} is not allowed in task code")

    def _check_attribute_name(self, node: ast.AST, name: str, where: str) -> None:
        if _attribute_refused(name):
            self.refuse(node, "forbidden", f"{where}: attribute {name!r} is not allowed in task code "
                                           "(private, I/O, code loading or process-wide state)")

    def visit_Name(self, node: ast.Name) -> None:
        self._check_name(node, node.id)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if not _is_super_init(node):
            self._check_attribute_name(node, node.attr, f"'.{node.attr}'")
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        if _is_dunder(node.name) and node.name not in ("__init__",):
            self.refuse(node, "forbidden", f"defining {node.name!r} is not allowed in task code")
        for arg in node.args.args + node.args.kwonlyargs + node.args.posonlyargs:
            self._check_name(arg, arg.arg)
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for keyword in node.keywords:
            self.refuse(node, "forbidden", f"class keyword {keyword.arg!r} (metaclass) is not allowed")
        self.generic_visit(node)

    def visit_Global(self, node: ast.Global) -> None:
        self.refuse(node, "forbidden", "'global' statements are not allowed in task code")

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        self.refuse(node, "forbidden", "'nonlocal' statements are not allowed in task code")

    def _refuse_async(self, node: ast.AST) -> None:
        self.refuse(node, "forbidden", "async code is not allowed in task code")

    visit_AsyncFunctionDef = visit_Await = visit_AsyncFor = visit_AsyncWith = _refuse_async


def check_source(source: str, filename: str = "task.py", v2p_imports: bool = True) -> list[Violation]:
    """Every violation of the policy in ``source`` (empty: allowed). ``v2p_imports=False`` (a
    leaderboard submission's policy code) refuses every ``v2p_envs`` import as well."""
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as exc:
        return [Violation("syntax", exc.lineno or 0, f"syntax error: {exc.msg}")]
    except ValueError as exc:  # e.g. null bytes
        return [Violation("syntax", 0, f"cannot parse: {exc}")]
    checker = _Checker(v2p_imports)
    checker.visit(tree)
    return checker.violations
