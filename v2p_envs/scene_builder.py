"""SceneSpec -> one MuJoCo model: floor, table, Franka Panda, and the task's objects.

World frame: z up, the table top at ``table_height``, the robot base on the table at
``robot_base_xy`` facing +x. "Left" is +y as the robot sees it. Objects are free bodies whose
frame sits at the centre of their bounding box; meshes are scaled per axis to the spec's size.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import mujoco
import numpy as np

from .convex import collision_cache
from .robot import ROBOT_BIT, WORLD_BIT, PandaConfig, RobotIndex, add_panda
from .scene_spec import SceneSpec, SceneSpecError

__all__ = ["SceneConfig", "BuiltScene", "build_scene", "RENDER_CAMERA", "SIZE_VARIANT_FIELDS"]

log = logging.getLogger(__name__)
RENDER_CAMERA = "front"
#: A collision bit no geom accepts (no conaffinity has it): geoms that exist only so that MuJoCo
#: compiles their mesh's convex hull, and never touch anything.
_HULL_ONLY_BIT = 1 << 5


@dataclass(frozen=True)
class SceneConfig:
    """Physics and layout constants shared by every task.

    One env step is ``substeps`` physics steps of ``timestep`` seconds: 10 x 2 ms = 20 ms, a
    50 Hz control rate, so an episode of 300 steps lasts 6 s.
    """

    timestep: float = 0.002
    substeps: int = 10
    table_height: float = 0.4
    table_half_extent: tuple[float, float] = (0.6, 0.6)
    robot_base_xy: tuple[float, float] = (-0.55, 0.0)
    object_condim: int = 4
    robot: PandaConfig = field(default_factory=PandaConfig)


@dataclass
class BuiltScene:
    """The compiled model plus the addresses the backends and tasks need."""

    model: mujoco.MjModel
    scene: SceneSpec
    config: SceneConfig
    robot: RobotIndex
    object_names: tuple[str, ...]
    object_qpos_adr: dict[str, int]
    object_qvel_adr: dict[str, int]
    object_mocap_id: dict[str, int]
    object_sizes: dict[str, np.ndarray]
    object_masses: dict[str, float]
    #: Per-env object sizes (randomisation): the factors, and for each of ``SIZE_VARIANT_FIELDS``
    #: its values (variants, ...) in the model where every object's geoms use that factor's
    #: meshes. Those models share ``model``'s layout (it holds every variant's meshes), so a world
    #: takes a variant by copying its rows of these fields.
    size_scales: tuple[float, ...] = ()
    size_variant_values: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def control_dt(self) -> float:
        return self.config.timestep * self.config.substeps


def build_scene(scene: SceneSpec, config: SceneConfig | None = None, size_scales: Sequence[float] = ()) -> BuiltScene:
    """Compile ``scene`` into an MjModel; mesh errors name the scene file and object field.

    ``size_scales``: also compile every object's meshes at these factors of its size, and one
    model per factor (kept: ``BuiltScene.size_variant_values``), for per-env object sizes. Body
    midphase culling is then off: its bounding volumes are compiled once per model and cannot
    follow a world's geoms (each geom's own bounds do).
    """
    config = config or SceneConfig()
    spec = mujoco.MjSpec()
    spec.modelname = scene.task_class_name
    spec.compiler.degree = False
    spec.option.timestep = config.timestep
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    spec.option.cone = mujoco.mjtCone.mjCONE_ELLIPTIC
    spec.option.impratio = 5.0  # stiffer friction: grasped objects do not slip out
    spec.visual.global_.offwidth = 640
    spec.visual.global_.offheight = 480
    spec.visual.quality.shadowsize = 2048
    _add_stage(spec, config)
    robot = add_panda(spec, (*config.robot_base_xy, config.table_height), config.robot)
    sizes, masses = {}, {}
    size_scales = tuple(float(f) for f in size_scales)
    object_geoms: list[tuple[mujoco.MjsGeom, str, np.ndarray]] = []
    for i, obj in enumerate(scene.objects):
        sizes[obj.name] = np.asarray(obj.size)
        object_geoms += _add_object(spec, scene, i, config, size_scales)
    if size_scales:
        spec.option.disableflags |= mujoco.mjtDisableBit.mjDSBL_MIDPHASE
    model = spec.compile()
    variants = _size_variant_values(spec, model, object_geoms, size_scales)
    qpos_adr, qvel_adr, mocap = {}, {}, {}
    for obj in scene.objects:
        body = model.body(obj.name)
        masses[obj.name] = float(model.body_subtreemass[body.id])
        if obj.fixed:
            mocap[obj.name] = int(model.body_mocapid[body.id])
        else:
            joint = model.joint(f"{obj.name}_free")
            qpos_adr[obj.name] = int(joint.qposadr[0])
            qvel_adr[obj.name] = int(joint.dofadr[0])
    return BuiltScene(model, scene, config, robot, tuple(o.name for o in scene.objects),
                      qpos_adr, qvel_adr, mocap, sizes, masses, size_scales, variants)


#: Model fields that differ between size variants and that stepping reads (both backends can
#: give them per-world values). Left shared: ``_UNREAD_SIZE_FIELDS``.
SIZE_VARIANT_FIELDS = ("geom_dataid", "geom_pos", "geom_quat", "geom_aabb", "geom_rbound", "geom_size",
                       "body_ipos", "body_iquat", "body_inertia", "body_mass", "body_invweight0",
                       "body_subtreemass", "dof_invweight0")
#: Fields that differ between size variants too but are not read when stepping: the body bounding
#: volumes (midphase is off), constants derived at qpos0, and tracking-camera/light offsets.
_UNREAD_SIZE_FIELDS = frozenset({"bvh_aabb", "dof_M0", "dof_length", "cam_poscom0", "light_poscom0"})


def _size_variant_values(spec: mujoco.MjSpec, model: mujoco.MjModel,
                         object_geoms: list[tuple[mujoco.MjsGeom, str, np.ndarray]],
                         size_scales: tuple[float, ...]) -> dict[str, np.ndarray]:
    """``SIZE_VARIANT_FIELDS`` of each size variant, stacked (variants, ...). Checks that every
    other field is the one of ``model`` (copying those rows is then the whole difference)."""
    arrays = [n for n in dir(model) if not n.startswith("_") and isinstance(getattr(model, n), np.ndarray)]
    values: dict[str, list[np.ndarray]] = {name: [] for name in SIZE_VARIANT_FIELDS}
    for k, factor in enumerate(size_scales):
        variant = _compile_size_variant(spec, object_geoms, k, factor)
        differ = {n for n in arrays if getattr(variant, n).shape != getattr(model, n).shape
                  or not np.array_equal(getattr(variant, n), getattr(model, n))}
        stray = sorted(differ - _UNREAD_SIZE_FIELDS - set(SIZE_VARIANT_FIELDS))
        if stray:
            raise RuntimeError(f"size variant x{factor}: model fields {stray} differ from the base model but are "
                               "not per-world (SIZE_VARIANT_FIELDS); per-env sizes would be wrong")
        for name in SIZE_VARIANT_FIELDS:
            values[name].append(np.array(getattr(variant, name)))
    return {name: np.stack(v) for name, v in values.items()} if size_scales else {}


def _variant_mesh(mesh_name: str, k: int) -> str:
    return f"{mesh_name}@size{k}"


def _compile_size_variant(spec: mujoco.MjSpec, object_geoms: list[tuple[mujoco.MjsGeom, str, np.ndarray]],
                          k: int, factor: float) -> mujoco.MjModel:
    """The model with every object geom on its variant-``k`` mesh (the spec is left as it was)."""
    for geom, mesh_name, offset in object_geoms:
        geom.meshname, geom.pos = _variant_mesh(mesh_name, k), (offset * factor).tolist()
    try:
        return spec.compile()
    finally:
        for geom, mesh_name, offset in object_geoms:
            geom.meshname, geom.pos = mesh_name, offset.tolist()


def _add_stage(spec: mujoco.MjSpec, config: SceneConfig) -> None:
    """Floor, table, lights and the fixed render camera."""
    spec.add_texture(name="grid", type=mujoco.mjtTexture.mjTEXTURE_2D, builtin=mujoco.mjtBuiltin.mjBUILTIN_CHECKER,
                     rgb1=[0.32, 0.34, 0.38], rgb2=[0.28, 0.3, 0.34], width=256, height=256)
    spec.add_material(name="floor", textures=["", "grid"], texrepeat=[6, 6], reflectance=0.0)
    spec.add_material(name="table", rgba=[0.62, 0.47, 0.33, 1.0])
    world = spec.worldbody
    world.add_light(name="key", pos=[0.4, -0.6, 2.2], dir=[-0.2, 0.3, -1.0], diffuse=[0.7, 0.7, 0.7],
                    castshadow=True)
    world.add_light(name="fill", pos=[-0.8, 0.8, 2.0], dir=[0.3, -0.3, -1.0], diffuse=[0.35, 0.35, 0.35],
                    castshadow=False)
    floor = world.add_geom(name="floor", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[3, 3, 0.1], material="floor")
    hx, hy = config.table_half_extent
    h = config.table_height
    table = world.add_geom(name="table", type=mujoco.mjtGeom.mjGEOM_BOX, size=[hx, hy, h / 2],
                           pos=[0, 0, h / 2], material="table", friction=[0.8, 0.005, 0.0001])
    for geom in (floor, table):
        geom.contype, geom.conaffinity = WORLD_BIT, WORLD_BIT | ROBOT_BIT
    eye = np.array([1.0, 0.8, h + 0.8])
    camera = world.add_camera(name=RENDER_CAMERA, pos=eye.tolist(), fovy=45.0)
    _look_at(camera, eye, np.array([-0.2, 0.0, h + 0.18]))


def _look_at(camera: mujoco.MjsCamera, eye: np.ndarray, target: np.ndarray) -> None:
    forward = target - eye
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    # MuJoCo cameras look along -z with +y up.
    rot = np.stack([right, up, -forward], axis=1)
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, rot.flatten())
    camera.quat = quat.tolist()


def _add_object(spec: mujoco.MjSpec, scene: SceneSpec, index: int, config: SceneConfig,
                size_scales: tuple[float, ...] = ()) -> list[tuple[mujoco.MjsGeom, str, np.ndarray]]:
    """Adds the object's body, visual geom and collision geoms (and their meshes at every factor
    of ``size_scales``); returns (geom, mesh name, position) of each geom."""
    obj = scene.objects[index]
    where = f"objects[{index}].mesh_path"
    source = (scene.source_dir / "scene.json") if scene.source_dir else "<scene>"
    mesh_file = scene.resolve(obj.mesh_path, where)  # refused outside the task folder, links followed
    if not mesh_file.is_file():
        raise SceneSpecError(source, where, f"file not found: {mesh_file}")
    try:
        cached = collision_cache(mesh_file)
        parts = cached.parts
        lo, hi = cached.bounds
    except ValueError as exc:
        raise SceneSpecError(source, where, str(exc)) from None
    extent = np.maximum(hi - lo, 1e-6)
    scale = np.asarray(obj.size) / extent
    offset = -(lo + hi) / 2 * scale  # body frame at the centre of the bounding box
    body = spec.worldbody.add_body(name=obj.name, pos=[0, 0, config.table_height + obj.size[2] / 2 + 0.3 * index])
    if obj.fixed:
        body.mocap = True
    else:
        body.add_freejoint(name=f"{obj.name}_free")
    rgba = list(obj.rgba) if obj.rgba is not None else _object_color(obj.name)

    def add_meshes(mesh_name: str, file: str, collides: bool) -> None:
        spec.add_mesh(name=mesh_name, file=file, scale=scale.tolist())
        variants = [_variant_mesh(mesh_name, k) for k in range(len(size_scales))]
        for variant, factor in zip(variants, size_scales):
            spec.add_mesh(name=variant, file=file, scale=(scale * factor).tolist())
        if collides and variants:
            # MuJoCo computes a mesh's convex hull (what collision needs) only for meshes that a
            # geom uses; so that every model has every hull (one layout for all size variants),
            # each mesh gets a geom far below the floor that touches nothing
            for used in [mesh_name, *variants]:
                anchor = spec.worldbody.add_geom(type=mujoco.mjtGeom.mjGEOM_MESH, meshname=used,
                                                 pos=[0, 0, -10], group=5, density=0.0)
                anchor.contype, anchor.conaffinity = _HULL_ONLY_BIT, 0

    add_meshes(f"{obj.name}_visual", str(mesh_file), collides=False)
    visual = body.add_geom(name=f"{obj.name}_visual", type=mujoco.mjtGeom.mjGEOM_MESH, meshname=f"{obj.name}_visual",
                           pos=offset.tolist(), rgba=rgba, group=2, density=0.0)
    visual.contype = visual.conaffinity = 0
    geoms = [(visual, f"{obj.name}_visual", offset)]
    for k, part in enumerate(parts):
        mesh_name = f"{obj.name}_part{k}"
        add_meshes(mesh_name, str(part), collides=True)
        geom = body.add_geom(name=mesh_name, type=mujoco.mjtGeom.mjGEOM_MESH, meshname=mesh_name,
                             pos=offset.tolist(), density=obj.density, group=3, rgba=[0, 0, 0, 0],
                             friction=[obj.friction, 0.005, 0.0001], condim=config.object_condim)
        geom.contype, geom.conaffinity = WORLD_BIT, WORLD_BIT | ROBOT_BIT
        geoms.append((geom, mesh_name, offset))
    return geoms


_PALETTE = [
    [0.85, 0.33, 0.25, 1], [0.25, 0.55, 0.85, 1], [0.95, 0.8, 0.3, 1], [0.4, 0.75, 0.4, 1],
    [0.7, 0.45, 0.8, 1], [0.95, 0.6, 0.25, 1], [0.3, 0.8, 0.8, 1], [0.9, 0.9, 0.85, 1],
]


def _object_color(name: str) -> list[float]:
    """A stable colour per object name, so videos are consistent across runs."""
    return _PALETTE[sum(map(ord, name)) % len(_PALETTE)]
