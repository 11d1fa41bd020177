"""Lift up something.

Task Description: pick the kitchen sponge up from the table and hold it up.
Randomizations: sponge position in a 30 x 40 cm region in front of the robot, sponge yaw.
Success Conditions: the sponge is held in the gripper (within 4 cm of the grasp point) with its
centre at least 10 cm above its resting height.
"""
import torch

from v2p_envs import Task

scene_info = {
    "task_class_name": "LiftUp",
    "task_title": "lift up something",
    "objects": [{"name": "sponge", "size": [0.09, 0.06, 0.03]}],
}


def _local_y(quat):
    """World direction of a body's local +y axis (quat w-first): the hand's finger-closing axis."""
    w, x, y, z = quat.unbind(-1)
    return torch.stack((2 * (x * y - w * z), 1 - 2 * (x * x + z * z), 2 * (y * z + w * x)), dim=-1)


def _grasp_yaw_error(states):
    """(sin 2d, cos 2d) of the yaw d between the finger axis and the sponge's 6 cm (y) side.

    Doubled because a two-finger grasp is the same after a half turn; cos 2d = 1 when aligned.
    """
    hand = _local_y(states["eef_quat"])[:, :2]
    side = _local_y(states["sponge_quat"])[:, :2]
    hand = hand / torch.norm(hand, dim=-1, keepdim=True).clamp_min(1e-6)
    side = side / torch.norm(side, dim=-1, keepdim=True).clamp_min(1e-6)
    cos = torch.sum(hand * side, dim=-1)
    sin = hand[:, 0] * side[:, 1] - hand[:, 1] * side[:, 0]
    return torch.stack((2 * sin * cos, cos * cos - sin * sin), dim=-1)


class LiftUp(Task):
    task_description = "lift up something"
    spawn_x = (-0.15, 0.15)
    spawn_y = (-0.2, 0.2)

    def reset_objects_states(self, env_ids):
        xy = self.sample_table_positions(env_ids, ["sponge"], self.spawn_x, self.spawn_y)["sponge"]
        self.place_on_table("sponge", env_ids, xy, yaw=self.random_yaw(env_ids))

    def compute_observation_key(self, states):
        obs_keys = super().compute_observation_key(states)
        states["eef_to_sponge"] = states["sponge_pos"] - states["eef_pos"]
        states["grasp_yaw_error"] = _grasp_yaw_error(states)
        obs_keys += ["eef_to_sponge", "grasp_yaw_error"]
        return obs_keys

    def get_observation_space(self):
        return super().get_observation_space() + 5

    def compute_success(self, states):
        dist = torch.norm(states["sponge_pos"] - states["eef_pos"], dim=-1)
        lift = states["sponge_pos"][:, 2] - states["sponge_init_pos"][:, 2]
        return (dist < 0.04) & (lift > 0.10)

    def compute_reward(self, actions, states):
        return reward_function(actions, states)


def reward_function(actions, states):
    # type: (Tensor, Dict[str, Tensor]) -> Tuple[Tensor, Dict[str, Tensor]]
    """Chain of thought: reach the sponge, turn the hand so the fingers close across its 6 cm
    side (the 9 cm side is wider than the open gripper), close on it, lift it 10 cm, keep it there.

    Closing counts only at the sponge's width (fingers closed on nothing earn nothing), and
    the lift counts only while the sponge is held that way (not knocked up).
    """
    dist = torch.norm(states["sponge_pos"] - states["eef_pos"], dim=-1)
    # a wide basin (from the start pose) and a sharp one (at the sponge)
    reach_reward = 0.5 * (1.0 - torch.tanh(3.0 * dist)) + 0.5 * (1.0 - torch.tanh(10.0 * dist))
    aligned = 0.5 * (1.0 + _grasp_yaw_error(states)[:, 1])  # cos^2 of the yaw error
    align_reward = 0.5 * aligned * (1.0 - torch.tanh(5.0 * dist))
    near = (dist < 0.03).float()
    width = states["sponge_size"][:, :2].min(dim=-1).values
    on_sponge = torch.exp(-(((states["gripper_width"] - width) / 0.01) ** 2))  # 1 when closed on it
    grasp_reward = near * on_sponge
    lift = states["sponge_pos"][:, 2] - states["sponge_init_pos"][:, 2]
    lift_reward = grasp_reward * torch.clamp(lift / 0.10, 0.0, 1.2) * 3.0
    action_penalty = 0.01 * torch.sum(actions[:, :6] ** 2, dim=-1)
    components = {"reach_reward": reach_reward, "align_reward": align_reward, "grasp_reward": grasp_reward,
                  "lift_reward": lift_reward, "action_penalty": -action_penalty}
    return reach_reward + align_reward + grasp_reward + lift_reward - action_penalty, components
