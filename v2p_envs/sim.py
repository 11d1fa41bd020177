"""BatchedSim: a backend plus the robot controller, producing the batched ``states`` dict.

This is the only layer that knows MuJoCo field addresses. ``states`` (the keys of
``v2p_envs.state_keys``, float32 on the backend's device) is the simulator's own dict: the
controller and the ground truth read it. Task code gets ``task_states()``, a copy, and a
``TaskContext``; the vector env drives ``refresh``/``apply_action``/``reset_robot``.
"""
from __future__ import annotations

import torch

from .backends import make_backend
from .controller import ControllerConfig, DiffIKController, geometric_jacobian
from .math3d import quat_rotate
from .rng import BatchedRNG
from .scene_builder import BuiltScene

__all__ = ["BatchedSim"]


class BatchedSim:
    """N copies of one scene with their robot controllers and per-env random streams."""

    def __init__(self, built: BuiltScene, num_envs: int, device: torch.device | str = "cpu",
                 backend: str | None = None, controller: ControllerConfig | None = None) -> None:
        self.built = built
        self.backend = make_backend(built, num_envs, device, backend)
        self.device = self.backend.device
        self.num_envs = num_envs
        self.table_height = built.config.table_height
        self.object_names = built.object_names
        self.rng = BatchedRNG(num_envs, self.device)
        model = built.model
        robot = built.robot
        arm_ids = [model.joint(j).id for j in robot.arm_joints]
        self._arm_joint_ids = torch.tensor(arm_ids, device=self.device)
        self._arm_qpos = torch.tensor([int(model.jnt_qposadr[j]) for j in arm_ids], device=self.device)
        self._arm_qvel = torch.tensor([int(model.jnt_dofadr[j]) for j in arm_ids], device=self.device)
        self._finger_qpos = torch.tensor([int(model.joint(j).qposadr[0]) for j in robot.finger_joints],
                                         device=self.device)
        self._arm_act = torch.tensor([model.actuator(a).id for a in robot.arm_actuators], device=self.device)
        self._finger_act = model.actuator(robot.finger_actuator).id
        self._eef_site = model.site(robot.eef_site).id
        self._hand_body = model.body(robot.hand_body).id
        home = torch.tensor(built.config.robot.home_qpos, dtype=torch.float32)
        self.home_qpos = home.to(self.device)
        gains = built.config.robot
        feedforward = torch.tensor(gains.kv) / (torch.tensor(gains.kp) * built.control_dt)
        self.controller = DiffIKController(controller or ControllerConfig(),
                                           torch.as_tensor(robot.joint_limits, dtype=torch.float32),
                                           home, self.table_height, num_envs, self.device, feedforward)
        self.object_sizes = {n: torch.as_tensor(s, dtype=torch.float32, device=self.device)
                             for n, s in built.object_sizes.items()}
        #: Each env's object sizes (N, 3): ``object_sizes`` unless per-env size randomisation
        #: changes them at reset; ``states["<name>_size"]`` is this.
        self.env_object_sizes = {n: s.repeat(num_envs, 1) for n, s in self.object_sizes.items()}
        self.episode_step = torch.zeros(num_envs, dtype=torch.float32, device=self.device)
        self.init_pose = {n: torch.zeros(num_envs, 7, device=self.device) for n in self.object_names}
        # Highest centre height per object since the episode's reset: "was it lifted / carried"
        # is about the whole episode, which one state cannot show.
        self.max_height = {n: torch.zeros(num_envs, device=self.device) for n in self.object_names}
        self._jacobian = torch.zeros(num_envs, 6, 7, device=self.device)
        self.states: dict[str, torch.Tensor] = {}

    # -- placement API used by task reset code -------------------------------------------
    def set_object_pose(self, name: str, env_ids: torch.Tensor, pos: torch.Tensor,
                        quat: torch.Tensor | None = None) -> None:
        """Place object ``name`` in ``env_ids`` at ``pos`` (n, 3), orientation ``quat`` (n, 4), at rest."""
        b = self.backend
        if quat is None:
            quat = torch.zeros(len(env_ids), 4, device=self.device)
            quat[:, 0] = 1.0
        if name in self.built.object_mocap_id:
            mocap = self.built.object_mocap_id[name]
            b.mocap_pos[env_ids, mocap] = pos.to(b.mocap_pos.dtype)
            b.mocap_quat[env_ids, mocap] = quat.to(b.mocap_quat.dtype)
            return
        if name not in self.built.object_qpos_adr:
            raise KeyError(f"no object named {name!r}; objects are {list(self.object_names)}")
        qa, va = self.built.object_qpos_adr[name], self.built.object_qvel_adr[name]
        pose = torch.cat((pos, quat), dim=-1).to(b.qpos.dtype)
        b.qpos[env_ids, qa:qa + 7] = pose
        b.qvel[env_ids, va:va + 6] = 0.0

    # -- env-facing API --------------------------------------------------------------------
    def reset_robot(self, env_ids: torch.Tensor) -> None:
        """Default state for ``env_ids``: robot at home, gripper open, fingers' targets set."""
        b = self.backend
        b.reset(env_ids)
        home = self.home_qpos.to(b.qpos.dtype)
        rows = env_ids[:, None]
        b.qpos[rows, self._arm_qpos] = home
        b.qpos[rows, self._finger_qpos] = self.controller.config.max_finger_opening
        b.ctrl[rows, self._arm_act] = home
        b.ctrl[env_ids, self._finger_act] = self.controller.config.max_finger_opening
        self.episode_step[env_ids] = 0.0

    def finish_reset(self, env_ids: torch.Tensor) -> None:
        """After robot and objects are placed: forward kinematics, controller targets, initial poses."""
        self.backend.forward(env_ids)
        self.refresh()
        self.controller.reset(env_ids, self.states["eef_pos"][env_ids], self.states["eef_quat"][env_ids])
        for name in self.object_names:
            self.init_pose[name][env_ids] = torch.cat(
                (self.states[f"{name}_pos"][env_ids], self.states[f"{name}_quat"][env_ids]), dim=-1)
            self.states[f"{name}_init_pos"] = self.init_pose[name][:, :3]
            self.states[f"{name}_init_quat"] = self.init_pose[name][:, 3:]
            self.max_height[name][env_ids] = self.states[f"{name}_pos"][env_ids, 2]
            self.states[f"{name}_max_height"] = self.max_height[name]

    def apply_action(self, actions: torch.Tensor) -> None:
        """Run the controller on the current state and step the physics one env step."""
        s = self.states
        q = s["joint_pos"]
        q_target, finger = self.controller.compute(actions, q, s["eef_pos"], s["eef_quat"], self._jacobian)
        b = self.backend
        b.ctrl[:, self._arm_act] = q_target.to(b.ctrl.dtype)
        b.ctrl[:, self._finger_act] = finger.to(b.ctrl.dtype)
        b.step()
        self.episode_step += 1.0

    def refresh(self) -> dict[str, torch.Tensor]:
        """Rebuild ``states`` from the backend (float32, leading env dimension)."""
        b = self.backend
        f32 = torch.float32
        qpos = b.qpos.to(f32)
        qvel = b.qvel.to(f32)
        eef_pos = b.site_xpos[:, self._eef_site].to(f32)
        axes = b.xaxis[:, self._arm_joint_ids].to(f32)
        anchors = b.xanchor[:, self._arm_joint_ids].to(f32)
        self._jacobian = geometric_jacobian(axes, anchors, eef_pos)
        arm_qvel = qvel[:, self._arm_qvel]
        n = self.num_envs
        states = {
            "eef_pos": eef_pos,
            "eef_quat": b.xquat[:, self._hand_body].to(f32),
            "eef_vel_linear": (self._jacobian[:, :3] @ arm_qvel[..., None])[..., 0],
            "gripper_width": qpos[:, self._finger_qpos].sum(dim=-1),
            "table_height": torch.full((n,), self.table_height, dtype=f32, device=self.device),
            "joint_pos": qpos[:, self._arm_qpos],
            "episode_step": self.episode_step,
        }
        for name in self.object_names:
            if name in self.built.object_mocap_id:
                mocap = self.built.object_mocap_id[name]
                pos, quat = b.mocap_pos[:, mocap].to(f32), b.mocap_quat[:, mocap].to(f32)
                lin = ang = torch.zeros(n, 3, device=self.device)
            else:
                qa, va = self.built.object_qpos_adr[name], self.built.object_qvel_adr[name]
                pos, quat = qpos[:, qa:qa + 3], qpos[:, qa + 3:qa + 7]
                lin = qvel[:, va:va + 3]
                ang = quat_rotate(quat, qvel[:, va + 3:va + 6])  # MuJoCo gives it in the body frame
            states[f"{name}_pos"] = pos
            states[f"{name}_quat"] = quat
            states[f"{name}_vel_linear"] = lin
            states[f"{name}_vel_angular"] = ang
            states[f"{name}_size"] = self.env_object_sizes[name]
            states[f"{name}_init_pos"] = self.init_pose[name][:, :3]
            states[f"{name}_init_quat"] = self.init_pose[name][:, 3:]
            self.max_height[name] = torch.maximum(self.max_height[name], pos[:, 2])
            states[f"{name}_max_height"] = self.max_height[name]
        self.states = states
        return states

    def task_states(self) -> dict[str, torch.Tensor]:
        """A copy of ``states`` for task code: what it writes (new keys, in-place edits) reaches
        neither the simulator, the controller nor the ground truth."""
        return {k: v.clone() for k, v in self.states.items()}

    def close(self) -> None:
        self.backend.close()
