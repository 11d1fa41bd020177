"""GPU backend: MuJoCo Warp steps all N worlds of one scene on one Warp device.

The state lives in Warp arrays (``mjw.Data`` with ``nworld = N``); ``fields`` are torch views
of them made with ``wp.to_torch`` (no copy: CUDA memory on a GPU, the same host memory on the
CPU device), so the controller, observations, rewards and success functions run in torch on
the device and nothing crosses to the host in a step. On CUDA the substep loop (``substeps`` x
``mjw.step`` and the kinematics that make derived fields current) is captured once as a CUDA
graph and replayed each env step. The same code runs on Warp's CPU device (slow, for tests).

Warp arrays are float32: ``qpos`` etc. are float32 here (float64 on the MuJoCo CPU backend).
Contacts and constraint rows are preallocated: ``nconmax`` contacts and ``njmax`` rows per
world; ``overflow()`` says which worlds ran out (their extra contacts were dropped).
"""
from __future__ import annotations

import copy
import os
import tempfile

import mujoco
import torch
import warp as wp

import mujoco_warp as mjw

from ..scene_builder import SIZE_VARIANT_FIELDS, BuiltScene
from .base import DERIVED_FIELDS, STATE_FIELDS, PhysicsBackend

__all__ = ["WarpBackend", "warp_device", "DEFAULT_NCONMAX", "DEFAULT_NJMAX"]

#: Contacts per world. The densest reference task (Cover: cup over dice) peaks at ~75 on the
#: MuJoCo CPU backend under random actions; the rest stay under 45.
DEFAULT_NCONMAX = 128
#: Constraint rows per world: 4 per elliptic-cone contact (condim 4) plus limits/equalities.
DEFAULT_NJMAX = 512
#: Model fields that can differ per world (the randomisation's mass scaling writes them; with
#: per-env object sizes, ``SIZE_VARIANT_FIELDS`` too).
PER_WORLD_MODEL_FIELDS = ("body_mass", "body_inertia", "body_invweight0", "body_subtreemass", "dof_invweight0")


def _configure_warp() -> None:
    """Kernel cache in a stable temp folder (shared by processes: compile once), quiet loads."""
    if not getattr(_configure_warp, "done", False):
        cache = os.environ.get("V2P_WARP_CACHE", os.path.join(tempfile.gettempdir(), "v2p_warp_kernels"))
        wp.config.kernel_cache_dir = cache
        if wp.config.log_level < wp.LOG_WARNING:
            wp.config.log_level = wp.LOG_WARNING
        wp.init()
        _configure_warp.done = True


def _without_midphase_switch(model: mujoco.MjModel) -> mujoco.MjModel:
    """The model without the CPU's body-midphase switch-off (size variants set it), which
    MuJoCo Warp rejects: it has no body midphase, its broadphase reads each world's geom bounds."""
    if not model.opt.disableflags & mujoco.mjtDisableBit.mjDSBL_MIDPHASE:
        return model
    model = copy.deepcopy(model)
    model.opt.disableflags &= ~int(mujoco.mjtDisableBit.mjDSBL_MIDPHASE)
    return model


def warp_device(device: torch.device | str) -> str:
    """The Warp device name for a torch device: 'cpu' or 'cuda:<index>'."""
    device = torch.device(device)
    if device.type == "cpu":
        return "cpu"
    if device.type == "cuda":
        return f"cuda:{device.index or 0}"
    raise ValueError(f"the warp backend runs on 'cpu' or 'cuda[:i]', got device={str(device)!r}")


