"""Errors a person can act on: each message names the file, field or id and what was expected.

Catching ``V2PError`` is how the ``v2p`` command line turns bad input into one line instead of
a traceback; everything else is a bug and keeps its traceback.
"""
from __future__ import annotations

__all__ = ["V2PError", "TaskContractError", "TaskRegistrationError", "UntrustedCodeError", "TRIAL_CATEGORIES"]

#: What can go wrong with task code, as recorded by the trial and by the env's contract checks.
TRIAL_CATEGORIES = {
    "syntax": "the file does not parse as Python",
    "import": "an import outside the allow-list (torch, math, typing, numpy, v2p_envs.Task)",
    "forbidden": "a construct the code policy refuses (I/O, exec/eval, dunder or private access, ...)",
    "contract": "the module does not define what a task module must (scene_info, one Task subclass)",
    "runtime": "an exception while building, resetting or stepping the env",
    "shape": "a wrong shape or type: observation width, reward, success or components",
    "non_finite": "NaN or inf in the reward, its components, the observation or the success",
    "timeout": "a call did not return within the time limit",
    "memory": "the memory limit was exceeded",
    "crash": "the child process died without a result",
}


class V2PError(Exception):
    """A problem with input (a file, an id, a flag, task code) that the user can fix."""


class TaskContractError(V2PError, ValueError):
    """Task code returned something the task contract does not allow; ``category`` is a key of
    ``TRIAL_CATEGORIES`` so that the failure can be recorded as data."""

    def __init__(self, message: str, category: str = "runtime") -> None:
        if category not in TRIAL_CATEGORIES:
            raise ValueError(f"unknown task failure category {category!r}")
        self.category = category
        super().__init__(message)


class TaskRegistrationError(V2PError, ValueError):
    """An env id that is already taken by another task folder."""


class UntrustedCodeError(V2PError):
    """A task folder whose code is neither shipped nor trial-passed nor explicitly trusted."""
