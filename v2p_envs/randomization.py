"""Randomisation for sim2real data: object mass and size scaling, action noise and delay.

Off by default (``RandomizationConfig()`` changes nothing and draws no random numbers). Pass
``randomization=RandomizationConfig(...)`` (or a dict of its fields) to ``gym.make_vec`` /
``V2PVectorEnv``; it works the same on the MuJoCo CPU and the MuJoCo Warp backends.

- ``object_mass_scale=(lo, hi)``: per env and per episode, each free object's mass and inertia
  are multiplied by a factor drawn uniformly in [lo, hi) from that env's random stream (so a
  seeded env draws the same factors at any batch size). The constants MuJoCo derives from
  them (subtree mass, inverse weights) are scaled exactly with it: for a free body they are
  proportional to 1 / mass. Written to per-world model fields (``mujoco.batch`` ``expand`` on
  the CPU, per-world ``put_model`` arrays on Warp); ``env.randomizer.mass_scale`` holds the
  factors (N, number of free objects).
- ``object_size_scale``: one factor for all objects of the vector env, applied to the scene
  before it is compiled (meshes, masses and ``<name>_size`` follow).
- ``object_size_scale_per_env=(lo, hi)``: per env and per episode, each object takes one of
  ``object_size_variants`` factors evenly spaced in [lo, hi] (drawn from that env's stream).
  Discrete because collision meshes are compiled: the scene is compiled with every object's
  meshes at every factor, and a world takes a factor by copying that variant's rows of the
  model fields that differ (``scene_builder.SIZE_VARIANT_FIELDS``: geom mesh ids, poses and
  bounds; body mass, inertia and their derived constants) into its per-world fields. Objects
  are placed on the table by their own size, ``states["<name>_size"]`` and
  ``sim.env_object_sizes[name]`` (N, 3) hold it; ``sim.object_sizes[name]`` stays the nominal
  size, so task code that reads it (not the states) sees the nominal one. Mass scaling applies
  on top of the size's mass.
- ``action_noise_std``: Gaussian noise added to the normalised action (before the controller
  clips it to [-1, 1]), independently per env, step and dimension.
- ``action_delay``: the controller acts on the action of ``action_delay`` env steps ago; after a
  reset the queue holds "stay still, gripper open" actions. The reward sees the policy's action.
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import mujoco
import numpy as np
import torch

from .scene_builder import SIZE_VARIANT_FIELDS
from .scene_spec import SceneSpec

__all__ = ["RandomizationConfig", "Randomizer", "scale_scene_objects", "HOLD_ACTION"]

#: The action that keeps the hand where it is with the gripper open (what a delay queue starts with).
HOLD_ACTION = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0)
#: Model fields of a free body that mass scaling changes, and how: x s or x 1/s.
_BODY_FIELDS = {"body_mass": 1, "body_inertia": 1, "body_subtreemass": 1, "body_invweight0": -1}


@dataclass(frozen=True)
class RandomizationConfig:
    """Every field's default means "off"."""

    object_mass_scale: tuple[float, float] = (1.0, 1.0)
    object_size_scale: float = 1.0
    object_size_scale_per_env: tuple[float, float] = (1.0, 1.0)
    object_size_variants: int = 5
    action_noise_std: float = 0.0
    action_delay: int = 0

    def __post_init__(self) -> None:
        lo, hi = self.object_mass_scale
        if not 0.0 < lo <= hi:
            raise ValueError(f"object_mass_scale must be (low, high) with 0 < low <= high, got {self.object_mass_scale}")
        if not self.object_size_scale > 0.0:
            raise ValueError(f"object_size_scale must be > 0, got {self.object_size_scale}")
        lo, hi = self.object_size_scale_per_env
        if not 0.0 < lo <= hi:
            raise ValueError("object_size_scale_per_env must be (low, high) with 0 < low <= high, "
                             f"got {self.object_size_scale_per_env}")
        if self.object_size_variants < 2 or int(self.object_size_variants) != self.object_size_variants:
            raise ValueError(f"object_size_variants must be a whole number >= 2, got {self.object_size_variants}")
        if self.action_noise_std < 0.0:
            raise ValueError(f"action_noise_std must be >= 0, got {self.action_noise_std}")
        if self.action_delay < 0 or int(self.action_delay) != self.action_delay:
            raise ValueError(f"action_delay must be a whole number of env steps >= 0, got {self.action_delay}")

    @classmethod
    def coerce(cls, value: "RandomizationConfig | Mapping[str, Any] | None") -> "RandomizationConfig":
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, Mapping):
            known = {f.name for f in dataclasses.fields(cls)}
            unknown = sorted(set(value) - known)
            if unknown:
                raise ValueError(f"randomization: unknown option(s) {unknown}; known: {sorted(known)}")
            ranges = ("object_mass_scale", "object_size_scale_per_env")
            return cls(**{k: (tuple(v) if k in ranges else v) for k, v in value.items()})
        raise TypeError(f"randomization must be a RandomizationConfig, a dict or None, got {type(value).__name__}")

    @property
    def mass_enabled(self) -> bool:
        return self.object_mass_scale != (1.0, 1.0)

    @property
    def size_enabled(self) -> bool:
        return self.object_size_scale_per_env != (1.0, 1.0)

    @property
    def size_scales(self) -> tuple[float, ...]:
        """The per-env size factors (none when off)."""
        if not self.size_enabled:
            return ()
        lo, hi = self.object_size_scale_per_env
        k = self.object_size_variants
        return tuple(lo + (hi - lo) * i / (k - 1) for i in range(k))

    @property
    def enabled(self) -> bool:
        return self.mass_enabled or self.size_enabled or self.actions_enabled

    @property
    def actions_enabled(self) -> bool:
        return self.action_noise_std > 0.0 or self.action_delay > 0