class WarpBackend(PhysicsBackend):
    """MuJoCo Warp with ``num_envs`` worlds; ``device='cuda'`` (GPU) or ``'cpu'`` (Warp's CPU device)."""

    name = "warp"

    def __init__(self, built: BuiltScene, num_envs: int, device: torch.device | str = "cuda",
                 nconmax: int = DEFAULT_NCONMAX, njmax: int = DEFAULT_NJMAX,
                 use_graph: bool | None = None) -> None:
        _configure_warp()
        name = warp_device(device)
        if name.startswith("cuda") and not (wp.is_cuda_available() and torch.cuda.is_available()):
            raise RuntimeError(f"device={str(device)!r} needs a CUDA GPU seen by both Warp and torch (Warp: "
                               f"{wp.is_cuda_available()}, torch: {torch.cuda.is_available()}); "
                               "use device='cpu' with backend='warp' for Warp's CPU device")
        self.wp_device = wp.get_device(name)
        torch_device = wp.device_to_torch(self.wp_device)
        super().__init__(built, num_envs, torch_device)
        self.use_graph = self.wp_device.is_cuda if use_graph is None else (use_graph and self.wp_device.is_cuda)
        self._graph = None
        with wp.ScopedDevice(self.wp_device):
            per_world = tuple(dict.fromkeys(PER_WORLD_MODEL_FIELDS + (SIZE_VARIANT_FIELDS if built.size_scales else ())))
            self.wp_model = mjw.put_model(_without_midphase_switch(self.model), batch_sizes={f: num_envs for f in per_world})
            self.wp_data = mjw.make_data(self.model, nworld=num_envs, nconmax=nconmax, njmax=njmax)
            self._reset_mask = wp.zeros(num_envs, dtype=bool)
        self._reset_mask_t = wp.to_torch(self._reset_mask)
        for name in STATE_FIELDS + DERIVED_FIELDS:
            self.fields[name] = wp.to_torch(getattr(self.wp_data, name))
        #: Per-world model fields as torch views (N, ...), for randomisation.
        self.model_fields = {f: wp.to_torch(getattr(self.wp_model, f)) for f in per_world}
        self._host_data: mujoco.MjData | None = None
        self.reset(torch.arange(num_envs, device=self.device))
        self.forward()

    # -- stepping --------------------------------------------------------------------------
    def _substeps(self) -> None:
        for _ in range(self.substeps):
            mjw.step(self.wp_model, self.wp_data)
        # mj_step leaves derived fields at the state before the last substep; make them current
        # (the MuJoCo backend does the same with stage=mjSTAGE_VEL).
        mjw.kinematics(self.wp_model, self.wp_data)

    def step(self) -> None:
        with wp.ScopedDevice(self.wp_device), self._torch_stream_order():
            if not self.use_graph:
                self._substeps()
                return
            if self._graph is None:
                with wp.ScopedCapture() as capture:
                    self._substeps()
                self._graph = capture.graph
            wp.capture_launch(self._graph)

    def reset(self, env_ids: torch.Tensor) -> None:
        mask = self._reset_mask_t
        mask.zero_()
        mask[env_ids.to(mask.device)] = True
        with wp.ScopedDevice(self.wp_device), self._torch_stream_order():
            mjw.reset_data(self.wp_model, self.wp_data, reset=self._reset_mask)

    def forward(self, env_ids: torch.Tensor | None = None) -> None:
        # Kinematics of all worlds: the others' state is unchanged, so their fields are too.
        with wp.ScopedDevice(self.wp_device), self._torch_stream_order():
            mjw.kinematics(self.wp_model, self.wp_data)

    def mj_data(self, env_index: int) -> mujoco.MjData:
        if not 0 <= env_index < self.num_envs:
            raise IndexError(f"env_index {env_index} out of range for {self.num_envs} envs")
        if self._host_data is None:
            self._host_data = mujoco.MjData(self.model)
        wp.synchronize_device(self.wp_device)
        mjw.get_data_into(self._host_data, self.model, self.wp_data, world_id=env_index)
        return self._host_data

    def overflow(self) -> torch.Tensor:
        """Per-world overflow bitmask (``mjw.OverflowType``); nonzero: contacts or rows were dropped."""
        return wp.to_torch(self.wp_data.overflow).clone()

    def close(self) -> None:
        self._graph = None
        self.fields.clear()

    # -- torch <-> warp ordering -------------------------------------------------------------
    def _torch_stream_order(self):
        """Order Warp's launches after torch's pending work on its current stream and before
        torch's next. Warp's default stream is blocking, so with torch on the default stream
        the order holds already; on another torch stream we add event waits (no host sync)."""
        return _StreamOrder(self.wp_device)


class _StreamOrder:
    def __init__(self, device) -> None:
        self.device = device
        self.torch_stream = None

    def __enter__(self):
        if self.device.is_cuda:
            stream = torch.cuda.current_stream(wp.device_to_torch(self.device))
            if stream != torch.cuda.default_stream(stream.device):
                self.torch_stream = wp.stream_from_torch(stream)
                wp.get_stream(self.device).wait_stream(self.torch_stream)
        return self

    def __exit__(self, *exc) -> None:
        if self.torch_stream is not None:
            self.torch_stream.wait_stream(wp.get_stream(self.device))
