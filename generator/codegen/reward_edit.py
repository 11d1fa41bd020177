"""Edit only the reward of a task module: what reward reflection changes between iterations.

Reflection keeps the picked module's scene info, reset, success and observation, and changes
its reward (paper, App. A.1). Task modules route ``compute_reward`` to a module-level
``reward_function(actions, states)`` (the format the prompts ask for), so:

- ``splice_reward(base, reply_code)`` puts a model's new ``reward_function`` (and any new helper
  functions it defines) into the base module, replacing the old definitions by name;
- ``weight_reward(base, weights)`` is the template backend's rule-based reflection: it keeps the
  reward and adds ``(w - 1) x component`` for each reweighted component, so the logged
  components stay comparable across iterations.
"""
from __future__ import annotations

import ast
import json

from v2p_envs.errors import V2PError

__all__ = ["RewardEditError", "reward_function_source", "splice_reward", "weight_reward", "REWARD_FUNCTION"]

REWARD_FUNCTION = "reward_function"
_WEIGHTS_MARK = "# -- reward weights written by the template reflection (rule-based, not a model) --"


class RewardEditError(V2PError, ValueError):
    """A module or a reply without the module-level reward function the edit needs."""


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}


def _segment(source: str, node: ast.AST) -> str:
    lines = source.splitlines(keepends=True)
    start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
    return "".join(lines[start:node.end_lineno])


def reward_function_source(code: str) -> str:
    """The source of ``code``'s module-level ``reward_function`` (what the reflection prompt shows)."""
    tree = ast.parse(code)
    node = _functions(tree).get(REWARD_FUNCTION)
    if node is None:
        raise RewardEditError(f"the module defines no module-level `{REWARD_FUNCTION}(actions, states)`")
    return _segment(code, node)


def splice_reward(base: str, reply_code: str) -> str:
    """``base`` with the reply's ``reward_function`` and helper functions in place of its own."""
    try:
        reply_tree, base_tree = ast.parse(reply_code), ast.parse(base)
    except SyntaxError as exc:
        raise RewardEditError(f"cannot parse: line {exc.lineno}: {exc.msg}") from None
    new = _functions(reply_tree)
    if REWARD_FUNCTION not in new:
        raise RewardEditError(f"the reply defines no module-level `{REWARD_FUNCTION}(actions, states)`")
    old = _functions(base_tree)
    lines = base.splitlines(keepends=True)
    # replace defined-again functions from the bottom up, so that earlier line numbers stay valid
    for name in sorted((n for n in new if n in old), key=lambda n: old[n].lineno, reverse=True):
        node = old[name]
        start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
        lines[start:node.end_lineno] = [_segment(reply_code, new[name])]
    added = [_segment(reply_code, new[n]) for n in new if n not in old]
    out = "".join(lines)
    if added:
        out = out.rstrip("\n") + "\n\n\n" + "\n\n".join(a.rstrip("\n") + "\n" for a in added)
    return out


def weight_reward(base: str, weights: dict[str, float]) -> str:
    """``base`` whose reward adds ``(w - 1) * component`` for each weight (earlier weights replaced)."""
    if REWARD_FUNCTION not in _functions(ast.parse(base)):
        raise RewardEditError(f"the module defines no module-level `{REWARD_FUNCTION}(actions, states)`")
    if _WEIGHTS_MARK in base:
        base = base[:base.index(_WEIGHTS_MARK)].rstrip("\n") + "\n"
    table = json.dumps({k: round(float(v), 4) for k, v in sorted(weights.items())})
    return (base.rstrip("\n") + "\n\n\n" + _WEIGHTS_MARK + f"""
REWARD_WEIGHTS = {table}
unweighted_reward_function = {REWARD_FUNCTION}


def {REWARD_FUNCTION}(actions, states):
    reward, components = unweighted_reward_function(actions, states)
    for name, value in components.items():
        reward = reward + (REWARD_WEIGHTS.get(name, 1.0) - 1.0) * value
    return reward, components
""")