def scale_scene_objects(scene: SceneSpec, scale: float) -> SceneSpec:
    """The scene with every object's size multiplied by ``scale`` (the same scene if 1)."""
    if scale == 1.0:
        return scene
    objects = tuple(dataclasses.replace(o, size=tuple(float(s) * scale for s in o.size)) for o in scene.objects)
    return dataclasses.replace(scene, objects=objects)


def _per_env_model_fields(backend, names: tuple[str, ...]) -> dict[str, torch.Tensor]:
    """Live (N, ...) torch views of per-env model fields on either backend."""
    if backend.name == "warp":
        return {n: backend.model_fields[n] for n in names}
    if backend.name == "mujoco":
        # mujoco.batch gives the field per-simulation values and returns the live array.
        return {n: torch.from_numpy(backend._batch.expand(n)) for n in names}
    raise NotImplementedError(f"mass randomisation does not support backend {backend.name!r}")


def _variant_rows(built, fields: dict[str, torch.Tensor]) -> dict[str, list[tuple[torch.Tensor, torch.Tensor]]]:
    """Per size-variant field, per object (``built.object_names`` order): the object's entries
    (its geoms, its body or its dofs) and their values in each variant, (variants, entries, ...)
    shaped like the per-world field."""
    model = built.model
    out: dict[str, list[tuple[torch.Tensor, torch.Tensor]]] = {}
    for name in SIZE_VARIANT_FIELDS:
        field = fields[name]
        owner = {"geom": model.geom_bodyid, "body": np.arange(model.nbody), "dof": model.dof_bodyid}[name.split("_")[0]]
        per_object = []
        for obj in built.object_names:
            cols = np.nonzero(owner == model.body(obj).id)[0]
            values = built.size_variant_values[name][:, cols]
            table = torch.as_tensor(values).reshape(len(values), len(cols), *field.shape[2:])
            per_object.append((torch.as_tensor(cols, device=field.device), table.to(field.device, field.dtype)))
        out[name] = per_object
    return out


