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
- ``global``/``nonlocal`` statements and ``async`` code;
- any attribute path from an imported name (``torch.os.system``, ``import numpy as n; n.os``,
  ``from torch import serialization; serialization.os``) that reaches a module outside the
  allow-list ``ALLOWED_MODULES``, or a module, function or object of ``FORBIDDEN_MODULES`` (os,
  sys, subprocess, builtins, importlib, ...). The allowed modules are imported here and each
  static path is walked with ``getattr`` as far as it goes: their namespaces hold ``os`` and
  ``sys`` as plain attributes, which a denylist of names cannot follow. A module may only be
  used through its attributes (``x = torch``, ``f(torch.nn)`` are refused: a module in a
  variable would take later paths out of sight), and an imported name is not assigned to.

This is a policy, not a security boundary: Python code cannot be made safe by inspection.
The containment is the trial in a child process with a time and memory limit
(``v2p_envs.untrusted.trial``); the policy keeps obvious payloads from ever running there and
keeps the in-process use of trial-passed code away from the simulator and the ground truth.
"""
from __future__ import annotations

import ast
import functools
import importlib
import importlib.util
import types
import warnings
from dataclasses import dataclass
from typing import Any

__all__ = ["Violation", "check_source", "ALLOWED_IMPORTS", "ALLOWED_MODULES", "FORBIDDEN_MODULES", "FORBIDDEN_NAMES",
           "FORBIDDEN_ATTRIBUTES", "FORBIDDEN_ATTRIBUTE_PREFIXES", "MODULE_ATTRIBUTES"]

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
#: Attributes named like the modules for files, processes and the interpreter, which allowed
#: modules hold under these names (torch.os, typing.sys): refused also where no static path leads.
MODULE_ATTRIBUTES = frozenset({"os", "sys", "subprocess", "builtins", "importlib", "io", "shutil", "pathlib",
                               "socket"})
#: Prefixes: private names, loading/saving, global setters, hooks, and frame/code/traceback attributes.
FORBIDDEN_ATTRIBUTE_PREFIXES = ("_", "load", "save", "set_", "from_file", "fromfile", "tofile", "dump",
                                "register_", "f_", "gi_", "cr_", "ag_", "tb_", "co_")

#: The only module objects an attribute path may reach (exact names, not prefixes: ``torch`` does
#: not admit ``torch.serialization``): the public tensor-math namespaces task and policy code use.
ALLOWED_MODULES = frozenset({
    "torch", "torch.nn", "torch.nn.functional", "torch.linalg", "torch.distributions", "torch.fft",
    "torch.special", "numpy", "numpy.linalg", "numpy.random", "numpy.fft", "math", "typing", "v2p_envs.math3d",
})
#: Modules no path may reach, nor any function, class or object defined in them or their
#: submodules: files, processes, the interpreter, code loading, foreign functions (with the C
#: modules behind them: posix for os, _io for io, ...).
FORBIDDEN_MODULES = frozenset({
    "os", "posix", "nt", "posixpath", "ntpath", "sys", "subprocess", "_posixsubprocess", "builtins", "importlib",
    "_imp", "io", "_io", "shutil", "pathlib", "socket", "_socket", "ctypes", "_ctypes", "pickle", "_pickle",
    "marshal", "runpy", "gc", "inspect", "signal", "_signal", "threading", "_thread", "multiprocessing",
    "tempfile", "glob", "zipimport", "pkgutil", "code", "codeop", "mmap", "fcntl", "resource", "pty",
})
#: builtins that a path may reach (``typing.Text`` is ``str``): plain data types, nothing that runs,
#: loads or reaches code
_PLAIN_BUILTIN_TYPES = frozenset({bool, int, float, complex, str, bytes, tuple, list, dict, set, frozenset, slice,
                                  range, type(None)})


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
        if name in MODULE_ATTRIBUTES:
            self.refuse(node, "forbidden", f"{where}: attribute {name!r} (the module of that name, for files, "
                                           "processes or the interpreter) is not allowed in task code")
        elif _attribute_refused(name):
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


# attribute paths from imported names ------------------------------------------------------
class _Unresolved(Exception):
    """A path step that does not resolve here (a name the module lacks, a lazily loaded part not
    loaded, a local that shadows an import): nothing is known of it, so nothing is refused."""


def _module_name(module: types.ModuleType) -> str:
    name = module.__dict__.get("__name__")
    return name if isinstance(name, str) else "<unnamed module>"


def _in_forbidden_module(dotted: str) -> bool:
    return dotted.split(".")[0] in FORBIDDEN_MODULES


def _step_refusal(value: Any) -> str | None:
    """Why a path may not reach ``value`` (None: it may). Modules must be on the allow-list;
    anything else must not come from a forbidden module: a function of os (``__module__``
    'posix'), an instance of one of their classes (``sys.stdout``), a builtin that runs or
    loads code (``open``, ``exec``)."""
    if isinstance(value, types.ModuleType):
        name = _module_name(value)
        if name in ALLOWED_MODULES:
            return None
        if _in_forbidden_module(name):
            return f"module {name!r} (files, processes, the interpreter or code loading)"
        return f"module {name!r} (not an allowed namespace)"
    if isinstance(value, type) and value in _PLAIN_BUILTIN_TYPES:
        return None
    try:
        module = getattr(value, "__module__", None)  # for an instance of a Python class: its class's module
    except Exception:  # an object whose attribute access fails: nothing to learn from it
        module = None
    if isinstance(module, str) and _in_forbidden_module(module):
        return f"{_describe(value)} from module {module!r}"
    if not isinstance(value, type):
        kind = type(value).__module__
        # a C function's type is a builtins type; only instances of other forbidden modules' types
        if kind != "builtins" and _in_forbidden_module(kind):
            return f"an instance of {type(value).__qualname__} from module {kind!r}"
    return None


def _describe(value: Any) -> str:
    name = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
    return f"{type(value).__name__} {name!r}" if isinstance(name, str) else f"a {type(value).__name__}"


def _attribute(owner: Any, name: str, importing: bool) -> Any:
    """``owner.name`` as the checked code would see it. ``importing``: from ``from M import name``,
    which also loads a submodule that is not an attribute yet; found here by its spec (nothing
    runs), and loaded only when it is on the allow-list."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numpy's deprecated names warn on access
            return getattr(owner, name)
    except Exception:
        pass
    if isinstance(owner, types.ModuleType):
        dotted = f"{_module_name(owner)}.{name}"
        if dotted in ALLOWED_MODULES:
            return importlib.import_module(dotted)
        if importing:
            try:
                spec = importlib.util.find_spec(dotted)
            except (ImportError, ValueError):
                spec = None
            if spec is not None:
                return types.ModuleType(dotted)  # stands in for the submodule: refused by its name
    raise _Unresolved(name)


