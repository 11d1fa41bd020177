"""Uncover the dice from under the upside-down cup.

Task Description: a small dice lies under an upside-down cup (opening down); move the cup
away so that the dice is uncovered, leaving the dice on the table.
Randomizations: dice position in a 20 x 30 cm region in front of the robot, dice yaw; the cup
upside down over the dice (its axis within 5 mm of the dice's centre), random cup yaw.
Success Conditions: the cup's axis is more than 8 cm (xy) from the dice's centre, so the dice
is no longer under it, and the dice lies on the table, nearly still, within 8 cm of its start.
"""
import math

import torch

from v2p_envs import Task

scene_info = {
    "task_class_name": "Uncover",
    "task_title": "uncover something from something",
    "objects": [{"name": "dice", "size": [0.03, 0.03, 0.03]}, {"name": "cup", "size": [0.07, 0.07, 0.09]}],
}


def _upside_down_quat(yaw):
    """Cup rotated by ``yaw`` about world z, then flipped 180 deg about its x axis (w-first)."""
    half = yaw / 2
    zeros = torch.zeros_like(yaw)
    return torch.stack((zeros, torch.cos(half), torch.sin(half), zeros), dim=-1)


class Uncover(Task):
    task_description = "uncover something from something"

    def reset_objects_states(self, env_ids):
        dice_xy = torch.stack((self.random_uniform(env_ids, low=-0.08, high=0.12),
                               self.random_uniform(env_ids, low=-0.15, high=0.15)), dim=-1)
        angle = self.random_uniform(env_ids, low=-math.pi, high=math.pi)
        offset = self.random_uniform(env_ids, low=0.0, high=0.005)
        cup_xy = dice_xy + offset[:, None] * torch.stack((torch.cos(angle), torch.sin(angle)), dim=-1)
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
        xy_offset = torch.norm(states["dice_pos"][:, :2] - states["cup_pos"][:, :2], dim=-1)
        dice_on_table = states["dice_pos"][:, 2] < table + states["dice_size"][:, 2] / 2 + 0.01
        dice_still = torch.norm(states["dice_vel_linear"], dim=-1) < 0.05
        dice_stayed = torch.norm(states["dice_pos"][:, :2] - states["dice_init_pos"][:, :2], dim=-1) < 0.08
        return (xy_offset > 0.08) & dice_on_table & dice_still & dice_stayed

    def compute_reward(self, actions, states):
        return reward_function(actions, states)


def reward_function(actions, states):
    # type: (Tensor, Dict[str, Tensor]) -> Tuple[Tensor, Dict[str, Tensor]]
    """Chain of thought: grasp the upturned cup near its top, lift it so its rim clears the dice,
    then carry it sideways away from the dice; the dice itself should not move.

    Lifting and carrying count only while the cup is near the hand; a penalty on the dice's
    displacement discourages dragging the dice along with the cup.
    """
    table = states["table_height"]
    cup, dice, eef = states["cup_pos"], states["dice_pos"], states["eef_pos"]
    cup_half = states["cup_size"][:, 2] / 2
    zeros = torch.zeros_like(table)
    grasp_point = cup + torch.stack((zeros, zeros, cup_half - 0.025), dim=-1)
    reach_dist = torch.norm(grasp_point - eef, dim=-1)
    reach_reward = 1.0 - torch.tanh(10.0 * reach_dist)
    near = (reach_dist < 0.03).float()
    closedness = 1.0 - torch.clamp(states["gripper_width"] / 0.08, 0.0, 1.0)
    grasp_reward = near * torch.clamp(closedness / 0.12, 0.0, 1.0)
    lift = cup[:, 2] - table - cup_half
    lift_reward = near * torch.clamp(lift / 0.05, 0.0, 1.0)
    xy_offset = torch.norm(dice[:, :2] - cup[:, :2], dim=-1)
    carried_or_done = torch.clamp(near + (xy_offset > 0.08).float(), 0.0, 1.0)
    away_reward = 2.0 * torch.clamp(xy_offset / 0.08, 0.0, 1.0) * carried_or_done
    dice_shift = torch.norm(dice[:, :2] - states["dice_init_pos"][:, :2], dim=-1)
    dice_penalty = torch.clamp(dice_shift - 0.02, min=0.0) * 10.0
    action_penalty = 0.01 * torch.sum(actions[:, :6] ** 2, dim=-1)
    components = {"reach_reward": reach_reward, "grasp_reward": grasp_reward, "lift_reward": lift_reward,
                  "away_reward": away_reward, "dice_penalty": -dice_penalty, "action_penalty": -action_penalty}
    total = reach_reward + grasp_reward + lift_reward + away_reward - dice_penalty - action_penalty
    return total, components
