"""Grasp a block.

Task Description: grasp the wooden block on the table between the fingers and hold it up.
Randomizations: block position in a 30 x 40 cm region in front of the robot, block yaw.
Success Conditions: the block is between the fingers (within 3 cm of the grasp point, gripper
closed on it) and its centre is at least 5 cm above its resting height.
"""
import torch

from v2p_envs import Task

scene_info = {
    "task_class_name": "GraspBlock",
    "task_title": "grasp a block",
    "objects": [{"name": "block", "size": [0.05, 0.05, 0.05]}],
}


class GraspBlock(Task):
    task_description = "grasp a block"
    spawn_x = (-0.15, 0.15)
    spawn_y = (-0.2, 0.2)

    def reset_objects_states(self, env_ids):
        xy = self.sample_table_positions(env_ids, ["block"], self.spawn_x, self.spawn_y)["block"]
        self.place_on_table("block", env_ids, xy, yaw=self.random_yaw(env_ids))

    def compute_observation_key(self, states):
        obs_keys = super().compute_observation_key(states)
        states["eef_to_block"] = states["block_pos"] - states["eef_pos"]
        obs_keys.append("eef_to_block")
        return obs_keys

    def get_observation_space(self):
        return super().get_observation_space() + 3

    def compute_success(self, states):
        dist = torch.norm(states["block_pos"] - states["eef_pos"], dim=-1)
        lift = states["block_pos"][:, 2] - states["block_init_pos"][:, 2]
        closed_on_block = (states["gripper_width"] > 0.03) & (states["gripper_width"] < 0.06)
        return (dist < 0.03) & closed_on_block & (lift > 0.05)

    def compute_reward(self, actions, states):
        return reward_function(actions, states)


def reward_function(actions, states):
    # type: (Tensor, Dict[str, Tensor]) -> Tuple[Tensor, Dict[str, Tensor]]
    """Chain of thought: reach the block, close the gripper once there, then lift it 5 cm+.

    The grasp term rewards closing only near the block; the lift term counts only while the block
    is near the hand, so pushing or flicking the block up is not rewarded.
    """
    dist = torch.norm(states["block_pos"] - states["eef_pos"], dim=-1)
    reach_reward = 1.0 - torch.tanh(10.0 * dist)
    near = (dist < 0.03).float()
    closedness = 1.0 - torch.clamp(states["gripper_width"] / 0.08, 0.0, 1.0)
    grasp_reward = near * closedness
    lift = states["block_pos"][:, 2] - states["block_init_pos"][:, 2]
    lift_reward = near * torch.clamp(lift / 0.05, 0.0, 1.2) * 2.0
    action_penalty = 0.01 * torch.sum(actions[:, :6] ** 2, dim=-1)
    components = {"reach_reward": reach_reward, "grasp_reward": grasp_reward,
                  "lift_reward": lift_reward, "action_penalty": -action_penalty}
    return reach_reward + grasp_reward + lift_reward - action_penalty, components