class Randomizer:
    """Applies a ``RandomizationConfig`` to one ``BatchedSim``: ``reset`` and ``action`` hooks."""

    def __init__(self, sim, config: RandomizationConfig) -> None:
        self.sim = sim
        self.config = config
        n, device = sim.num_envs, sim.device
        model = sim.built.model
        self.objects = tuple(o for o in sim.object_names if o not in sim.built.object_mocap_id)
        self.mass_scale = torch.ones(n, len(self.objects), device=device)
        self.mass_enabled = config.mass_enabled and bool(self.objects)
        self.size_enabled = bool(sim.built.size_scales)
        if config.size_enabled and not self.size_enabled:
            raise ValueError("object_size_scale_per_env needs the scene built with its size variants "
                             "(build_scene(..., size_scales=config.size_scales))")
        names = (tuple(_BODY_FIELDS) + ("dof_invweight0",) if self.mass_enabled else ()) + \
            (SIZE_VARIANT_FIELDS if self.size_enabled else ())
        self._fields = _per_env_model_fields(sim.backend, tuple(dict.fromkeys(names))) if names else {}
        if self.mass_enabled:
            self._bodies = torch.tensor([model.body(o).id for o in self.objects], device=device)
            self._dofs = torch.tensor([[sim.built.object_qvel_adr[o] + k for k in range(6)] for o in self.objects],
                                      device=device)
            # The model's values (every env starts from them), on the fields' devices and dtypes.
            self._base = {name: self._fields[name][0].clone() for name in (*_BODY_FIELDS, "dof_invweight0")}
        if self.size_enabled:
            self.size_scales = torch.tensor(sim.built.size_scales, dtype=torch.float32, device=device)
            #: The size variant of each env's objects (N, objects), ``sim.object_names`` order.
            self.size_index = torch.zeros(n, len(sim.object_names), dtype=torch.long, device=device)
            self._variants = _variant_rows(sim.built, self._fields)
        self._queue = None
        if config.action_delay > 0:
            hold = torch.tensor(HOLD_ACTION, device=device)
            self._hold = hold
            self._queue = hold.repeat(config.action_delay, n, 1)  # (delay, N, 7), oldest first

    def reset(self, env_ids: torch.Tensor) -> None:
        """Draw new sizes and mass factors for ``env_ids`` and clear their action queues."""
        cfg = self.config
        if self.size_enabled:
            self._write_sizes(env_ids)
        if self.mass_enabled:
            lo, hi = cfg.object_mass_scale
            scale = self.sim.rng.uniform(env_ids, len(self.objects), low=lo, high=hi)
            self.mass_scale[env_ids] = scale
            self._write_masses(env_ids)
        if self._queue is not None:
            self._queue[:, env_ids] = self._hold

    def _write_sizes(self, env_ids: torch.Tensor) -> None:
        count = len(self.size_scales)
        draw = self.sim.rng.uniform(env_ids, len(self.sim.object_names))
        index = torch.clamp((draw * count).long(), max=count - 1)
        self.size_index[env_ids] = index
        for name, per_object in self._variants.items():
            field = self._fields[name]
            rows = env_ids.to(field.device)[:, None]
            for k, (cols, table) in enumerate(per_object):
                if len(cols):
                    field[rows, cols] = table[index[:, k].to(field.device)]
        for k, name in enumerate(self.sim.object_names):
            self.sim.env_object_sizes[name][env_ids] = self.sim.object_sizes[name] * self.size_scales[index[:, k]][:, None]

    def _write_masses(self, env_ids: torch.Tensor) -> None:
        """Mass factors on top of the model's masses, or of each env's size variant's."""
        fields, base = self._fields, self._base
        for name, power in {**_BODY_FIELDS, "dof_invweight0": -1}.items():
            field = fields[name]
            rows = env_ids.to(field.device)[:, None]
            scale = self.mass_scale[env_ids].to(field.device, field.dtype)
            if name == "dof_invweight0":
                cols = self._dofs.to(field.device)  # (objects, 6)
                value = field[rows, cols.reshape(-1)] if self.size_enabled else \
                    base[name][cols.reshape(-1)].expand(len(env_ids), -1)
                value = value.reshape(len(env_ids), *cols.shape) * scale[:, :, None] ** power
                field[rows, cols.reshape(-1)] = value.reshape(len(env_ids), -1)
            else:
                cols = self._bodies.to(field.device)
                value = field[rows, cols] if self.size_enabled else base[name][cols][None]
                s = scale ** power
                field[rows, cols] = value * (s[..., None] if value.dim() == 3 else s)

    @functools.cached_property
    def render_model(self) -> mujoco.MjModel:
        """A model of its own for rendering one env with its sizes (``load_render_model``);
        made on first use: a copy of every variant's meshes that training never needs."""
        return copy.deepcopy(self.sim.built.model)

    def load_render_model(self, env_index: int) -> None:
        """Give ``render_model`` env ``env_index``'s object sizes."""
        for name in SIZE_VARIANT_FIELDS:
            target = getattr(self.render_model, name)
            target[...] = self._fields[name][env_index].detach().cpu().numpy().reshape(target.shape)

    def action(self, actions: torch.Tensor) -> torch.Tensor:
        """The action the controller executes for the policy's ``actions`` (N, 7)."""
        cfg = self.config
        if cfg.action_noise_std > 0.0:
            all_ids = torch.arange(self.sim.num_envs, device=actions.device)
            u = self.sim.rng.uniform(all_ids, 2, 7)
            gauss = torch.sqrt(-2.0 * torch.log1p(-u[:, 0])) * torch.cos(2.0 * math.pi * u[:, 1])  # Box-Muller
            actions = actions + cfg.action_noise_std * gauss
        if self._queue is not None:
            executed = self._queue[0].clone()
            self._queue = torch.cat((self._queue[1:], actions[None]), dim=0)
            actions = executed
        return actions
