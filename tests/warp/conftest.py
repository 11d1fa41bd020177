"""MuJoCo Warp tests: the CPU Warp device (marked slow) and CUDA (marked gpu).

Kernels compile once (~1.5 min on 2 cores) into the cache folder the backend sets
(``$V2P_WARP_CACHE`` or ``<tmp>/v2p_warp_kernels``); later runs load them in seconds.
"""
from __future__ import annotations

import pytest

pytest.importorskip("mujoco_warp", reason="needs MuJoCo Warp: pip install -e .[gpu]")
