"""Randomisation (mass scaling, global and per-env sizes, action noise/delay) on the MuJoCo CPU backend.

The same checks on the Warp backend are in tests/warp/test_warp_randomization.py (slow).
"""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

import v2p_envs  # noqa: F401
from v2p_envs.randomization import RandomizationConfig

ENV = "V2P-PushLeft-v0"


def make(n=3, env_id=ENV, **kwargs):
    return gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point", **kwargs).unwrapped


def per_env_mass(env, name):
    b = env.sim.backend
    body = env.built.model.body(name).id
    if b.name == "warp":
        return b.model_fields["body_mass"][:, body].cpu().double()
    return torch.tensor([b._batch.get_model(i).body_mass[body] for i in range(env.num_envs)])


def test_off_by_default():
    env = make()
    assert env.randomizer is None and env.randomization == RandomizationConfig()
    env.close()


def test_config_validation_and_dict_form():
    cfg = RandomizationConfig.coerce({"object_mass_scale": [0.5, 2.0], "action_delay": 2})
    assert cfg.object_mass_scale == (0.5, 2.0) and cfg.action_delay == 2
    with pytest.raises(ValueError, match="unknown option"):
        RandomizationConfig.coerce({"mass": 2})
    with pytest.raises(ValueError, match="object_mass_scale"):
        RandomizationConfig(object_mass_scale=(2.0, 1.0))
    with pytest.raises(ValueError, match="action_delay"):
        RandomizationConfig(action_delay=-1)
    with pytest.raises(ValueError, match="object_size_scale_per_env"):
        RandomizationConfig(object_size_scale_per_env=(1.2, 0.8))
    with pytest.raises(ValueError, match="object_size_variants"):
        RandomizationConfig(object_size_scale_per_env=(0.8, 1.2), object_size_variants=1)
    sized = RandomizationConfig.coerce({"object_size_scale_per_env": [0.8, 1.2], "object_size_variants": 3})
    assert sized.size_scales == pytest.approx((0.8, 1.0, 1.2)) and RandomizationConfig().size_scales == ()


def check_mass_scaling(backend_kwargs):
    env = make(4, randomization={"object_mass_scale": (0.5, 2.0)}, **backend_kwargs)
    try:
        env.reset(seed=0)
        base = float(env.built.model.body_mass[env.built.model.body("snack_box").id])
        scale = env.randomizer.mass_scale[:, 0].cpu().double()
        assert ((scale >= 0.5) & (scale < 2.0)).all() and scale.unique().numel() == 4
        np.testing.assert_allclose(per_env_mass(env, "snack_box"), base * scale, rtol=1e-5)
        assert float(per_env_mass(env, env.built.robot.hand_body).std()) == 0.0  # the robot is untouched
        # Seeded: the same factors again; a partial reset redraws only that env.
        env.reset(seed=0)
        np.testing.assert_allclose(env.randomizer.mass_scale[:, 0].cpu().double(), scale)
        env.reset(options={"env_ids": [2]})
        after = env.randomizer.mass_scale[:, 0].cpu().double()
        assert torch.equal(after[[0, 1, 3]], scale[[0, 1, 3]]) and after[2] != scale[2]
        np.testing.assert_allclose(per_env_mass(env, "snack_box"), base * after, rtol=1e-5)
        # The physics uses each env's mass: gravity on the box's z dof is m_i * g.
        env.step(torch.zeros(4, 7))
        dof = env.built.object_qvel_adr["snack_box"] + 2
        gravity = torch.tensor([env.sim.backend.mj_data(i).qfrc_bias[dof] for i in range(4)], dtype=torch.float64)
        np.testing.assert_allclose(gravity, 9.81 * base * after, rtol=0.02)
    finally:
        env.close()


def test_mass_scaling_per_env_mujoco():
    check_mass_scaling({})


def test_size_scaling_scales_scene_sizes_and_masses():
    plain, big = make(1), make(1, randomization={"object_size_scale": 1.5})
    try:
        np.testing.assert_allclose(big.sim.object_sizes["snack_box"].numpy(),
                                   1.5 * plain.sim.object_sizes["snack_box"].numpy(), rtol=1e-6)
        assert big.built.object_masses["snack_box"] == pytest.approx(1.5 ** 3 * plain.built.object_masses["snack_box"],
                                                                     rel=1e-3)
        big.reset(seed=0)
        assert torch.allclose(big.sim.states["snack_box_size"], 1.5 * plain.sim.object_sizes["snack_box"])
    finally:
        plain.close()
        big.close()


