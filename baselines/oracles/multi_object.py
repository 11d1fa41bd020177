"""Oracles (filled per task)."""
from __future__ import annotations

ORACLES: dict = {}
