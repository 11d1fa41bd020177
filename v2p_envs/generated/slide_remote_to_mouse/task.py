"""Sliding remoter to mouse.

Task Description: slide the TV remote across the table, keeping it on the table (never lifted
more than ~2 cm), until it touches or nearly touches the computer mouse.
Randomizations: the remote and the mouse start on opposite sides of the table (which side is
random), each in a 24 x 8 cm region 18-26 cm from the centre line, so their footprints are at
least ~20 cm apart; both yaws uniform.
Success Conditions: the gap between the remote's and the mouse's footprints (oriented boxes on
the table) is under 2 cm, the remote has moved at least 10 cm, it rests flat on the table near
its starting height and is nearly still, and the mouse has moved less than 5 cm.
"""
import torch

from v2p_envs import Task

scene_info = {
    "task_class_name": "SlideRemoteToMouse",
    "task_title": "sliding remoter to mouse",
    "objects": [{"name": "remote", "size": [0.18, 0.045, 0.022]},
                {"name": "mouse", "size": [0.11, 0.062, 0.036]}],
}


def _yaw(quat):
    w, x, y, z = quat.unbind(-1)
    return torch.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))


def footprint_gap(states):
    """Separation of the two footprints (oriented rectangles) along the best separating axis:
    0 or less when they overlap, and at most the true gap otherwise."""
    d = (states["mouse_pos"] - states["remote_pos"])[:, :2]
    yaws = (_yaw(states["remote_quat"]), _yaw(states["mouse_quat"]))
    halves = (states["remote_size"][:, :2] / 2, states["mouse_size"][:, :2] / 2)
    axes = []
    for yaw in yaws:
        c, s = torch.cos(yaw), torch.sin(yaw)
        axes += [torch.stack((c, s), dim=-1), torch.stack((-s, c), dim=-1)]
    gaps = []
    for axis in axes:
        extent = 0.0
        for yaw, half in zip(yaws, halves):
            c, s = torch.cos(yaw), torch.sin(yaw)
            ex, ey = torch.stack((c, s), dim=-1), torch.stack((-s, c), dim=-1)
            extent = extent + half[:, 0] * (ex * axis).sum(-1).abs() + half[:, 1] * (ey * axis).sum(-1).abs()
        gaps.append((d * axis).sum(-1).abs() - extent)
    return torch.stack(gaps, dim=-1).max(dim=-1).values


class SlideRemoteToMouse(Task):
    task_description = "sliding remoter to mouse"
    spawn_x = (-0.12, 0.12)
    spawn_y = (0.18, 0.26)  # distance from the centre line; the side is drawn per episode

    def reset_objects_states(self, env_ids):
        side = torch.where(self.random_uniform(env_ids) < 0.5, -1.0, 1.0)
        for name, sign in (("remote", side), ("mouse", -side)):
            x = self.random_uniform(env_ids, low=self.spawn_x[0], high=self.spawn_x[1])
            y = sign * self.random_uniform(env_ids, low=self.spawn_y[0], high=self.spawn_y[1])
            self.place_on_table(name, env_ids, torch.stack((x, y), dim=-1), yaw=self.random_yaw(env_ids))

    def compute_observation_key(self, states):
        obs_keys = super().compute_observation_key(states)
        states["eef_to_remote"] = states["remote_pos"] - states["eef_pos"]
        states["remote_to_mouse"] = states["mouse_pos"] - states["remote_pos"]
        states["remote_mouse_gap"] = footprint_gap(states)[:, None]
        obs_keys += ["eef_to_remote", "remote_to_mouse", "remote_mouse_gap"]
        return obs_keys

    def get_observation_space(self):
        return super().get_observation_space() + 7

    def compute_success(self, states):
        remote = states["remote_pos"]
        touching = footprint_gap(states) < 0.02
        moved = torch.norm((remote - states["remote_init_pos"])[:, :2], dim=-1) > 0.10
        on_table = (remote[:, 2] - states["remote_init_pos"][:, 2]).abs() < 0.01
        still = torch.norm(states["remote_vel_linear"], dim=-1) < 0.05
        mouse_kept = torch.norm((states["mouse_pos"] - states["mouse_init_pos"])[:, :2], dim=-1) < 0.05
        return touching & moved & on_table & still & mouse_kept

    def compute_reward(self, actions, states):
        return reward_function(actions, states)


def reward_function(actions, states):
    # type: (Tensor, Dict[str, Tensor]) -> Tuple[Tensor, Dict[str, Tensor]]
    """Chain of thought: get the hand onto the remote and hold it (the fingers closed across it),
    then drag it along the table towards the mouse. Progress is the shrinking footprint gap;
    lifting the remote off the table and shoving the mouse away are penalised.
    """
    remote, eef = states["remote_pos"], states["eef_pos"]
    reach_dist = torch.norm(remote - eef, dim=-1)
    reach_reward = 1.0 - torch.tanh(10.0 * reach_dist)
    near = (reach_dist < 0.03).float()
    hold_reward = 0.5 * near * (1.0 - torch.clamp(states["gripper_width"] / 0.08, 0.0, 1.0))

    gap = torch.clamp(footprint_gap(states), min=0.0)
    start_gap = torch.norm((states["mouse_init_pos"] - states["remote_init_pos"])[:, :2], dim=-1) - 0.145
    progress_reward = 3.0 * torch.clamp(1.0 - gap / start_gap.clamp_min(0.05), 0.0, 1.0)
    touch_reward = 2.0 * (gap < 0.02).float()

    lift = remote[:, 2] - states["remote_init_pos"][:, 2]
    lift_penalty = 5.0 * torch.clamp(lift - 0.005, min=0.0) / 0.02
    mouse_shift = torch.norm((states["mouse_pos"] - states["mouse_init_pos"])[:, :2], dim=-1)
    mouse_penalty = 2.0 * torch.tanh(20.0 * mouse_shift)
    action_penalty = 0.01 * torch.sum(actions[:, :6] ** 2, dim=-1)
    components = {"reach_reward": reach_reward, "hold_reward": hold_reward,
                  "progress_reward": progress_reward, "touch_reward": touch_reward,
                  "lift_penalty": -lift_penalty, "mouse_penalty": -mouse_penalty,
                  "action_penalty": -action_penalty}
    reward = (reach_reward + hold_reward + progress_reward + touch_reward
              - lift_penalty - mouse_penalty - action_penalty)
    return reward, components
