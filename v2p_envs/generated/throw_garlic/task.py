"""Throw garlic into bowl.

Task Description: pick up the garlic bulb and throw it into the bowl, which stands beyond the
arm's comfortable reach, so the garlic has to be released in flight.
Randomizations: garlic position in a 15 x 30 cm region close to the robot; bowl centre 0.72 to
0.82 m from the robot's base, within +-20 degrees of straight ahead.
Success Conditions: the garlic lies in the bowl (horizontally within the bowl's inner radius,
below its rim, above the table), is nearly still, and the hand is away from it (it was let go).
"""
import math

import torch

from v2p_envs import Task

scene_info = {
    "task_class_name": "ThrowGarlic",
    "task_title": "throw garlic into bowl",
    "objects": [{"name": "garlic", "size": [0.05, 0.05, 0.045]},
                {"name": "bowl", "size": [0.16, 0.16, 0.065]}],
}

ROBOT_BASE_XY = (-0.55, 0.0)
BOWL_WALL = 0.006


class ThrowGarlic(Task):
    task_description = "throw garlic into bowl"
    spawn_x = (-0.20, -0.05)
    spawn_y = (-0.15, 0.15)
    bowl_distance = (0.72, 0.82)  # from the robot's base
    bowl_bearing = (-math.pi / 9, math.pi / 9)

    def reset_objects_states(self, env_ids):
        garlic_xy = self.sample_table_positions(env_ids, ["garlic"], self.spawn_x, self.spawn_y)["garlic"]
        self.place_on_table("garlic", env_ids, garlic_xy, yaw=self.random_yaw(env_ids))
        dist = self.random_uniform(env_ids, low=self.bowl_distance[0], high=self.bowl_distance[1])
        bearing = self.random_uniform(env_ids, low=self.bowl_bearing[0], high=self.bowl_bearing[1])
        bowl_xy = torch.stack((ROBOT_BASE_XY[0] + dist * torch.cos(bearing),
                               ROBOT_BASE_XY[1] + dist * torch.sin(bearing)), dim=-1)
        self.place_on_table("bowl", env_ids, bowl_xy, yaw=self.random_yaw(env_ids))

    def compute_observation_key(self, states):
        obs_keys = super().compute_observation_key(states)
        states["eef_to_garlic"] = states["garlic_pos"] - states["eef_pos"]
        states["garlic_to_bowl"] = states["bowl_pos"] - states["garlic_pos"]
        obs_keys += ["eef_vel_linear", "eef_to_garlic", "garlic_to_bowl"]
        return obs_keys

    def get_observation_space(self):
        return super().get_observation_space() + 9

    def compute_success(self, states):
        garlic, bowl = states["garlic_pos"], states["bowl_pos"]
        inner_radius = states["bowl_size"][:, 0] / 2 - BOWL_WALL
        in_bowl = torch.norm(garlic[:, :2] - bowl[:, :2], dim=-1) < inner_radius
        below_rim = (garlic[:, 2] < bowl[:, 2] + states["bowl_size"][:, 2] / 2) & (garlic[:, 2] > states["table_height"])
        still = torch.norm(states["garlic_vel_linear"], dim=-1) < 0.05
        released = torch.norm(garlic - states["eef_pos"], dim=-1) > 0.10
        return in_bowl & below_rim & still & released

    def compute_reward(self, actions, states):
        return reward_function(actions, states)


def reward_function(actions, states):
    # type: (Tensor, Dict[str, Tensor]) -> Tuple[Tensor, Dict[str, Tensor]]
    """Chain of thought: grasp the garlic and lift it; the bowl is out of reach, so the garlic
    must fly: reward the garlic's velocity pointing at the bowl while it is up in the air, and
    above all the garlic ending close to and then inside the bowl. Reaching and grasping terms
    lead the policy to the garlic first.
    """
    garlic, bowl, eef = states["garlic_pos"], states["bowl_pos"], states["eef_pos"]
    table = states["table_height"]
    reach_dist = torch.norm(garlic - eef, dim=-1)
    reach_reward = 1.0 - torch.tanh(10.0 * reach_dist)
    near = (reach_dist < 0.03).float()
    grasp_reward = 0.5 * near * (1.0 - torch.clamp(states["gripper_width"] / 0.08, 0.0, 1.0))
    height = garlic[:, 2] - table
    lift_reward = near * torch.clamp(height / 0.2, 0.0, 1.0)

    to_bowl = bowl[:, :2] - garlic[:, :2]
    bowl_dist = torch.norm(to_bowl, dim=-1)
    direction = to_bowl / bowl_dist.clamp_min(1e-6)[:, None]
    airborne = (height > 0.05).float()
    toss_reward = airborne * torch.tanh(torch.sum(states["garlic_vel_linear"][:, :2] * direction, dim=-1))
    travelled = torch.norm(garlic[:, :2] - states["garlic_init_pos"][:, :2], dim=-1)
    start_dist = torch.norm(bowl[:, :2] - states["garlic_init_pos"][:, :2], dim=-1)
    progress_reward = 2.0 * torch.clamp(travelled / start_dist.clamp_min(0.1), 0.0, 1.0) * \
        (1.0 - torch.tanh(5.0 * bowl_dist))
    inner_radius = states["bowl_size"][:, 0] / 2 - 0.006
    in_bowl = (bowl_dist < inner_radius) & (garlic[:, 2] < bowl[:, 2] + states["bowl_size"][:, 2] / 2)
    in_bowl_reward = 5.0 * in_bowl.float()
    action_penalty = 0.01 * torch.sum(actions[:, :6] ** 2, dim=-1)
    components = {"reach_reward": reach_reward, "grasp_reward": grasp_reward, "lift_reward": lift_reward,
                  "toss_reward": toss_reward, "progress_reward": progress_reward,
                  "in_bowl_reward": in_bowl_reward, "action_penalty": -action_penalty}
    reward = (reach_reward + grasp_reward + lift_reward + toss_reward + progress_reward
              + in_bowl_reward - action_penalty)
    return reward, components
