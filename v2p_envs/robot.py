"""Franka Panda arm with parallel gripper, built into an MjSpec.

Kinematics, joint limits, link masses and meshes come from the Panda URDF that the `pybullet`
wheel ships (pybullet_data/franka_panda, Apache-2.0, no run-time download). We read that URDF
and build the MuJoCo bodies ourselves, because MuJoCo's URDF import keeps one geom per link and
no actuators; here every link gets its visual mesh (group 2, no contact) and its collision hull
(group 3), the fingers get box pads with high friction for stable grasps, and the arm gets
joint position actuators with Panda-like gains and torque limits.
"""
from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import mujoco
import numpy as np

__all__ = ["PandaConfig", "RobotIndex", "add_panda", "panda_asset_dir", "ARM_JOINTS", "FINGER_JOINTS"]

ARM_JOINTS = tuple(f"panda_joint{i}" for i in range(1, 8))
FINGER_JOINTS = ("panda_finger_joint1", "panda_finger_joint2")
EEF_SITE = "eef"
HAND_BODY = "panda_hand"
#: Contact bits: world things (table, objects) are 1, the robot is 2. Robot links never collide
#: with each other, which the position controller and joint limits make safe.
WORLD_BIT, ROBOT_BIT = 1, 2
# Joints 1-3 sit at the base and only ever touch the table; leaving them contact-free saves
# collision work in every step.
_CONTACT_FREE_LINKS = {"panda_link0", "panda_link1", "panda_link2", "panda_link3"}


def panda_asset_dir() -> Path:
    import pybullet_data

    path = Path(pybullet_data.getDataPath()) / "franka_panda"
    if not (path / "panda.urdf").is_file():
        raise FileNotFoundError(f"Panda URDF not found at {path}: reinstall the 'pybullet' package")
    return path


@dataclass(frozen=True)
class PandaConfig:
    """Robot constants. Gains follow the Panda's published joint torque limits (87/12 Nm)."""

    home_qpos: tuple[float, ...] = (0.0, -0.4, 0.0, -2.4, 0.0, 2.0, math.pi / 4)
    kp: tuple[float, ...] = (4500.0, 4500.0, 3500.0, 3500.0, 2000.0, 2000.0, 2000.0)
    # Damping near critical for the links' inertia: the hand tracks a 1.5 m/s command without overshoot.
    kv: tuple[float, ...] = (150.0, 150.0, 120.0, 120.0, 40.0, 40.0, 40.0)
    torque_limit: tuple[float, ...] = (87.0, 87.0, 87.0, 87.0, 12.0, 12.0, 12.0)
    joint_damping: float = 1.0
    armature: float = 0.1
    finger_kp: float = 400.0
    finger_force_limit: float = 70.0
    finger_friction: tuple[float, float, float] = (1.5, 0.02, 0.002)
    max_finger_opening: float = 0.04  # per finger, metres


@dataclass
class RobotIndex:
    """Names of what the backend reads and writes for the robot."""

    arm_joints: tuple[str, ...] = ARM_JOINTS
    finger_joints: tuple[str, ...] = FINGER_JOINTS
    arm_actuators: tuple[str, ...] = tuple(f"act_{j}" for j in ARM_JOINTS)
    finger_actuator: str = "act_fingers"
    eef_site: str = EEF_SITE
    hand_body: str = HAND_BODY
    joint_limits: np.ndarray = field(default_factory=lambda: np.zeros((7, 2)))


