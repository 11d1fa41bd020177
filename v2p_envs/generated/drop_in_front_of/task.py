"""Drop the block in front of the bowl.

Task Description: pick up the wooden block, carry it to the robot's side of the bowl and
drop it there, so that it comes to rest on the table in front of the bowl (not in it).
Randomizations: bowl position in an 11 x 16 cm region in front of the robot, bowl yaw; the
block 15-19 cm to the left or right of the bowl, 0-15 cm nearer the robot than it; block yaw.
Success Conditions: the block was lifted at least 4 cm during the episode and released (the
gripper is more than 5 cm away); it rests on the table, nearly still, with its centre
5-15 cm in front of the bowl's front edge (smaller x) and within the bowl's width sideways.
"""
import torch

from v2p_envs import Task

scene_info = {
    "task_class_name": "DropInFrontOf",
    "task_title": "drop something in front of something",
    "objects": [{"name": "block", "size": [0.05, 0.05, 0.05]}, {"name": "bowl", "size": [0.16, 0.16, 0.065]}],
}


class DropInFrontOf(Task):
    task_description = "drop something in front of something"

    def __init__(self, context):
        super().__init__(context)
        self.block_max_lift = torch.zeros(self.num_envs, device=self.device)

    def reset_objects_states(self, env_ids):
        bowl_xy = torch.stack((self.random_uniform(env_ids, low=0.05, high=0.16),
                               self.random_uniform(env_ids, low=-0.08, high=0.08)), dim=-1)
        side = torch.where(self.random_uniform(env_ids) < 0.5, -1.0, 1.0)
        block_xy = bowl_xy + torch.stack((self.random_uniform(env_ids, low=-0.15, high=0.0),
                                          side * self.random_uniform(env_ids, low=0.15, high=0.19)), dim=-1)
        self.place_on_table("bowl", env_ids, bowl_xy, yaw=self.random_yaw(env_ids))
        self.place_on_table("block", env_ids, block_xy, yaw=self.random_yaw(env_ids))
        self.block_max_lift[env_ids] = 0.0

    def compute_observation_key(self, states):
        obs_keys = super().compute_observation_key(states)
        states["eef_to_block"] = states["block_pos"] - states["eef_pos"]
        states["block_to_bowl"] = states["bowl_pos"] - states["block_pos"]
        obs_keys += ["eef_to_block", "block_to_bowl"]
        return obs_keys

    def get_observation_space(self):
        return super().get_observation_space() + 6

    def compute_success(self, states):
        table = states["table_height"]
        block, bowl = states["block_pos"], states["bowl_pos"]
        self.block_max_lift = torch.maximum(self.block_max_lift, block[:, 2] - states["block_init_pos"][:, 2])
        bowl_radius = states["bowl_size"][:, 0] / 2
        in_front = (bowl[:, 0] - bowl_radius) - block[:, 0]
        zone = (in_front > 0.05) & (in_front < 0.15) & ((block[:, 1] - bowl[:, 1]).abs() < bowl_radius)
        resting = (block[:, 2] < table + states["block_size"][:, 2] / 2 + 0.01) & \
                  (torch.norm(states["block_vel_linear"], dim=-1) < 0.05)
        released = torch.norm(states["eef_pos"] - block, dim=-1) > 0.05
        return zone & resting & released & (self.block_max_lift > 0.04)

    def compute_reward(self, actions, states):
        return reward_function(actions, states)


def reward_function(actions, states):
    # type: (Tensor, Dict[str, Tensor]) -> Tuple[Tensor, Dict[str, Tensor]]
    """Chain of thought: grasp the block, lift it about 8 cm, carry it over the spot 10 cm in
    front of the bowl's front edge (smaller x), open the gripper there, and move the hand away.

    Carrying terms count only while the block is in the hand; once the block is over the spot
    the reward favours an open gripper; a block in the bowl is penalised.
    """
    block, bowl, eef = states["block_pos"], states["bowl_pos"], states["eef_pos"]
    reach_dist = torch.norm(block - eef, dim=-1)
    reach_reward = 1.0 - torch.tanh(10.0 * reach_dist)
    held = (reach_dist < 0.03).float()
    closedness = 1.0 - torch.clamp(states["gripper_width"] / 0.08, 0.0, 1.0)
    grasp_reward = held * torch.clamp(closedness / 0.35, 0.0, 1.0)
    lift = block[:, 2] - states["block_init_pos"][:, 2]
    lift_reward = held * torch.clamp(lift / 0.08, 0.0, 1.0)
    bowl_radius = states["bowl_size"][:, 0] / 2
    goal_xy = torch.stack((bowl[:, 0] - bowl_radius - 0.10, bowl[:, 1]), dim=-1)
    goal_dist = torch.norm(goal_xy - block[:, :2], dim=-1)
    carry_reward = 2.0 * (1.0 - torch.tanh(6.0 * goal_dist)) * held * (lift > 0.02).float()  # carried, not pushed
    at_goal = (goal_dist < 0.04).float()
    openness = torch.clamp(states["gripper_width"] / 0.08, 0.0, 1.0)
    release_reward = at_goal * openness * (1.0 - held * (lift < 0.02).float())
    in_bowl = (torch.norm(block[:, :2] - bowl[:, :2], dim=-1) < bowl_radius).float()
    bowl_penalty = 2.0 * in_bowl
    action_penalty = 0.01 * torch.sum(actions[:, :6] ** 2, dim=-1)
    components = {"reach_reward": reach_reward, "grasp_reward": grasp_reward, "lift_reward": lift_reward,
                  "carry_reward": carry_reward, "release_reward": release_reward, "bowl_penalty": -bowl_penalty,
                  "action_penalty": -action_penalty}
    total = reach_reward + grasp_reward + lift_reward + carry_reward + release_reward - bowl_penalty - action_penalty
    return total, components