def test_size_variants_share_one_model_layout(monkeypatch):
    """A world takes a size variant by copying SIZE_VARIANT_FIELDS: build_scene checks that every
    other model field is the same in all variants (shapes and values), except constants stepping
    does not read, and fails naming a field that is not."""
    from v2p_envs import scene_builder
    env = make(1, env_id="V2P-ThrowGarlic-v0")
    built = scene_builder.build_scene(env.scene, size_scales=(0.8, 1.25))
    for name in ("geom_dataid", "body_mass"):
        values = built.size_variant_values[name]
        assert values.shape == (2, *getattr(built.model, name).shape)
        assert all(not np.array_equal(v, getattr(built.model, name)) for v in values), name
    monkeypatch.setattr(scene_builder, "SIZE_VARIANT_FIELDS",
                        tuple(f for f in scene_builder.SIZE_VARIANT_FIELDS if f != "body_mass"))
    with pytest.raises(RuntimeError, match="body_mass"):
        scene_builder.build_scene(env.scene, size_scales=(0.8,))
    env.close()


def check_size_per_env(backend_kwargs):
    """Per-env sizes: each env's box has its own size, mass (with mass scaling on top) and
    collision geometry (it rests on the table at its own half height), seeded."""
    cfg = {"object_size_scale_per_env": (0.7, 1.3), "object_size_variants": 3, "object_mass_scale": (0.5, 2.0)}
    env = make(6, randomization=cfg, **backend_kwargs)
    try:
        env.reset(seed=0)
        factors = env.randomizer.size_scales[env.randomizer.size_index[:, 0]].cpu().double()
        assert env.randomizer.size_scales.tolist() == pytest.approx([0.7, 1.0, 1.3]) and factors.unique().numel() > 1
        nominal = env.sim.object_sizes["snack_box"].cpu().double()
        sizes = env.sim.states["snack_box_size"].cpu().double()
        np.testing.assert_allclose(sizes, factors[:, None] * nominal, rtol=1e-6)
        base = float(env.built.model.body_mass[env.built.model.body("snack_box").id])
        mass_scale = env.randomizer.mass_scale[:, 0].cpu().double()
        np.testing.assert_allclose(per_env_mass(env, "snack_box"), base * factors ** 3 * mass_scale, rtol=1e-4)
        hold = torch.tensor([0.0, 0, 0, 0, 0, 0, 1]).repeat(6, 1)
        for _ in range(25):
            env.step(hold)
        height = env.sim.states["snack_box_pos"][:, 2].cpu().double() - env.sim.table_height
        np.testing.assert_allclose(height, sizes[:, 2] / 2, atol=0.002)
        env.reset(seed=0)
        np.testing.assert_allclose(env.randomizer.size_scales[env.randomizer.size_index[:, 0]].cpu().double(), factors)
        big = int(torch.argmax(factors))
        env.render_env(big)
        field = env.randomizer._fields["geom_dataid"][big].cpu().numpy()
        np.testing.assert_array_equal(env.randomizer.render_model.geom_dataid, field)
    finally:
        env.close()


def test_size_per_env_mujoco():
    check_size_per_env({})


def check_action_delay(backend_kwargs):
    env = make(2, randomization={"action_delay": 2}, **backend_kwargs)
    try:
        env.reset(seed=0)
        start = env.sim.states["eef_pos"].clone()
        up = torch.zeros(2, 7)
        up[:, 2] = 1.0
        up[:, 6] = 1.0
        moved = []
        for _ in range(4):
            env.step(up)
            moved.append(float((env.sim.states["eef_pos"][:, 2] - start[:, 2]).min()))
        assert moved[0] < 0.005 and moved[1] < 0.005, moved  # the queue still held "stay"
        assert moved[3] > 0.02, moved  # then the hand rises ~3 cm per step
    finally:
        env.close()


def test_action_delay_mujoco():
    check_action_delay({})


def test_action_noise_is_seeded_and_changes_motion():
    noisy_a = make(2, randomization={"action_noise_std": 0.3})
    noisy_b = make(2, randomization={"action_noise_std": 0.3})
    clean = make(2)
    try:
        for env in (noisy_a, noisy_b, clean):
            env.reset(seed=5)
            for _ in range(3):
                env.step(torch.zeros(2, 7))
        a, b, c = (e.sim.states["eef_pos"] for e in (noisy_a, noisy_b, clean))
        assert torch.allclose(a, b)
        assert float((a - c).norm(dim=-1).min()) > 1e-3
        assert not torch.allclose(a[0] - c[0], a[1] - c[1])  # independent per env
    finally:
        for env in (noisy_a, noisy_b, clean):
            env.close()
