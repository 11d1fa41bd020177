"""Reach a block.

Task Description: move the gripper to the wooden block on the table.
Randomizations: block position in a 30 x 40 cm region in front of the robot, block yaw.
Success Conditions: the grasp point between the fingers is within 3 cm of the block's centre.
"""
import torch

from v2p_envs import Task

scene_info = {
    "task_class_name": "ReachBlock",
    "task_title": "reach a block",
    "objects": [{"name": "block", "size": [0.05, 0.05, 0.05]}],
}


class ReachBlock(Task):
    task_description = "reach a block"

    def reset_objects_states(self, env_ids):
        return super().reset_objects_states(env_ids)

    def compute_observation_key(self, states):
        obs_keys = super().compute_observation_key(states)
        states["eef_to_block"] = states["block_pos"] - states["eef_pos"]
        obs_keys.append("eef_to_block")
        return obs_keys

    def get_observation_space(self):
        return super().get_observation_space() + 3

    def compute_success(self, states):
        return torch.norm(states["block_pos"] - states["eef_pos"], dim=-1) < 0.03

    def compute_reward(self, actions, states):
        return reward_function(actions, states)


def reward_function(actions, states):
    # type: (Tensor, Dict[str, Tensor]) -> Tuple[Tensor, Dict[str, Tensor]]
    """Chain of thought: approach the block; a dense distance term, a small action penalty."""
    dist = torch.norm(states["block_pos"] - states["eef_pos"], dim=-1)
    reach_reward = 1.0 - torch.tanh(10.0 * dist)
    action_penalty = 0.01 * torch.sum(actions[:, :6] ** 2, dim=-1)
    components = {"reach_reward": reach_reward, "action_penalty": -action_penalty}
    return reach_reward - action_penalty, components