def cache_dir() -> Path:
    """Where derived assets go: $V2P_CACHE, else ~/.cache/video2policy."""
    root = Path(os.environ.get("V2P_CACHE", Path.home() / ".cache" / "video2policy"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def _single_object_obj(path: Path) -> Path:
    """The URDF's visual OBJs hold many objects with partial texture coordinates, of which
    MuJoCo's OBJ reader keeps only a few faces; a merged copy without textures keeps them all."""
    out = cache_dir() / "panda_visual" / path.name
    if not out.is_file() or out.stat().st_mtime < path.stat().st_mtime:
        import trimesh

        out.parent.mkdir(parents=True, exist_ok=True)
        mesh = trimesh.load(path, force="mesh", process=False)
        tmp = out.with_suffix(f".{os.getpid()}.tmp.obj")
        mesh.export(tmp, include_texture=False)
        tmp.replace(out)  # atomic: parallel builds never read a half-written file
    return out


def _floats(text: str | None, default: str = "0 0 0") -> list[float]:
    return [float(v) for v in (text or default).split()]


def _rpy_to_quat(rpy: list[float]) -> list[float]:
    quat = np.zeros(4)
    mujoco.mju_euler2Quat(quat, np.asarray(rpy, dtype=float), "XYZ")
    return quat.tolist()


class _Urdf:
    """The few URDF facts we need: link masses/meshes and the joint tree."""

    def __init__(self, path: Path) -> None:
        root = ET.parse(path).getroot()
        self.dir = path.parent
        self.links = {link.get("name"): link for link in root.findall("link")}
        self.joints = root.findall("joint")

    def child_joints(self, link: str) -> list[ET.Element]:
        return [j for j in self.joints if j.find("parent").get("link") == link]

    def mesh(self, link: str, kind: str) -> tuple[Path, list[float]] | None:
        element = self.links[link].find(kind)
        if element is None or element.find("geometry/mesh") is None:
            return None
        rel = element.find("geometry/mesh").get("filename").replace("package://", "")
        origin = element.find("origin")
        rpy = _floats(origin.get("rpy")) if origin is not None else [0.0, 0.0, 0.0]
        return self.dir / rel, _rpy_to_quat(rpy)

    def mass(self, link: str) -> float:
        mass = self.links[link].find("inertial/mass")
        return float(mass.get("value")) if mass is not None else 0.0


def add_panda(spec: mujoco.MjSpec, base_pos: tuple[float, float, float],
              config: PandaConfig | None = None) -> RobotIndex:
    """Add the Panda to ``spec`` with its base at ``base_pos``; returns the names to bind."""
    config = config or PandaConfig()
    urdf = _Urdf(panda_asset_dir() / "panda.urdf")
    index = RobotIndex()
    spec.compiler.degree = False  # every angle here is in radians, as in the URDF
    white = spec.add_material(name="panda_white", rgba=[0.93, 0.93, 0.92, 1.0])
    dark = spec.add_material(name="panda_dark", rgba=[0.18, 0.18, 0.2, 1.0])
    base = spec.worldbody.add_body(name="panda_link0", pos=list(base_pos))
    _add_link_geoms(spec, base, urdf, "panda_link0", white)
    limits = []
    stack = [(base, "panda_link0")]
    while stack:
        parent_body, parent_link = stack.pop()
        for joint in urdf.child_joints(parent_link):
            child = joint.find("child").get("link")
            origin = joint.find("origin")
            pos = _floats(origin.get("xyz")) if origin is not None else [0, 0, 0]
            quat = _rpy_to_quat(_floats(origin.get("rpy"))) if origin is not None else [1, 0, 0, 0]
            body = parent_body.add_body(name=child, pos=pos, quat=quat)
            body.gravcomp = 1.0
            jtype = joint.get("type")
            if jtype in ("revolute", "prismatic"):
                limit = joint.find("limit")
                lo, hi = float(limit.get("lower")), float(limit.get("upper"))
                body.add_joint(
                    name=joint.get("name"),
                    type=mujoco.mjtJoint.mjJNT_HINGE if jtype == "revolute" else mujoco.mjtJoint.mjJNT_SLIDE,
                    axis=_floats(joint.find("axis").get("xyz")), range=[lo, hi], limited=mujoco.mjtLimited.mjLIMITED_TRUE,
                    damping=config.joint_damping if jtype == "revolute" else 10.0,
                    armature=config.armature if jtype == "revolute" else 0.0,
                )
                if jtype == "revolute":
                    limits.append((lo, hi))
            if child.endswith("finger"):
                _add_finger_geoms(body, dark, config)
            else:
                _add_link_geoms(spec, body, urdf, child, dark if child == "panda_link7" else white)
            if child == HAND_BODY:
                body.add_site(name=EEF_SITE, pos=[0, 0, 0.105], size=[0.005, 0, 0], group=4)
            stack.append((body, child))
    index.joint_limits = np.asarray(limits)
    _add_actuators(spec, config, index)
    return index


def _add_link_geoms(spec: mujoco.MjSpec, body: mujoco.MjsBody, urdf: _Urdf, link: str,
                    material: mujoco.MjsMaterial) -> None:
    mass = urdf.mass(link)
    for kind in ("visual", "collision"):
        found = urdf.mesh(link, kind)
        if found is None:
            continue
        path, quat = found
        if kind == "visual":
            path = _single_object_obj(path)
        mesh_name = f"{link}_{kind}"
        spec.add_mesh(name=mesh_name, file=str(path))
        geom = body.add_geom(type=mujoco.mjtGeom.mjGEOM_MESH, meshname=mesh_name, quat=quat,
                             material=material.name)
        if kind == "visual":
            geom.contype = geom.conaffinity = 0
            geom.group = 2
            geom.density = 0.0
        else:
            # The URDF's own inertias are placeholders (0.1 everywhere); take the mass from the
            # URDF and the inertia from the collision hull.
            geom.mass = max(mass, 1e-3)
            geom.group = 3
            contact_free = link in _CONTACT_FREE_LINKS
            geom.contype = 0 if contact_free else ROBOT_BIT
            geom.conaffinity = 0 if contact_free else WORLD_BIT
            geom.rgba = [0, 0, 0, 0]


def _add_finger_geoms(body: mujoco.MjsBody, material: mujoco.MjsMaterial, config: PandaConfig) -> None:
    """A finger as two boxes: an outer body and a high-friction pad on the inner face."""
    mirror = -1.0 if body.name.endswith("rightfinger") else 1.0
    shell = body.add_geom(type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.0095, 0.008, 0.022],
                          pos=[0, mirror * 0.015, 0.024], material=material.name, mass=0.1)
    pad = body.add_geom(type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.0095, 0.004, 0.011],
                        pos=[0, mirror * 0.003, 0.042], material=material.name, mass=0.01)
    for geom in (shell, pad):
        geom.contype, geom.conaffinity = ROBOT_BIT, WORLD_BIT
        geom.condim = 4
        geom.friction = list(config.finger_friction)
        geom.solref = [0.005, 1.0]
        geom.group = 2


