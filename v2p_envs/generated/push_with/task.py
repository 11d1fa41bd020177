"""Push the block with the ruler.

Task Description: pick up the ruler lying on the table and, holding it, push the wooden block
across the table with it; the block itself must not be carried by the gripper.
Randomizations: ruler centre in a 7 x 16 cm region in front of the robot, lying roughly
across the table (yaw 90 +- 23 deg); block 14-20 cm beyond the ruler (+x), within 6 cm of its
centre line sideways, random block yaw.
Success Conditions: the block's centre has moved at least 10 cm (xy) from its start while it
stays on the table (never lifted more than 2 cm), and the ruler is held: the gripper is on
the ruler (the grasp point within the ruler's footprint), closed on it, and the ruler is
off the table.
"""
import math

import torch

from v2p_envs import Task

scene_info = {
    "task_class_name": "PushWith",
    "task_title": "push something with something",
    "objects": [{"name": "ruler", "size": [0.3, 0.03, 0.012]}, {"name": "block", "size": [0.05, 0.05, 0.05]}],
}


def _quat_rotate_inverse(q, v):
    """Rotate world vectors ``v`` into the frame of unit quaternions ``q`` (w-first)."""
    w, xyz = q[:, :1], -q[:, 1:]
    t = 2.0 * torch.cross(xyz, v, dim=-1)
    return v + w * t + torch.cross(xyz, t, dim=-1)


class PushWith(Task):
    task_description = "push something with something"

    def __init__(self, context):
        super().__init__(context)
        self.block_max_lift = torch.zeros(self.num_envs, device=self.device)

    def reset_objects_states(self, env_ids):
        ruler_xy = torch.stack((self.random_uniform(env_ids, low=-0.15, high=-0.08),
                                self.random_uniform(env_ids, low=-0.08, high=0.08)), dim=-1)
        ruler_yaw = math.pi / 2 + self.random_uniform(env_ids, low=-0.4, high=0.4)
        block_xy = ruler_xy + torch.stack((self.random_uniform(env_ids, low=0.14, high=0.20),
                                           self.random_uniform(env_ids, low=-0.06, high=0.06)), dim=-1)
        self.place_on_table("ruler", env_ids, ruler_xy, yaw=ruler_yaw)
        self.place_on_table("block", env_ids, block_xy, yaw=self.random_yaw(env_ids))
        self.block_max_lift[env_ids] = 0.0

    def compute_observation_key(self, states):
        obs_keys = super().compute_observation_key(states)
        states["eef_to_ruler"] = states["ruler_pos"] - states["eef_pos"]
        states["ruler_to_block"] = states["block_pos"] - states["ruler_pos"]
        states["block_displacement"] = states["block_pos"] - states["block_init_pos"]
        obs_keys += ["eef_to_ruler", "ruler_to_block", "block_displacement"]
        return obs_keys

    def get_observation_space(self):
        return super().get_observation_space() + 9

    def compute_success(self, states):
        table = states["table_height"]
        block_lift = states["block_pos"][:, 2] - states["block_init_pos"][:, 2]
        self.block_max_lift = torch.maximum(self.block_max_lift, block_lift)
        moved = torch.norm(states["block_pos"][:, :2] - states["block_init_pos"][:, :2], dim=-1) >= 0.10
        not_carried = self.block_max_lift < 0.02
        local = _quat_rotate_inverse(states["ruler_quat"], states["eef_pos"] - states["ruler_pos"])
        half = states["ruler_size"] / 2
        on_ruler = ((local[:, 0].abs() < half[:, 0]) & (local[:, 1].abs() < half[:, 1] + 0.01)
                    & (local[:, 2].abs() < 0.03))
        closed = states["gripper_width"] < 0.05
        ruler_up = states["ruler_pos"][:, 2] > table + half[:, 2] + 0.005
        return moved & not_carried & on_ruler & closed & ruler_up

    def compute_reward(self, actions, states):
        return reward_function(actions, states)


def reward_function(actions, states):
    # type: (Tensor, Dict[str, Tensor]) -> Tuple[Tensor, Dict[str, Tensor]]
    """Chain of thought: grasp the ruler at its middle, lift it a little, bring it behind the
    block (the side facing the robot) and push the block forwards, keeping hold of the ruler.

    Tool terms (approach, push) count only while the ruler is near the hand, so pushing the
    block with the bare hand earns nothing beyond reaching the ruler; lifting the block is
    penalised.
    """
    table = states["table_height"]
    ruler, block, eef = states["ruler_pos"], states["block_pos"], states["eef_pos"]
    reach_dist = torch.norm(ruler - eef, dim=-1)
    reach_reward = 1.0 - torch.tanh(10.0 * reach_dist)
    holding = (reach_dist < 0.03).float()
    closedness = 1.0 - torch.clamp(states["gripper_width"] / 0.08, 0.0, 1.0)
    grasp_reward = holding * torch.clamp(closedness / 0.6, 0.0, 1.0)
    ruler_lift = ruler[:, 2] - table - states["ruler_size"][:, 2] / 2
    lift_reward = holding * (1.0 - torch.tanh(50.0 * torch.abs(ruler_lift - 0.015)))
    # The ruler's centre should sit 5 cm behind the block (smaller x), at the block's y.
    behind = block - torch.tensor([0.05, 0.0, 0.0], device=block.device)
    tool_dist = torch.norm(behind[:, :2] - ruler[:, :2], dim=-1)
    tool_reward = holding * (1.0 - torch.tanh(8.0 * tool_dist))
    displacement = torch.norm(block[:, :2] - states["block_init_pos"][:, :2], dim=-1)
    push_reward = 3.0 * holding * torch.clamp(displacement / 0.10, 0.0, 1.2)
    block_lift = torch.clamp(block[:, 2] - states["block_init_pos"][:, 2], min=0.0)
    carry_penalty = 20.0 * torch.clamp(block_lift - 0.01, min=0.0)
    action_penalty = 0.01 * torch.sum(actions[:, :6] ** 2, dim=-1)
    components = {"reach_reward": reach_reward, "grasp_reward": grasp_reward, "lift_reward": lift_reward,
                  "tool_reward": tool_reward, "push_reward": push_reward, "carry_penalty": -carry_penalty,
                  "action_penalty": -action_penalty}
    total = reach_reward + grasp_reward + lift_reward + tool_reward + push_reward - carry_penalty - action_penalty
    return total, components
