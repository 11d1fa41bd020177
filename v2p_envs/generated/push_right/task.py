"""Push something right.

Task Description: push the cup to the right (-y) across the table, keeping it upright.
Randomizations: cup position in a 20 x 15 cm region on the left half of the reachable table,
cup yaw (the cup is round).
Success Conditions: the cup has moved at least 15 cm towards -y from where it started, more to
the right than along x, and it stands upright on the table at rest, never lifted more than 2 cm
during the episode (pushed, not carried or knocked over).
"""
import torch

from v2p_envs import Task

scene_info = {
    "task_class_name": "PushRight",
    "task_title": "push something right",
    "objects": [{"name": "cup", "size": [0.07, 0.07, 0.09]}],
}


def _up_axis(quat):
    """World direction of an object's local +z axis (quat w-first)."""
    w, x, y, z = quat.unbind(-1)
    return torch.stack((2 * (x * z + w * y), 2 * (y * z - w * x), 1 - 2 * (x * x + y * y)), dim=-1)


class PushRight(Task):
    task_description = "push something right"
    spawn_x = (-0.05, 0.15)
    spawn_y = (0.05, 0.2)

    def reset_objects_states(self, env_ids):
        xy = self.sample_table_positions(env_ids, ["cup"], self.spawn_x, self.spawn_y)["cup"]
        self.place_on_table("cup", env_ids, xy, yaw=self.random_yaw(env_ids))

    def compute_observation_key(self, states):
        obs_keys = super().compute_observation_key(states)
        states["eef_to_cup"] = states["cup_pos"] - states["eef_pos"]
        states["cup_displacement"] = states["cup_pos"] - states["cup_init_pos"]
        states["cup_up_axis"] = _up_axis(states["cup_quat"])
        obs_keys += ["eef_to_cup", "cup_displacement", "cup_up_axis"]
        return obs_keys

    def get_observation_space(self):
        return super().get_observation_space() + 9

    def compute_success(self, states):
        disp = states["cup_pos"] - states["cup_init_pos"]
        upright = _up_axis(states["cup_quat"])[:, 2] > 0.95
        on_table = disp[:, 2].abs() < 0.01
        at_rest = torch.norm(states["cup_vel_linear"], dim=-1) < 0.1
        never_lifted = states["cup_max_height"] - states["cup_init_pos"][:, 2] < 0.02
        return (disp[:, 1] < -0.15) & (disp[:, 0].abs() < -disp[:, 1]) & upright & on_table & at_rest & never_lifted

    def compute_reward(self, actions, states):
        return reward_function(actions, states)


def reward_function(actions, states):
    # type: (Tensor, Dict[str, Tensor]) -> Tuple[Tensor, Dict[str, Tensor]]
    """Chain of thought: get to the cup's left (+y) side low down (pushing high tips it), then
    push it towards -y. Progress is the -y displacement; tilting and drifting in x are penalised.
    The reach term has a wide basin (from across the table) and a sharp one (at the cup);
    progress counts only while the cup stands, and tilting it costs up to 2 (a fallen cup).
    """
    cup = states["cup_pos"]
    disp = cup - states["cup_init_pos"]
    push_point = cup + torch.tensor([0.0, 0.05, -0.015], device=cup.device)
    dist = torch.norm(push_point - states["eef_pos"], dim=-1)
    reach_reward = 0.5 * (1.0 - torch.tanh(3.0 * dist)) + 0.5 * (1.0 - torch.tanh(10.0 * dist))
    # progress counts only while the cup stands: knocking it over and rolling it earns nothing
    up = _up_axis(states["cup_quat"])[:, 2]
    standing = torch.clamp((up - 0.7) / 0.25, 0.0, 1.0)
    progress_reward = 3.0 * standing * torch.clamp(-disp[:, 1] / 0.15, -1.0, 1.2)
    upright_penalty = 2.0 * torch.clamp((1.0 - up) / 0.1, 0.0, 1.0)
    drift_penalty = 1.0 * torch.tanh(10.0 * disp[:, 0].abs())
    action_penalty = 0.01 * torch.sum(actions[:, :6] ** 2, dim=-1)
    components = {"reach_reward": reach_reward, "progress_reward": progress_reward,
                  "upright_penalty": -upright_penalty, "drift_penalty": -drift_penalty,
                  "action_penalty": -action_penalty}
    reward = reach_reward + progress_reward - upright_penalty - drift_penalty - action_penalty
    return reward, components
