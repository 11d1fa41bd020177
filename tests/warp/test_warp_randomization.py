"""Randomisation on the Warp backend (Warp's CPU device): the CPU tests' checks, same code."""
from __future__ import annotations

import pytest

from tests.test_randomization import check_action_delay, check_mass_scaling, check_size_per_env

pytestmark = pytest.mark.slow
WARP_CPU = {"backend": "warp", "device": "cpu"}


def test_mass_scaling_per_env_warp():
    check_mass_scaling(WARP_CPU)


def test_action_delay_warp():
    check_action_delay(WARP_CPU)


def test_size_per_env_warp():
    check_size_per_env(WARP_CPU)
