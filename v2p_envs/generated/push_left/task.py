"""Push something left.

Task Description: push the snack box to the left (+y) across the table without lifting it.
Randomizations: box position in a 20 x 15 cm region on the right half of the reachable table,
box yaw within +-30 degrees of facing the robot.
Success Conditions: the box has moved at least 15 cm towards +y from where it started, more
to the left than along x, and it rests on the table at its starting height, at rest, never
lifted more than 2 cm during the episode (pushed, not carried or knocked off the table).
"""
import math

import torch

from v2p_envs import Task

scene_info = {
    "task_class_name": "PushLeft",
    "task_title": "push something left",
    "objects": [{"name": "snack_box", "size": [0.12, 0.08, 0.06]}],
}


class PushLeft(Task):
    task_description = "push something left"
    spawn_x = (-0.05, 0.15)
    spawn_y = (-0.2, -0.05)

    def reset_objects_states(self, env_ids):
        xy = self.sample_table_positions(env_ids, ["snack_box"], self.spawn_x, self.spawn_y)["snack_box"]
        yaw = self.random_uniform(env_ids, low=-math.pi / 6, high=math.pi / 6)
        self.place_on_table("snack_box", env_ids, xy, yaw=yaw)

    def compute_observation_key(self, states):
        obs_keys = super().compute_observation_key(states)
        states["eef_to_snack_box"] = states["snack_box_pos"] - states["eef_pos"]
        states["snack_box_displacement"] = states["snack_box_pos"] - states["snack_box_init_pos"]
        obs_keys += ["eef_to_snack_box", "snack_box_displacement"]
        return obs_keys

    def get_observation_space(self):
        return super().get_observation_space() + 6

    def compute_success(self, states):
        disp = states["snack_box_pos"] - states["snack_box_init_pos"]
        # Resting on the table at its starting height (a box knocked off the table is lower), at
        # rest, and pushed rather than carried: never lifted 2 cm this episode.
        on_table = disp[:, 2].abs() < 0.01
        at_rest = torch.norm(states["snack_box_vel_linear"], dim=-1) < 0.1
        never_lifted = states["snack_box_max_height"] - states["snack_box_init_pos"][:, 2] < 0.02
        return (disp[:, 1] > 0.15) & (disp[:, 0].abs() < disp[:, 1]) & on_table & at_rest & never_lifted

    def compute_reward(self, actions, states):
        return reward_function(actions, states)


def reward_function(actions, states):
    # type: (Tensor, Dict[str, Tensor]) -> Tuple[Tensor, Dict[str, Tensor]]
    """Chain of thought: get behind the box on its right (-y) side at a low height, then push it
    towards +y. Progress is the y displacement; lifting the box and drifting in x are penalised.
    """
    box = states["snack_box_pos"]
    disp = box - states["snack_box_init_pos"]
    # Pushing point: just right of the box's centre, low on its side.
    push_point = box + torch.tensor([0.0, -0.07, -0.01], device=box.device)
    dist = torch.norm(push_point - states["eef_pos"], dim=-1)
    # a wide basin (from the start pose) and a sharp one (at the pushing point)
    reach_reward = 0.5 * (1.0 - torch.tanh(3.0 * dist)) + 0.5 * (1.0 - torch.tanh(10.0 * dist))
    progress_reward = 3.0 * torch.clamp(disp[:, 1] / 0.15, -1.0, 1.2)
    lift_penalty = 5.0 * torch.clamp(disp[:, 2] - 0.005, min=0.0) / 0.05
    drift_penalty = 1.0 * torch.tanh(10.0 * disp[:, 0].abs())
    action_penalty = 0.01 * torch.sum(actions[:, :6] ** 2, dim=-1)
    components = {"reach_reward": reach_reward, "progress_reward": progress_reward,
                  "lift_penalty": -lift_penalty, "drift_penalty": -drift_penalty,
                  "action_penalty": -action_penalty}
    reward = reach_reward + progress_reward - lift_penalty - drift_penalty - action_penalty
    return reward, components