def _add_actuators(spec: mujoco.MjSpec, config: PandaConfig, index: RobotIndex) -> None:
    for name, joint, kp, kv, tau, (lo, hi) in zip(index.arm_actuators, index.arm_joints, config.kp,
                                                  config.kv, config.torque_limit, index.joint_limits):
        act = spec.add_actuator(name=name, target=joint, trntype=mujoco.mjtTrn.mjTRN_JOINT)
        act.set_to_position(kp=kp, kv=kv)
        act.ctrlrange = [lo, hi]
        act.forcerange = [-tau, tau]
        act.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
    # One actuator drives both fingers through a tendon; an equality keeps them symmetric.
    tendon = spec.add_tendon(name="finger_split")
    for joint in index.finger_joints:
        tendon.wrap_joint(joint, 0.5)
    spec.add_equality(type=mujoco.mjtEq.mjEQ_JOINT, name1=index.finger_joints[0],
                      name2=index.finger_joints[1], solref=[0.005, 1.0])
    act = spec.add_actuator(name=index.finger_actuator, target="finger_split", trntype=mujoco.mjtTrn.mjTRN_TENDON)
    act.set_to_position(kp=config.finger_kp, kv=40.0)
    act.ctrlrange = [0.0, config.max_finger_opening]
    act.forcerange = [-config.finger_force_limit, config.finger_force_limit]
    act.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
