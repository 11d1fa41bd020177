"""Contact quality at the shipped physics setting (2 ms x 10 substeps, chosen in issue 11 by
benchmarks/physics_rates.py): a grasped block neither slips nor jitters in the hand, and no
resting object sinks into the table."""
from __future__ import annotations

import pytest

import v2p_envs
from benchmarks.physics_rates import grasp_slip, sinking_depth
from v2p_envs.scene_builder import SceneConfig


def test_the_shipped_setting_is_2_ms_by_10():
    config = SceneConfig()
    assert (config.timestep, config.substeps) == (0.002, 10)


def test_a_grasped_block_holds_still():
    grasp = grasp_slip(SceneConfig())
    assert grasp["slip_max_m"] < 0.002 and grasp["jitter_max_m"] < 0.0005, grasp


@pytest.mark.parametrize("env_id", v2p_envs.registered_task_ids())
def test_resting_objects_do_not_sink(env_id):
    assert sinking_depth(env_id, SceneConfig(), n=2, steps=60) < 0.002
