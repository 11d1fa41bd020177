"""Insert fork into container.

Task Description: pick up the fork lying flat on the table and put it into the open storage
box, so that it ends up lying inside the box.
Randomizations: fork and box positions in a 40 x 50 cm region in front of the robot, at least
2 cm apart (bounding circles); fork yaw uniform; box yaw within +-30 degrees.
Success Conditions: the fork's centre is inside the box's inner footprint (in the box's frame),
below the box's rim and above the table, the fork is at rest and no longer held, and the box
still stands upright.
"""
import math

import torch

from v2p_envs import Task

scene_info = {
    "task_class_name": "InsertFork",
    "task_title": "insert fork into container",
    "objects": [{"name": "fork", "size": [0.19, 0.026, 0.012]},
                {"name": "storage_box", "size": [0.22, 0.16, 0.10]}],
}

BOX_WALL = 0.006  # wall thickness of the storage box


def _yaw(quat):
    w, x, y, z = quat.unbind(-1)
    return torch.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))


def _fork_in_box_frame(states):
    """Fork centre relative to the box centre, expressed along the box's own x and y axes."""
    d = states["fork_pos"] - states["storage_box_pos"]
    yaw = _yaw(states["storage_box_quat"])
    c, s = torch.cos(yaw), torch.sin(yaw)
    local_x = c * d[:, 0] + s * d[:, 1]
    local_y = -s * d[:, 0] + c * d[:, 1]
    return local_x, local_y, d[:, 2]


class InsertFork(Task):
    task_description = "insert fork into container"
    spawn_x = (-0.20, 0.20)
    spawn_y = (-0.25, 0.25)

    def reset_objects_states(self, env_ids):
        xy = self.sample_table_positions(env_ids, ["storage_box", "fork"], self.spawn_x, self.spawn_y)
        box_yaw = self.random_uniform(env_ids, low=-math.pi / 6, high=math.pi / 6)
        self.place_on_table("storage_box", env_ids, xy["storage_box"], yaw=box_yaw)
        self.place_on_table("fork", env_ids, xy["fork"], yaw=self.random_yaw(env_ids))

    def compute_observation_key(self, states):
        obs_keys = super().compute_observation_key(states)
        states["eef_to_fork"] = states["fork_pos"] - states["eef_pos"]
        states["fork_to_storage_box"] = states["storage_box_pos"] - states["fork_pos"]
        obs_keys += ["eef_to_fork", "fork_to_storage_box"]
        return obs_keys

    def get_observation_space(self):
        return super().get_observation_space() + 6

    def compute_success(self, states):
        size = states["storage_box_size"]
        local_x, local_y, dz = _fork_in_box_frame(states)
        inside_xy = (local_x.abs() < size[:, 0] / 2 - BOX_WALL) & (local_y.abs() < size[:, 1] / 2 - BOX_WALL)
        below_rim = dz < size[:, 2] / 2
        still = torch.norm(states["fork_vel_linear"], dim=-1) < 0.05
        released = torch.norm(states["fork_pos"] - states["eef_pos"], dim=-1) > 0.04
        return inside_xy & below_rim & still & released

    def compute_reward(self, actions, states):
        return reward_function(actions, states)


def reward_function(actions, states):
    # type: (Tensor, Dict[str, Tensor]) -> Tuple[Tensor, Dict[str, Tensor]]
    """Chain of thought: reach the fork, close the fingers on it, lift it above the box's rim,
    carry it over the box (aligned with the box's long side so it fits), lower it inside and
    let go. Each stage gates the next so the policy cannot farm a later term early.
    """
    fork, box, eef = states["fork_pos"], states["storage_box_pos"], states["eef_pos"]
    size = states["storage_box_size"]
    table = states["table_height"]
    rim = box[:, 2] + size[:, 2] / 2

    reach_dist = torch.norm(fork - eef, dim=-1)
    reach_reward = 1.0 - torch.tanh(10.0 * reach_dist)
    near = reach_dist < 0.03
    grasp_reward = near.float() * (1.0 - torch.clamp(states["gripper_width"] / 0.08, 0.0, 1.0))

    lifted = (fork[:, 2] - table) > 0.03
    carry_height = torch.clamp((fork[:, 2] - table) / (rim - table + 0.04), 0.0, 1.0)
    lift_reward = near.float() * carry_height

    xy_dist = torch.norm(box[:, :2] - fork[:, :2], dim=-1)
    transport_reward = 2.0 * (lifted | (xy_dist < 0.05)).float() * (1.0 - torch.tanh(5.0 * xy_dist))

    yaw_error = torch.remainder(_yaw(states["fork_quat"]) - _yaw(states["storage_box_quat"]) + math.pi / 2,
                                math.pi) - math.pi / 2
    align_reward = 0.5 * (xy_dist < 0.10).float() * torch.cos(yaw_error) ** 2

    local_x, local_y, dz = _fork_in_box_frame(states)
    inside_xy = (local_x.abs() < size[:, 0] / 2 - 0.006) & (local_y.abs() < size[:, 1] / 2 - 0.006)
    inside = inside_xy & (dz < size[:, 2] / 2)
    insert_reward = 3.0 * inside.float()
    release_reward = 2.0 * inside.float() * torch.clamp(states["gripper_width"] / 0.06, 0.0, 1.0)

    action_penalty = 0.01 * torch.sum(actions[:, :6] ** 2, dim=-1)
    components = {"reach_reward": reach_reward, "grasp_reward": grasp_reward, "lift_reward": lift_reward,
                  "transport_reward": transport_reward, "align_reward": align_reward,
                  "insert_reward": insert_reward, "release_reward": release_reward,
                  "action_penalty": -action_penalty}
    reward = (reach_reward + grasp_reward + lift_reward + transport_reward + align_reward
              + insert_reward + release_reward - action_penalty)
    return reward, components