@functools.lru_cache(maxsize=4096)
def _walk(path: tuple[str, ...], checked_from: int = 0, importing: bool = False) -> tuple[str | None, int, bool]:
    """Walk the dotted ``path`` (a top-level module, then attributes) with ``getattr``: (why it is
    refused or None, the number of steps resolved, whether the last resolved value is a module).
    Steps before ``checked_from`` are not judged (``from v2p_envs import Task`` binds Task, not
    the package it comes from). A name the denylist refuses is followed only where a module
    holds it already (``torch.serialization``; a lazily loaded ``torch.onnx`` is not imported
    here to look), a dunder never; the walk stops where a step does not resolve."""
    root = path[0]
    if root not in ALLOWED_IMPORTS - {"__future__"} and root != "v2p_envs":
        return None, 0, False
    try:
        value: Any = importlib.import_module(root)
    except Exception:  # not installed here: the import fails where the code runs, too
        return None, 0, False
    refusal = _step_refusal(value) if checked_from == 0 else None
    if refusal:
        return refusal, 1, True
    resolved = 1
    for position, name in enumerate(path[1:], start=1):
        if _is_dunder(name):
            return None, resolved, False
        if _attribute_refused(name):  # reported as a name; followed only where nothing runs to look
            if not (isinstance(value, types.ModuleType) and name in vars(value)):
                return None, resolved, False
            value = vars(value)[name]
        else:
            try:
                value = _attribute(value, name, importing and position == len(path) - 1)
            except Exception:  # _Unresolved, or an allowed submodule that fails to import here: unknown
                return None, resolved, False
        resolved += 1
        refusal = _step_refusal(value) if position >= checked_from else None
        if refusal:
            return refusal, resolved, isinstance(value, types.ModuleType)
    return None, resolved, isinstance(value, types.ModuleType)


def _chain(node: ast.expr) -> tuple[ast.Name, list[str]] | None:
    """``a.b.c`` as (Name a, ["b", "c"]); None where the chain starts at anything but a name."""
    attrs: list[str] = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return node, attrs[::-1]


