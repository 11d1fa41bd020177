"""Tip something over.

Task Description: tip the standing water bottle over so that it lies on its side on the table.
Randomizations: bottle position in a 20 x 30 cm region in front of the robot, bottle yaw.
Success Conditions: the bottle's axis is nearly horizontal, its centre is low (lying on the
table, not held up) and it is at rest.
"""
import torch

from v2p_envs import Task

scene_info = {
    "task_class_name": "TipOver",
    "task_title": "tip something over",
    "objects": [{"name": "bottle", "size": [0.065, 0.065, 0.2]}],
}


def _up_axis(quat):
    """World direction of an object's local +z axis (quat w-first)."""
    w, x, y, z = quat.unbind(-1)
    return torch.stack((2 * (x * z + w * y), 2 * (y * z - w * x), 1 - 2 * (x * x + y * y)), dim=-1)


class TipOver(Task):
    task_description = "tip something over"
    spawn_x = (-0.1, 0.1)
    spawn_y = (-0.15, 0.15)

    def reset_objects_states(self, env_ids):
        xy = self.sample_table_positions(env_ids, ["bottle"], self.spawn_x, self.spawn_y)["bottle"]
        self.place_on_table("bottle", env_ids, xy, yaw=self.random_yaw(env_ids))

    def compute_observation_key(self, states):
        obs_keys = super().compute_observation_key(states)
        states["eef_to_bottle"] = states["bottle_pos"] - states["eef_pos"]
        states["bottle_up_axis"] = _up_axis(states["bottle_quat"])
        obs_keys += ["eef_to_bottle", "bottle_up_axis"]
        return obs_keys

    def get_observation_space(self):
        return super().get_observation_space() + 6

    def compute_success(self, states):
        lying = _up_axis(states["bottle_quat"])[:, 2].abs() < 0.25
        low = states["bottle_pos"][:, 2] - states["table_height"] < 0.06
        at_rest = torch.norm(states["bottle_vel_linear"], dim=-1) < 0.05
        return lying & low & at_rest

    def compute_reward(self, actions, states):
        return reward_function(actions, states)


def reward_function(actions, states):
    # type: (Tensor, Dict[str, Tensor]) -> Tuple[Tensor, Dict[str, Tensor]]
    """Chain of thought: a tall bottle tips (rather than slides) when pushed high up, so reach a
    point near its top on the robot's side and push forward; reward the tilt of its axis and the
    drop of its centre, and a calm bottle once it lies down.
    """
    bottle = states["bottle_pos"]
    up = _up_axis(states["bottle_quat"])
    # A point 6 cm above the bottle's centre along its axis, 5 cm towards the robot.
    push_point = bottle + 0.06 * up + torch.tensor([-0.05, 0.0, 0.0], device=bottle.device)
    dist = torch.norm(push_point - states["eef_pos"], dim=-1)
    standing = (up[:, 2] > 0.5).float()
    reach_reward = standing * (1.0 - torch.tanh(10.0 * dist))
    tilt_reward = 2.0 * (1.0 - up[:, 2].abs())
    height = bottle[:, 2] - states["table_height"]
    drop_reward = 1.0 * torch.clamp((0.10 - height) / 0.0675, 0.0, 1.0)
    lying = (up[:, 2].abs() < 0.25).float()
    rest_reward = lying * (1.0 - torch.tanh(5.0 * torch.norm(states["bottle_vel_linear"], dim=-1)))
    action_penalty = 0.01 * torch.sum(actions[:, :6] ** 2, dim=-1)
    components = {"reach_reward": reach_reward, "tilt_reward": tilt_reward, "drop_reward": drop_reward,
                  "rest_reward": rest_reward, "action_penalty": -action_penalty}
    reward = reach_reward + tilt_reward + drop_reward + rest_reward - action_penalty
    return reward, components
