"""Scripted oracle policies for every reference task, keyed by task class name."""
from __future__ import annotations

from .base import Oracle
from .registry import ORACLES, get_oracle

__all__ = ["Oracle", "ORACLES", "get_oracle"]