class _PathChecker(ast.NodeVisitor):
    """Refuses attribute paths from imported names that reach forbidden modules or objects
    (see the module doc). Bindings are collected over the whole module first (flow-insensitive):
    an imported name means its import everywhere, which is why assigning to one is refused."""

    def __init__(self, tree: ast.Module, refuse: Any) -> None:
        self.refuse = refuse
        #: local name -> (the dotted path it stands for, the first step judged): "np" -> (numpy, 0),
        #: "F" -> (torch.nn.functional, 0), "Task" -> (v2p_envs.Task, 1)
        self.bindings: dict[str, tuple[tuple[str, ...], int]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    parts = tuple(alias.name.split("."))
                    if alias.asname:  # import a.b as c: c is a.b; a is loaded, not bound
                        self.bindings[alias.asname] = (parts, len(parts) - 1)
                    else:  # import a.b: a is bound
                        self.bindings[parts[0]] = (parts[:1], 0)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module and node.module != "__future__":
                module = tuple(node.module.split("."))
                for alias in node.names:
                    if alias.name != "*":
                        self.bindings[alias.asname or alias.name] = ((*module, alias.name), len(module))

    def _check_path(self, node: ast.AST, written: str, path: tuple[str, ...], checked_from: int = 0,
                    importing: bool = False, as_value: bool = False) -> None:
        refusal, resolved, is_module = _walk(path, checked_from, importing)
        reached = ".".join(path[:resolved])
        shown = written if written == ".".join(path) else f"{written} (that is {'.'.join(path)})"
        if refusal:
            self.refuse(node, "forbidden", f"'{shown}' reaches {refusal} at '{reached}'; task code may reach only "
                                           "the modules " + ", ".join(sorted(ALLOWED_MODULES)))
        elif as_value and is_module and resolved == len(path):
            self.refuse(node, "forbidden", f"'{shown}' is the module '{reached}' used as a value: a module may be "
                                           "used only through its attributes (torch.zeros(...), not x = torch)")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            parts = tuple(alias.name.split("."))
            if parts[0] == "v2p_envs":  # which of its modules may be imported is the import rule's
                self._check_path(node, f"import {alias.name}", parts, len(parts) - 1, importing=True)
                continue
            for end in range(1, len(parts) + 1):  # import a.b.c loads a, a.b and a.b.c
                self._check_path(node, f"import {alias.name}", parts[:end], importing=True)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or not node.module or node.module == "__future__":
            return
        parts = tuple(node.module.split("."))
        if parts[0] != "v2p_envs":  # v2p_envs: which names may come from it is the import rule's
            for end in range(1, len(parts) + 1):  # the module imported from must be allowed itself
                self._check_path(node, f"from {node.module} import ...", parts[:end], importing=True)
        for alias in node.names:
            if alias.name != "*":
                self._check_path(node, f"from {node.module} import {alias.name}", (*parts, alias.name),
                                 checked_from=len(parts), importing=True)

    def _visit_chain(self, node: ast.Attribute | ast.Name) -> None:
        chain = _chain(node)
        if chain is None or chain[0].id not in self.bindings:
            self.generic_visit(node)
            return
        name, attrs = chain
        written = ".".join([name.id, *attrs])
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            what = f"assigning to '{written}'" if attrs else f"rebinding the imported name {name.id!r}"
            self.refuse(node, "forbidden", f"{what} is not allowed in task code (it would change what a "
                                           "module is for every later use)")
            return
        path, checked_from = self.bindings[name.id]
        self._check_path(node, written, (*path, *attrs), checked_from, as_value=True)
        # the chain's own parts are checked: nothing below a maximal chain needs a visit

    visit_Attribute = _visit_chain
    visit_Name = _visit_chain

    def _check_bound_names(self, node: ast.AST, names: list[str]) -> None:
        for name in names:
            if name in self.bindings:
                self.refuse(node, "forbidden", f"rebinding the imported name {name!r} is not allowed in task code")

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.Lambda) -> None:
        args = node.args
        self._check_bound_names(node, [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
                                + [a.arg for a in (args.vararg, args.kwarg) if a is not None])
        if isinstance(node, ast.FunctionDef):
            self._check_bound_names(node, [node.name])
        self.generic_visit(node)

    visit_Lambda = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._check_bound_names(node, [node.name])
        self.generic_visit(node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        self._check_bound_names(node, [node.name] if node.name else [])
        self.generic_visit(node)


def check_source(source: str, filename: str = "task.py", v2p_imports: bool = True) -> list[Violation]:
    """Every violation of the policy in ``source`` (empty: allowed). ``v2p_imports=False`` (a
    leaderboard submission's policy code) refuses every ``v2p_envs`` import as well.

    The attribute-path check imports the allowed modules (torch, numpy, ...) in this process to
    walk the paths; it never imports a module off the allow-list."""
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as exc:
        return [Violation("syntax", exc.lineno or 0, f"syntax error: {exc.msg}")]
    except ValueError as exc:  # e.g. null bytes
        return [Violation("syntax", 0, f"cannot parse: {exc}")]
    checker = _Checker(v2p_imports)
    checker.visit(tree)
    _PathChecker(tree, checker.refuse).visit(tree)
    return sorted(checker.violations, key=lambda v: v.line)
