"""Cover the dice with the upside-down cup.

Task Description: the cup stands upside down (opening down) on the table beside a small dice;
pick the cup up, carry it over the dice and set it down so that the dice is inside it.
Randomizations: dice position in a 15 x 24 cm region in front of the robot, dice yaw; the cup
14-18 cm from the dice in a random direction, upside down, random yaw.
Success Conditions: the cup is upside down and resting on the table (its centre at half its
height above the table, nearly still), and the dice's centre is within 2.5 cm (xy) of the
cup's axis, i.e. inside its 3 cm inner radius, with the dice still on the table.
"""
import math

import torch

from v2p_envs import Task

scene_info = {
    "task_class_name": "Cover",
    "task_title": "cover something with something",
    "objects": [{"name": "dice", "size": [0.03, 0.03, 0.03]}, {"name": "cup", "size": [0.07, 0.07, 0.09]}],
}

def _upside_down_quat(yaw):
    """Cup rotated by ``yaw`` about world z, then flipped 180 deg about its x axis (w-first)."""
    half = yaw / 2
    zeros = torch.zeros_like(yaw)
    # (cos h, 0, 0, sin h) * (0, 1, 0, 0) = (0, cos h, sin h, 0)
    return torch.stack((zeros, torch.cos(half), torch.sin(half), zeros), dim=-1)


def _up_component(quat):
    """World-z component of the object's local z axis (+1 upright, -1 upside down)."""
    x, y = quat[:, 1], quat[:, 2]
    return 1.0 - 2.0 * (x * x + y * y)


class Cover(Task):
    task_description = "cover something with something"

    def reset_objects_states(self, env_ids):
        dice_xy = torch.stack((self.random_uniform(env_ids, low=-0.05, high=0.10),
                               self.random_uniform(env_ids, low=-0.12, high=0.12)), dim=-1)
        angle = self.random_uniform(env_ids, low=-math.pi, high=math.pi)
        dist = self.random_uniform(env_ids, low=0.14, high=0.18)
        cup_xy = dice_xy + dist[:, None] * torch.stack((torch.cos(angle), torch.sin(angle)), dim=-1)
        self.place_on_table("dice", env_ids, dice_xy, yaw=self.random_yaw(env_ids))
        cup_height = self.object_size("cup", env_ids)[:, 2] / 2
        self.place_on_table("cup", env_ids, cup_xy, quat=_upside_down_quat(self.random_yaw(env_ids)),
                            height=cup_height)

    def compute_observation_key(self, states):
        obs_keys = super().compute_observation_key(states)
        states["eef_to_cup"] = states["cup_pos"] - states["eef_pos"]
        states["cup_to_dice"] = states["dice_pos"] - states["cup_pos"]
        obs_keys += ["eef_to_cup", "cup_to_dice"]
        return obs_keys

    def get_observation_space(self):
        return super().get_observation_space() + 6

    def compute_success(self, states):
        table = states["table_height"]
        cup_half = states["cup_size"][:, 2] / 2
        upside_down = _up_component(states["cup_quat"]) < -0.95
        resting = torch.abs(states["cup_pos"][:, 2] - table - cup_half) < 0.01
        still = torch.norm(states["cup_vel_linear"], dim=-1) < 0.05
        xy_offset = torch.norm(states["dice_pos"][:, :2] - states["cup_pos"][:, :2], dim=-1)
        dice_on_table = states["dice_pos"][:, 2] < table + states["dice_size"][:, 2] / 2 + 0.01
        return upside_down & resting & still & (xy_offset < 0.025) & dice_on_table

    def compute_reward(self, actions, states):
        return reward_function(actions, states)


def reward_function(actions, states):
    # type: (Tensor, Dict[str, Tensor]) -> Tuple[Tensor, Dict[str, Tensor]]
    """Chain of thought: grasp the cup near its (upturned) bottom, lift it clear of the dice,
    bring its axis over the dice, then lower it onto the table and let go.

    The grasp point sits 2.5 cm below the top of the upturned cup. Carrying is rewarded only
    while the cup is near the hand; the placing term rewards a low cup once it is over the dice,
    and the flip penalty keeps the opening down.
    """
    table = states["table_height"]
    cup, dice, eef = states["cup_pos"], states["dice_pos"], states["eef_pos"]
    cup_half = states["cup_size"][:, 2] / 2
    grasp_point = cup + torch.stack((torch.zeros_like(table), torch.zeros_like(table), cup_half - 0.025), dim=-1)
    reach_dist = torch.norm(grasp_point - eef, dim=-1)
    reach_reward = 1.0 - torch.tanh(10.0 * reach_dist)
    near = (reach_dist < 0.03).float()
    closedness = 1.0 - torch.clamp(states["gripper_width"] / 0.08, 0.0, 1.0)
    grasp_reward = near * torch.clamp(closedness / 0.12, 0.0, 1.0)  # closed on a 7 cm cup
    xy_err = torch.norm(dice[:, :2] - cup[:, :2], dim=-1)
    lift = cup[:, 2] - table - cup_half
    far = (xy_err > 0.02).float()
    over = (xy_err < 0.02).float()
    clear_reward = near * far * torch.clamp(lift / 0.05, 0.0, 1.0)  # lift over the dice's 3 cm
    # Only a carried cup (or one already over the dice) earns alignment: sliding it would shove the dice.
    align_reward = 2.0 * (1.0 - torch.tanh(8.0 * xy_err)) * torch.clamp(near * (lift > 0.02).float() + over, 0.0, 1.0)
    lower_reward = 2.0 * over * (1.0 - torch.tanh(20.0 * torch.clamp(lift, min=0.0)))
    release_reward = over * (lift < 0.01).float() * torch.clamp(states["gripper_width"] / 0.08, 0.0, 1.0)
    up = 1.0 - 2.0 * (states["cup_quat"][:, 1] ** 2 + states["cup_quat"][:, 2] ** 2)
    flip_penalty = torch.clamp(up + 0.9, min=0.0)
    action_penalty = 0.01 * torch.sum(actions[:, :6] ** 2, dim=-1)
    components = {"reach_reward": reach_reward, "grasp_reward": grasp_reward, "clear_reward": clear_reward,
                  "align_reward": align_reward, "lower_reward": lower_reward, "release_reward": release_reward,
                  "flip_penalty": -flip_penalty, "action_penalty": -action_penalty}
    total = (reach_reward + grasp_reward + clear_reward + align_reward + lower_reward + release_reward
             - flip_penalty - action_penalty)
    return total, components
