"""Ground-truth success functions (filled per task)."""
from __future__ import annotations

SUCCESS: dict = {}
