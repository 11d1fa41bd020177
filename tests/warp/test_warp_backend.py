"""WarpBackend on Warp's CPU device: zero-copy views, partial reset, derived fields, rendering data.

Marked slow: the first run compiles MuJoCo Warp's kernels (minutes); then seconds per test.
"""
from __future__ import annotations

import mujoco
import numpy as np
import pytest
import torch

from v2p_envs.backends import make_backend
from v2p_envs.backends.mujoco_warp import WarpBackend
from v2p_envs.scene_builder import build_scene
from v2p_envs.task_loader import load_task_dir
from v2p_envs.registration import GENERATED_DIR

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def backend():
    built = build_scene(load_task_dir(GENERATED_DIR / "push_left").scene)
    b = make_backend(built, 3, device="cpu", backend="warp")
    yield b
    b.close()


def test_make_backend_picks_warp_on_cpu_device(backend):
    assert isinstance(backend, WarpBackend)
    assert backend.device == torch.device("cpu") and backend.wp_device.is_cpu
    assert backend.qpos.shape == (3, backend.model.nq)
    assert backend.site_xpos.shape == (3, backend.model.nsite, 3)


def test_fields_are_views_of_warp_memory(backend):
    """Writing a torch field writes Warp's array (no copy in between)."""
    for name in ("qpos", "qvel", "ctrl", "xquat", "site_xpos"):
        array = getattr(backend.wp_data, name)
        assert backend.fields[name].data_ptr() == array.ptr, name
    before = backend.ctrl[1, 0].item()
    backend.ctrl[1, 0] = 0.123
    assert backend.wp_data.ctrl.numpy()[1, 0] == pytest.approx(0.123)
    backend.ctrl[1, 0] = before


def test_step_moves_under_gravity_and_derived_fields_are_current(backend):
    backend.reset(torch.arange(3))
    backend.forward()
    model = backend.model
    free = model.jnt_qposadr[model.joint("snack_box_free").id]
    backend.qpos[:, free + 2] = 0.8  # lift the box into the air
    backend.forward()
    z0 = backend.qpos[:, free + 2].clone()
    backend.step()
    assert (backend.qpos[:, free + 2] < z0).all()
    # site_xpos matches MuJoCo's forward kinematics of the new state (derived fields current).
    data = mujoco.MjData(model)
    data.qpos[:] = backend.qpos[0].numpy()
    data.mocap_pos[:] = backend.mocap_pos[0].numpy()
    data.mocap_quat[:] = backend.mocap_quat[0].numpy()
    mujoco.mj_kinematics(model, data)
    np.testing.assert_allclose(backend.site_xpos[0].numpy(), data.site_xpos, atol=1e-5)


def test_reset_selected_worlds_only(backend):
    backend.reset(torch.arange(3))
    backend.qvel[:] = 0.5
    backend.qpos[:, 0] = 0.3
    backend.reset(torch.tensor([1]))
    qpos0 = torch.as_tensor(backend.model.qpos0, dtype=torch.float32)
    assert torch.allclose(backend.qpos[1], qpos0) and (backend.qvel[1] == 0).all()
    assert (backend.qvel[[0, 2]] == 0.5).all() and (backend.qpos[[0, 2], 0] == 0.3).all()


def test_mj_data_holds_the_world_state(backend):
    backend.reset(torch.arange(3))
    backend.qpos[2, 0] = -0.2
    backend.forward()
    data = backend.mj_data(2)
    assert isinstance(data, mujoco.MjData)
    assert data.qpos[0] == pytest.approx(-0.2, abs=1e-6)
    assert backend.mj_data(0).qpos[0] != pytest.approx(-0.2, abs=1e-6)
    with pytest.raises(IndexError):
        backend.mj_data(3)


def test_no_contact_overflow_after_steps(backend):
    backend.reset(torch.arange(3))
    backend.forward()
    for _ in range(3):
        backend.step()
    assert (backend.overflow() == 0).all()


def test_cuda_device_without_cuda_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    built = build_scene(load_task_dir(GENERATED_DIR / "reach_block").scene)
    with pytest.raises((RuntimeError, ValueError), match="CUDA|cuda"):
        make_backend(built, 2, device="cuda", backend="warp")
