"""Push the sponge next to the cup.

Task Description: push the sponge across the table until it lies next to the standing cup:
close to it but not on top of it, without knocking the cup over.
Randomizations: sponge position in a 14 x 20 cm region in front of the robot, sponge yaw; the
cup 22-27 cm from the sponge in a random direction that does not point back at the robot
(within 115 deg of +x), upright, random yaw.
Success Conditions: the gap between the sponge's and the cup's footprints (world-aligned
bounding rectangles) is under 4 cm, the sponge lies flat on the table (not on the cup) and is
nearly still, and the cup still stands upright on the table.
"""
import torch

from v2p_envs import Task

scene_info = {
    "task_class_name": "PushNextTo",
    "task_title": "push something next to something",
    "objects": [{"name": "sponge", "size": [0.09, 0.06, 0.03]}, {"name": "cup", "size": [0.07, 0.07, 0.09]}],
}


def _footprint_half(quat, size):
    """Half extents (x, y) of the world-aligned rectangle around an upright box of ``size``."""
    w, x, y, z = quat.unbind(-1)
    yaw = torch.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
    c, s = torch.cos(yaw).abs(), torch.sin(yaw).abs()
    hx, hy = size[:, 0] / 2, size[:, 1] / 2
    return torch.stack((c * hx + s * hy, s * hx + c * hy), dim=-1)


def _footprint_gap(states):
    """Distance between the sponge's and the cup's world-aligned footprint rectangles."""
    half = _footprint_half(states["sponge_quat"], states["sponge_size"]) + states["cup_size"][:, :2] / 2
    sep = torch.clamp((states["sponge_pos"][:, :2] - states["cup_pos"][:, :2]).abs() - half, min=0.0)
    return torch.norm(sep, dim=-1)


class PushNextTo(Task):
    task_description = "push something next to something"

    def reset_objects_states(self, env_ids):
        sponge_xy = torch.stack((self.random_uniform(env_ids, low=-0.12, high=0.02),
                                 self.random_uniform(env_ids, low=-0.10, high=0.10)), dim=-1)
        angle = self.random_uniform(env_ids, low=-2.0, high=2.0)
        dist = self.random_uniform(env_ids, low=0.22, high=0.27)
        cup_xy = sponge_xy + dist[:, None] * torch.stack((torch.cos(angle), torch.sin(angle)), dim=-1)
        self.place_on_table("sponge", env_ids, sponge_xy, yaw=self.random_yaw(env_ids))
        self.place_on_table("cup", env_ids, cup_xy, yaw=self.random_yaw(env_ids))

    def compute_observation_key(self, states):
        obs_keys = super().compute_observation_key(states)
        states["eef_to_sponge"] = states["sponge_pos"] - states["eef_pos"]
        states["sponge_to_cup"] = states["cup_pos"] - states["sponge_pos"]
        obs_keys += ["eef_to_sponge", "sponge_to_cup"]
        return obs_keys

    def get_observation_space(self):
        return super().get_observation_space() + 6

    def compute_success(self, states):
        table = states["table_height"]
        close = _footprint_gap(states) < 0.04
        sponge_flat = states["sponge_pos"][:, 2] < table + states["sponge_size"][:, 2] / 2 + 0.01
        sponge_still = torch.norm(states["sponge_vel_linear"], dim=-1) < 0.05
        q = states["cup_quat"]
        cup_upright = (1.0 - 2.0 * (q[:, 1] ** 2 + q[:, 2] ** 2)) > 0.9
        cup_on_table = states["cup_pos"][:, 2] < table + states["cup_size"][:, 2] / 2 + 0.01
        return close & sponge_flat & sponge_still & cup_upright & cup_on_table

    def compute_reward(self, actions, states):
        return reward_function(actions, states)


def reward_function(actions, states):
    # type: (Tensor, Dict[str, Tensor]) -> Tuple[Tensor, Dict[str, Tensor]]
    """Chain of thought: put the hand low behind the sponge (on the side away from the cup) and
    push it along the line towards the cup, stopping about 2 cm short of the cup.

    The behind-point moves with the sponge, so reaching it is also the pushing posture; the
    progress term is the shrinking gap; the cup must stay upright and where it was.
    """
    table = states["table_height"]
    sponge, cup, eef = states["sponge_pos"], states["cup_pos"], states["eef_pos"]
    to_cup = cup[:, :2] - sponge[:, :2]
    direction = to_cup / torch.norm(to_cup, dim=-1, keepdim=True).clamp_min(1e-6)
    behind_xy = sponge[:, :2] - 0.07 * direction
    behind = torch.cat((behind_xy, (table + 0.015)[:, None]), dim=-1)
    reach_dist = torch.norm(behind - eef, dim=-1)
    reach_reward = 1.0 - torch.tanh(8.0 * reach_dist)
    gap = _footprint_gap(states)
    start_gap = torch.norm(states["cup_init_pos"][:, :2] - states["sponge_init_pos"][:, :2], dim=-1) - 0.1
    progress_reward = 3.0 * torch.clamp(1.0 - (gap - 0.02).abs() / start_gap.clamp_min(0.05), 0.0, 1.0)
    cup_shift = torch.norm(cup[:, :2] - states["cup_init_pos"][:, :2], dim=-1)
    q = states["cup_quat"]
    tilt = 1.0 - (1.0 - 2.0 * (q[:, 1] ** 2 + q[:, 2] ** 2))
    cup_penalty = 10.0 * torch.clamp(cup_shift - 0.01, min=0.0) + 2.0 * tilt
    lift_penalty = 20.0 * torch.clamp(sponge[:, 2] - table - states["sponge_size"][:, 2] / 2 - 0.005, min=0.0)
    action_penalty = 0.01 * torch.sum(actions[:, :6] ** 2, dim=-1)
    components = {"reach_reward": reach_reward, "progress_reward": progress_reward, "cup_penalty": -cup_penalty,
                  "lift_penalty": -lift_penalty, "action_penalty": -action_penalty}
    total = reach_reward + progress_reward - cup_penalty - lift_penalty - action_penalty
    return total, components
