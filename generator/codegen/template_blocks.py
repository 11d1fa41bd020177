"""The template backend's building blocks: reset, success and reward code per verb family.

Each ``Block`` is Python source with ``${x}`` / ``${y}`` (object names) and numeric parameters,
written in the generated task module's own style (vectorised torch over ``states``). Success
conditions are built from a few physical notions: displacement along a direction, lifted and
held, tipped (the up axis), inside / over / next to / in front of / on top of another object
(footprints in the table plane), released (the hand away), pushed not carried (the episode's
maximum height), at rest. Every block's reward has a reach term, the family's progress terms
and an action penalty (added by the writer), each returned as a named component.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Block", "BLOCKS", "ROUND_WORDS"]

#: Object names taken as round (a circular footprint); others are treated as boxes.
ROUND_WORDS = ("bowl", "cup", "mug", "pot", "jar", "bottle", "can", "plate", "glass", "garlic", "ball", "orange",
               "apple", "tin", "bucket", "vase")


@dataclass(frozen=True)
class Block:
    """``reward`` computes the named ``terms`` (a leading "-" marks a penalty); the writer adds
    the action penalty, the components dict and their sum."""

    reset: str
    success: str
    reward: str
    terms: tuple[str, ...]
    helpers: tuple[str, ...]
    randomization: str
    success_text: str
    reward_text: str


#: Reward preambles shared by several blocks: reach and close on the object's centre, or on the
#: top of an upturned cover (``cover``, ``eef``, ``half`` = its half height, defined before).
#: Every reach term has a wide basin (it pays from the start pose, 30-60 cm away) and a sharp one
#: (at the target): with the sharp one alone the reward is flat where every episode starts.
_GRASP_OBJECT = """    reach_dist = torch.norm(obj - eef, dim=-1)
    reach_reward = 0.5 * (1.0 - torch.tanh(3.0 * reach_dist)) + 0.5 * (1.0 - torch.tanh(10.0 * reach_dist))
    near = (reach_dist < 0.03).float()
    grasp_reward = near * (1.0 - torch.clamp(states["gripper_width"] / 0.08, 0.0, 1.0))
"""
_GRASP_COVER_TOP = """    grasp_point = cover + torch.stack((torch.zeros_like(half), torch.zeros_like(half), half - 0.025), dim=-1)
    reach_dist = torch.norm(grasp_point - eef, dim=-1)
    reach_reward = 0.5 * (1.0 - torch.tanh(3.0 * reach_dist)) + 0.5 * (1.0 - torch.tanh(10.0 * reach_dist))
    near = (reach_dist < 0.03).float()
    grasp_reward = near * torch.clamp((1.0 - states["gripper_width"] / 0.08) / 0.12, 0.0, 1.0)
"""

BLOCKS: dict[str, Block] = {
    "displace": Block(
        reset='''        xy = self.sample_table_positions(env_ids, ["${x}"], ${spawn_x}, ${spawn_y})["${x}"]
        yaw = self.random_uniform(env_ids, low=-math.pi / 6, high=math.pi / 6)
        self.place_on_table("${x}", env_ids, xy, yaw=yaw)
''',
        success='''        disp = states["${x}_pos"] - states["${x}_init_pos"]
        along = disp[:, 0] * ${dx} + disp[:, 1] * ${dy}
        across = torch.abs(-disp[:, 0] * ${dy} + disp[:, 1] * ${dx})
        same_height = torch.abs(disp[:, 2]) < 0.01
        never_lifted = states["${x}_max_height"] - states["${x}_init_pos"][:, 2] < 0.02
        at_rest = _speed(states, "${x}") < 0.1
        on_table = (torch.abs(states["${x}_pos"][:, :2]) < 0.6).all(dim=-1)
        return (along >= ${distance}) & (across < along) & same_height & never_lifted & at_rest & on_table
''',
        reward='''    obj, eef = states["${x}_pos"], states["eef_pos"]
    disp = obj - states["${x}_init_pos"]
    direction = torch.tensor([${dx}, ${dy}, 0.0], device=obj.device)
    # Chain of thought: put the hand against the object's side opposite the push, low (pushing
    # high tips a tall object), the fingers spread across the push direction and closed narrower
    # than the object (two fingertips on its face; open fingers pass around a round object), the
    # fingertips leaning ~20 degrees ahead so that the hand's body trails behind and above (a hand
    # held straight lands its body on a tall object's top); then keep pushing it along.
    # The reach target is 1 cm inside the object's side: the hand can only get nearer by pressing
    # on it, so pressing (which pushes it) always pays and waiting beside it never pays more.
    extent = _extent_along(states, "${x}", direction, ${x_round})
    push_xy = obj[:, :2] - (extent - 0.01)[:, None] * direction[:2]
    push_z = states["table_height"] + torch.clamp(states["${x}_size"][:, 2] / 2 - 0.01, 0.01, 0.03)
    reach_dist = torch.norm(torch.cat((push_xy, push_z[:, None]), dim=-1) - eef, dim=-1)
    # three basins: from the start pose, near the object, and the last centimetres to its side
    reach_reward = (0.4 * (1.0 - torch.tanh(3.0 * reach_dist)) + 0.4 * (1.0 - torch.tanh(10.0 * reach_dist))
                    + 0.4 * (1.0 - torch.tanh(30.0 * reach_dist)))
    at_side = 1.0 - torch.tanh(5.0 * reach_dist)
    across = torch.sum(_finger_axis(states["eef_quat"])[:, :2] * direction[:2], dim=-1)
    turn_reward = 0.5 * (1.0 - across ** 2) * at_side
    face = 2.0 * _extent_along(states, "${x}", torch.stack((-direction[1], direction[0])), ${x_round})
    narrow_reward = 0.25 * torch.clamp((0.7 * face - states["gripper_width"]) / 0.02, 0.0, 1.0) * at_side
    lead = torch.sum(_approach_axis(states["eef_quat"])[:, :2] * direction[:2], dim=-1)
    lean_reward = 0.25 * torch.clamp(lead / 0.34, 0.0, 1.0) * at_side
    # progress counts while the object stands as it started: knocking it over and rolling it earns nothing
    up = _up_z(states["${x}_quat"])
    standing = torch.clamp((up - 0.7) / 0.25, 0.0, 1.0)
    along = (disp * direction).sum(dim=-1)
    progress_reward = 3.0 * standing * torch.clamp(along / ${distance}, -1.0, 1.2)
    # and every step it is being pushed on, until it has gone the distance: pressing on it without
    # moving it pays nothing more than waiting beside it
    speed_along = (states["${x}_vel_linear"] * direction).sum(dim=-1)
    push_reward = 2.0 * standing * (along < ${distance}).float() * torch.tanh(torch.clamp(speed_along, min=0.0) / 0.05)
    # a pushed object rocks a little: tilting costs from 8 degrees, a fallen one 2
    tilt_penalty = 2.0 * torch.clamp((1.0 - up - 0.01) / 0.09, 0.0, 1.0)
    lift_penalty = 5.0 * torch.clamp(disp[:, 2] - 0.005, min=0.0) / 0.05
    drift_penalty = torch.tanh(10.0 * torch.abs(-disp[:, 0] * ${dy} + disp[:, 1] * ${dx}))
''',
        terms=("reach_reward", "turn_reward", "narrow_reward", "lean_reward", "progress_reward", "push_reward",
               "-tilt_penalty", "-lift_penalty", "-drift_penalty"),
        helpers=("speed", "up_z", "finger_axis", "approach_axis", "extent_along"),
        randomization="${x} position in a region on the side opposite the push, yaw within +-30 degrees",
        success_text=("${x} moved at least ${distance} m along (${dx}, ${dy}), more along it than across, resting at "
                      "its start height and at rest, never lifted 2 cm this episode (pushed, not carried)"),
        reward_text=("reach into the object's side opposite the push (low, fingers across the direction, narrower "
                     "than the object, tips leaning ahead), progress along the direction and pushing speed while it "
                     "stands, penalties for tilting, lifting and drifting"),
    ),
    "lift": Block(
        reset='''        xy = self.sample_table_positions(env_ids, ["${x}"], (-0.15, 0.15), (-0.2, 0.2))["${x}"]
        self.place_on_table("${x}", env_ids, xy, yaw=self.random_yaw(env_ids))
''',
        success='''        obj, eef = states["${x}_pos"], states["eef_pos"]
        raised = obj[:, 2] - states["${x}_init_pos"][:, 2] >= ${height}
        width = states["${x}_size"][:, :2].min(dim=-1).values
        in_hand = (torch.norm(obj - eef, dim=-1) < 0.05) & (states["gripper_width"] < width + 0.01)
        held = torch.norm(states["${x}_vel_linear"] - states["eef_vel_linear"], dim=-1) < 0.05
        return raised & in_hand & held
''',
        reward='''    obj, eef = states["${x}_pos"], states["eef_pos"]
    # Chain of thought: reach the object's centre, turn the fingers across its narrow side (a
    # long side may be wider than the open gripper), close them at its width (fingers closed on
    # nothing earn nothing), then raise it while holding it.
    dist = torch.norm(obj - eef, dim=-1)
    reach_reward = 0.5 * (1.0 - torch.tanh(3.0 * dist)) + 0.5 * (1.0 - torch.tanh(10.0 * dist))
    align_reward = 0.25 * (1.0 + _grasp_alignment(states, "${x}", ${x_round})) * (1.0 - torch.tanh(5.0 * dist))
    near = (dist < 0.03).float()
    width = states["${x}_size"][:, :2].min(dim=-1).values
    grasp_reward = near * torch.exp(-(((states["gripper_width"] - width) / 0.01) ** 2))
    lifted = obj[:, 2] - states["${x}_init_pos"][:, 2]
    lift_reward = 3.0 * grasp_reward * torch.clamp(lifted / ${height}, 0.0, 1.2)
''',
        terms=("reach_reward", "align_reward", "grasp_reward", "lift_reward"),
        helpers=("grasp_alignment",),
        randomization="${x} anywhere in a 30 x 40 cm region in front of the robot, random yaw",
        success_text="${x} at least ${height} m above where it rested, between the closed fingers, moving with the hand",
        reward_text="reach, fingers across the narrow side, grasp (closing at its width near it), lift progress",
    ),
    "tip_over": Block(
        reset='''        xy = self.sample_table_positions(env_ids, ["${x}"], (-0.1, 0.1), (-0.15, 0.15))["${x}"]
        self.place_on_table("${x}", env_ids, xy, yaw=self.random_yaw(env_ids))
''',
        success='''        lying = torch.abs(_up_z(states["${x}_quat"])) < 0.2
        radius = states["${x}_size"][:, 0] / 2
        low = states["${x}_pos"][:, 2] - states["table_height"] < radius + 0.012
        on_table = (torch.abs(states["${x}_pos"][:, :2]) < 0.6).all(dim=-1)
        still = (_speed(states, "${x}") < 0.02) & (torch.norm(states["${x}_vel_angular"], dim=-1) < 0.3)
        return lying & low & on_table & still
''',
        reward='''    obj, eef = states["${x}_pos"], states["eef_pos"]
    # Chain of thought: push high on the standing object, sideways, until it falls on its side.
    top = obj + torch.stack((torch.zeros_like(obj[:, 0]), torch.zeros_like(obj[:, 0]),
                             states["${x}_size"][:, 2] / 2 - 0.02), dim=-1)
    reach_dist = torch.norm(top - eef, dim=-1)
    reach_reward = 0.5 * (1.0 - torch.tanh(3.0 * reach_dist)) + 0.5 * (1.0 - torch.tanh(10.0 * reach_dist))
    tilt_reward = 3.0 * (1.0 - torch.abs(_up_z(states["${x}_quat"])))
    settle_reward = (torch.abs(_up_z(states["${x}_quat"])) < 0.2).float() * (1.0 - torch.tanh(5.0 * _speed(states, "${x}")))
''',
        terms=("reach_reward", "tilt_reward", "settle_reward"),
        helpers=("up_z", "speed"),
        randomization="${x} standing upright in a 20 x 30 cm region, random yaw",
        success_text="${x} lies on its side (axis within ~12 degrees of horizontal) on the table, at rest",
        reward_text="reach the top of the object, tilt progress, settling once it lies",
    ),
    "cover": Block(
        reset='''        x_xy = torch.stack((self.random_uniform(env_ids, low=-0.05, high=0.10),
                            self.random_uniform(env_ids, low=-0.12, high=0.12)), dim=-1)
        angle = self.random_uniform(env_ids, low=-math.pi, high=math.pi)
        dist = self.random_uniform(env_ids, low=0.14, high=0.18)
        y_xy = x_xy + dist[:, None] * torch.stack((torch.cos(angle), torch.sin(angle)), dim=-1)
        self.place_on_table("${x}", env_ids, x_xy, yaw=self.random_yaw(env_ids))
        self.place_on_table("${y}", env_ids, y_xy, quat=_upside_down_quat(self.random_yaw(env_ids)),
                            height=self.object_size("${y}", env_ids)[:, 2] / 2)
''',
        success='''        cover, obj = states["${y}_pos"], states["${x}_pos"]
        upside_down = _up_z(states["${y}_quat"]) < -0.95
        down = _resting(states, "${y}")
        inside = torch.norm(obj[:, :2] - cover[:, :2], dim=-1) < states["${y}_size"][:, 0] / 2 - 0.01
        obj_on_table = obj[:, 2] - states["table_height"] < states["${x}_size"][:, 2] / 2 + 0.01
        return upside_down & down & inside & obj_on_table
''',
        reward='''    cover, obj, eef = states["${y}_pos"], states["${x}_pos"], states["eef_pos"]
    table = states["table_height"]
    half = states["${y}_size"][:, 2] / 2
    # Chain of thought: grasp the upturned cover near its top, lift it clear of the object,
    # bring its axis over the object, lower it onto the table and let go.
''' + _GRASP_COVER_TOP + '''    xy_err = torch.norm(obj[:, :2] - cover[:, :2], dim=-1)
    lift = cover[:, 2] - table - half
    over = (xy_err < 0.02).float()
    clear_reward = near * (1.0 - over) * torch.clamp(lift / 0.05, 0.0, 1.0)
    align_reward = 2.0 * (1.0 - torch.tanh(8.0 * xy_err)) * torch.clamp(near * (lift > 0.02).float() + over, 0.0, 1.0)
    lower_reward = 2.0 * over * (1.0 - torch.tanh(20.0 * torch.clamp(lift, min=0.0)))
    release_reward = over * (lift < 0.01).float() * torch.clamp(states["gripper_width"] / 0.08, 0.0, 1.0)
    flip_penalty = torch.clamp(_up_z(states["${y}_quat"]) + 0.9, min=0.0)
''',
        terms=("reach_reward", "grasp_reward", "clear_reward", "align_reward", "lower_reward", "release_reward",
               "-flip_penalty"),
        helpers=("up_z", "resting", "upside_down_quat"),
        randomization="${x} in a 15 x 24 cm region; ${y} upside down 14-18 cm from it in a random direction",
        success_text=("${y} upside down, resting on the table, with ${x}'s centre inside its rim (radius less "
                      "1 cm); ${x} still on the table"),
        reward_text="reach and grasp the cover's top, clear the object, align over it, lower, release",
    ),
    "uncover": Block(
        reset='''        x_xy = torch.stack((self.random_uniform(env_ids, low=-0.08, high=0.12),
                            self.random_uniform(env_ids, low=-0.15, high=0.15)), dim=-1)
        self.place_on_table("${x}", env_ids, x_xy, yaw=self.random_yaw(env_ids))
        self.place_on_table("${y}", env_ids, x_xy, quat=_upside_down_quat(self.random_yaw(env_ids)),
                            height=self.object_size("${y}", env_ids)[:, 2] / 2)
''',
        success='''        cover, obj = states["${y}_pos"], states["${x}_pos"]
        clearance = states["${y}_size"][:, 0] / 2 + states["${x}_size"][:, 0] * 0.7071 + 0.015
        uncovered = torch.norm(cover[:, :2] - obj[:, :2], dim=-1) > clearance
        stayed = torch.norm(obj[:, :2] - states["${x}_init_pos"][:, :2], dim=-1) < 0.10
        return uncovered & _resting(states, "${x}") & stayed
''',
        reward='''    cover, obj, eef = states["${y}_pos"], states["${x}_pos"], states["eef_pos"]
    half = states["${y}_size"][:, 2] / 2
    # Chain of thought: grasp the cover near its top, lift it, carry it sideways off the object.
''' + _GRASP_COVER_TOP + '''    lift_reward = near * torch.clamp((cover[:, 2] - states["${y}_init_pos"][:, 2]) / 0.05, 0.0, 1.0)
    away = torch.norm(cover[:, :2] - obj[:, :2], dim=-1)
    away_reward = 2.0 * torch.clamp(away / 0.12, 0.0, 1.0)
    disturb_penalty = torch.tanh(10.0 * torch.norm(obj[:, :2] - states["${x}_init_pos"][:, :2], dim=-1))
''',
        terms=("reach_reward", "grasp_reward", "lift_reward", "away_reward", "-disturb_penalty"),
        helpers=("resting", "upside_down_quat"),
        randomization="${x} in a 20 x 30 cm region with ${y} upside down over it",
        success_text="${y} moved off ${x} (axes farther apart than both footprints), ${x} resting near its start",
        reward_text="reach and grasp the cover, lift it, move it away; disturbing the object is penalised",
    ),
    "push_with": Block(
        reset='''        tool_xy = torch.stack((self.random_uniform(env_ids, low=-0.15, high=-0.08),
                               self.random_uniform(env_ids, low=-0.08, high=0.08)), dim=-1)
        tool_yaw = math.pi / 2 + self.random_uniform(env_ids, low=-0.4, high=0.4)
        obj_xy = tool_xy + torch.stack((self.random_uniform(env_ids, low=0.14, high=0.20),
                                        self.random_uniform(env_ids, low=-0.06, high=0.06)), dim=-1)
        self.place_on_table("${y}", env_ids, tool_xy, yaw=tool_yaw)
        self.place_on_table("${x}", env_ids, obj_xy, yaw=self.random_yaw(env_ids))
''',
        success='''        obj, tool, eef = states["${x}_pos"], states["${y}_pos"], states["eef_pos"]
        moved = torch.norm(obj[:, :2] - states["${x}_init_pos"][:, :2], dim=-1) >= 0.10
        never_lifted = states["${x}_max_height"] - states["${x}_init_pos"][:, 2] < 0.02
        on_table = obj[:, 2] - states["table_height"] < states["${x}_size"][:, 2] / 2 + 0.01
        size = states["${y}_size"]
        local = _to_local(states["${y}_quat"], eef - tool)
        hand_on_tool = (torch.abs(local[:, 0]) < size[:, 0] / 2) & (torch.abs(local[:, 1]) < 0.03) & (torch.abs(local[:, 2]) < 0.04)
        width = states["gripper_width"]
        gripping = (width > 0.5 * size[:, 1]) & (width < size[:, 1] + 0.01)
        tool_up = tool[:, 2] - states["table_height"] > size[:, 2] / 2 + 0.004
        hand_clear = torch.norm(eef - obj, dim=-1) > 0.05
        return moved & never_lifted & on_table & hand_on_tool & gripping & tool_up & hand_clear
''',
        reward='''    obj, tool, eef = states["${x}_pos"], states["${y}_pos"], states["eef_pos"]
    # Chain of thought: grasp the tool at its middle, lift it a little, bring it behind the
    # object (the robot's side) and push the object forwards while holding the tool.
    reach_dist = torch.norm(tool - eef, dim=-1)
    reach_reward = 0.5 * (1.0 - torch.tanh(3.0 * reach_dist)) + 0.5 * (1.0 - torch.tanh(10.0 * reach_dist))
    holding = (reach_dist < 0.03).float()
    grasp_reward = holding * torch.clamp((1.0 - states["gripper_width"] / 0.08) / 0.6, 0.0, 1.0)
    tool_lift = tool[:, 2] - states["table_height"] - states["${y}_size"][:, 2] / 2
    lift_reward = holding * (1.0 - torch.tanh(50.0 * torch.abs(tool_lift - 0.015)))
    behind = obj - torch.tensor([0.05, 0.0, 0.0], device=obj.device)
    tool_reward = holding * (1.0 - torch.tanh(8.0 * torch.norm(behind[:, :2] - tool[:, :2], dim=-1)))
    moved = torch.norm(obj[:, :2] - states["${x}_init_pos"][:, :2], dim=-1)
    push_reward = 3.0 * holding * torch.clamp(moved / 0.10, 0.0, 1.2)
    carry_penalty = 20.0 * torch.clamp(obj[:, 2] - states["${x}_init_pos"][:, 2] - 0.01, min=0.0)
''',
        terms=("reach_reward", "grasp_reward", "lift_reward", "tool_reward", "push_reward", "-carry_penalty"),
        helpers=("to_local",),
        randomization="${y} (the tool) crosswise in front of the robot, ${x} 14-20 cm beyond it",
        success_text=("${x} moved 10 cm+ over the table without being carried, while ${y} is held in the closed "
                      "hand off the table and the hand is clear of ${x}"),
        reward_text="reach and grasp the tool, lift it a little, bring it behind the object, push progress",
    ),
    "next_to": Block(
        reset='''        x_xy = torch.stack((self.random_uniform(env_ids, low=-0.12, high=0.02),
                            self.random_uniform(env_ids, low=-0.10, high=0.10)), dim=-1)
        angle = self.random_uniform(env_ids, low=-2.0, high=2.0)
        dist = self.random_uniform(env_ids, low=0.22, high=0.27)
        y_xy = x_xy + dist[:, None] * torch.stack((torch.cos(angle), torch.sin(angle)), dim=-1)
        self.place_on_table("${x}", env_ids, x_xy, yaw=self.random_yaw(env_ids))
        self.place_on_table("${y}", env_ids, y_xy, yaw=self.random_yaw(env_ids))
''',
        success='''        gap = _footprint_gap(states, "${x}", "${y}", ${y_round})
        close = (gap > -0.005) & (gap < ${gap})
        travelled = torch.norm(states["${x}_pos"][:, :2] - states["${x}_init_pos"][:, :2], dim=-1) >= 0.10
        how = ${how_condition}  # how it got there: pushed (never lifted 2 cm), dropped (lifted 4 cm+), or placed
        flat = (_up_z(states["${x}_quat"]) > 0.95) & _resting(states, "${x}")
        other_stayed = torch.norm(states["${y}_pos"][:, :2] - states["${y}_init_pos"][:, :2], dim=-1) < 0.05
        other_upright = _up_z(states["${y}_quat"]) > 0.95
        return close & travelled & how & flat & other_stayed & other_upright
''',
        reward='''    obj, other, eef = states["${x}_pos"], states["${y}_pos"], states["eef_pos"]
    # Chain of thought: get behind the object on the far side from the target, push it across
    # the table towards the target until the footprints nearly touch, without moving the target.
    to_target = other[:, :2] - obj[:, :2]
    direction = to_target / torch.norm(to_target, dim=-1, keepdim=True).clamp_min(1e-6)
    behind = torch.norm(states["${x}_size"][:, :2], dim=-1)[:, None] / 2 + 0.03
    push_xy = obj[:, :2] - behind * direction
    push_point = torch.cat((push_xy, obj[:, 2:3] - 0.01), dim=-1)
    reach_dist = torch.norm(push_point - eef, dim=-1)
    reach_reward = 0.5 * (1.0 - torch.tanh(3.0 * reach_dist)) + 0.5 * (1.0 - torch.tanh(10.0 * reach_dist))
    gap = _footprint_gap(states, "${x}", "${y}", ${y_round})
    approach_reward = 3.0 * (1.0 - torch.tanh(5.0 * torch.clamp(gap, min=0.0)))
    lift_penalty = 5.0 * torch.clamp(obj[:, 2] - states["${x}_init_pos"][:, 2] - 0.005, min=0.0) / 0.05
    disturb_penalty = 2.0 * torch.tanh(10.0 * torch.norm(other[:, :2] - states["${y}_init_pos"][:, :2], dim=-1))
''',
        terms=("reach_reward", "approach_reward", "-lift_penalty", "-disturb_penalty"),
        helpers=("footprint", "up_z", "resting"),
        randomization="${x} in a 14 x 20 cm region; ${y} 22-27 cm from it in a direction within +-115 degrees of forward",
        success_text=("${x}'s footprint within ${gap} m of ${y}'s (not overlapping), ${x} moved 10 cm+ (${how}) and "
                      "lies flat at rest; ${y} stayed upright where it was"),
        reward_text="reach behind the object, approach the target footprint, penalties for lifting and moving the target",
    ),
    "in_front_of": Block(
        reset='''        y_xy = torch.stack((self.random_uniform(env_ids, low=0.05, high=0.16),
                            self.random_uniform(env_ids, low=-0.08, high=0.08)), dim=-1)
        side = torch.where(self.random_uniform(env_ids) < 0.5, -1.0, 1.0)
        x_xy = y_xy + torch.stack((self.random_uniform(env_ids, low=-0.15, high=0.0),
                                   side * self.random_uniform(env_ids, low=0.15, high=0.19)), dim=-1)
        self.place_on_table("${y}", env_ids, y_xy, yaw=self.random_yaw(env_ids))
        self.place_on_table("${x}", env_ids, x_xy, yaw=self.random_yaw(env_ids))
''',
        success='''        obj, other = states["${x}_pos"], states["${y}_pos"]
        released = torch.norm(states["eef_pos"] - obj, dim=-1) > 0.05
        ahead = other[:, 0] - obj[:, 0]
        in_front = (ahead > 0) & (torch.abs(obj[:, 1] - other[:, 1]) < ahead)
        rim_gap = torch.norm(obj[:, :2] - other[:, :2], dim=-1) - states["${y}_size"][:, 0] / 2
        return ${lifted}released & in_front & (rim_gap > 0.05) & (rim_gap < 0.15) & _resting(states, "${x}")
''',
        reward='''    obj, other, eef = states["${x}_pos"], states["${y}_pos"], states["eef_pos"]
    # Chain of thought: pick the object up, carry it to a spot 10 cm in front of the other
    # object (the robot's side), and let go there.
''' + _GRASP_OBJECT + '''    radius = states["${y}_size"][:, 0] / 2
    target = other[:, :2] - torch.stack((radius + 0.10, torch.zeros_like(radius)), dim=-1)
    place_dist = torch.norm(obj[:, :2] - target, dim=-1)
    carry_reward = 2.0 * (1.0 - torch.tanh(5.0 * place_dist))
    lift_reward = near * torch.clamp((obj[:, 2] - states["${x}_init_pos"][:, 2]) / 0.06, 0.0, 1.0)
    release_reward = (place_dist < 0.04).float() * torch.clamp(states["gripper_width"] / 0.08, 0.0, 1.0)
''',
        terms=("reach_reward", "grasp_reward", "lift_reward", "carry_reward", "release_reward"),
        helpers=("resting", "speed"),
        randomization="${y} in a 11 x 16 cm region ahead; ${x} 15-19 cm to its left or right, up to 15 cm nearer the robot",
        success_text=("${x} (${lifted_text}released) rests on the table on the robot's side of "
                      "${y}, 5-15 cm from its rim within a 45 degree cone"),
        reward_text="reach, grasp, lift, carry to 10 cm in front of the other object, release there",
    ),
    "inside": Block(
        reset='''${inside_reset}''',
        success='''        obj, container = states["${x}_pos"], states["${y}_pos"]
        within = _within(states, "${x}", "${y}", ${y_round}, 0.006)
        rim = container[:, 2] + states["${y}_size"][:, 2] / 2
        below_rim = (obj[:, 2] < rim) & (obj[:, 2] > states["table_height"])
        at_rest = (_speed(states, "${x}") < ${rest_speed}) & (torch.norm(states["${x}_vel_angular"], dim=-1) < 0.5)
        released = torch.norm(obj - states["eef_pos"], dim=-1) > ${release}
        upright = _up_z(states["${y}_quat"]) > 0.9
        return within & below_rim & at_rest & released & upright
''',
        reward='''    obj, container, eef = states["${x}_pos"], states["${y}_pos"], states["eef_pos"]
    table = states["table_height"]
    # Chain of thought: grasp the object and lift it; bring it over the container (or, when the
    # container is out of reach, give it velocity towards it while it is in the air); reward it
    # ending inside, below the rim.
    reach_dist = torch.norm(obj - eef, dim=-1)
    reach_reward = 0.5 * (1.0 - torch.tanh(3.0 * reach_dist)) + 0.5 * (1.0 - torch.tanh(10.0 * reach_dist))
    near = (reach_dist < 0.03).float()
    grasp_reward = 0.5 * near * (1.0 - torch.clamp(states["gripper_width"] / 0.08, 0.0, 1.0))
    height = obj[:, 2] - table
    lift_reward = near * torch.clamp(height / ${carry_height}, 0.0, 1.0)
    to_container = container[:, :2] - obj[:, :2]
    dist = torch.norm(to_container, dim=-1)
    direction = to_container / dist.clamp_min(1e-6)[:, None]
    airborne = (height > 0.05).float()
    toward_reward = airborne * torch.tanh(torch.sum(states["${x}_vel_linear"][:, :2] * direction, dim=-1))
    approach_reward = 2.0 * (1.0 - torch.tanh(5.0 * dist))
    within = _within(states, "${x}", "${y}", ${y_round}, 0.006)
    inside_reward = 5.0 * (within & (obj[:, 2] < container[:, 2] + states["${y}_size"][:, 2] / 2)).float()
''',
        terms=("reach_reward", "grasp_reward", "lift_reward", "toward_reward", "approach_reward", "inside_reward"),
        helpers=("within", "up_z", "speed"),
        randomization="${inside_randomization}",
        success_text=("${x}'s centre inside ${y}'s inner footprint, below its rim and above the table, at rest, the "
                      "hand ${release} m+ away, ${y} upright"),
        reward_text="reach, grasp, lift, velocity towards the container in the air, approach, inside",
    ),
    "on_top": Block(
        reset='''        xy = self.sample_table_positions(env_ids, ["${x}", "${y}"], (-0.15, 0.15), (-0.2, 0.2), min_gap=0.05)
        self.place_on_table("${x}", env_ids, xy["${x}"], yaw=self.random_yaw(env_ids))
        self.place_on_table("${y}", env_ids, xy["${y}"], yaw=self.random_yaw(env_ids))
''',
        success='''        obj, base = states["${x}_pos"], states["${y}_pos"]
        top = base[:, 2] + states["${y}_size"][:, 2] / 2
        on = torch.abs(obj[:, 2] - states["${x}_size"][:, 2] / 2 - top) < 0.015
        over = _within(states, "${x}", "${y}", ${y_round}, 0.0)
        released = torch.norm(states["eef_pos"] - obj, dim=-1) > 0.05
        return on & over & released & (_speed(states, "${x}") < 0.05)
''',
        reward='''    obj, base, eef = states["${x}_pos"], states["${y}_pos"], states["eef_pos"]
    # Chain of thought: pick the object up, hold it above the other one, lower it and let go.
''' + _GRASP_OBJECT + '''    top = base[:, 2] + states["${y}_size"][:, 2] / 2 + states["${x}_size"][:, 2] / 2
    target = torch.cat((base[:, :2], top[:, None]), dim=-1)
    place_reward = 3.0 * (1.0 - torch.tanh(5.0 * torch.norm(obj - target, dim=-1)))
''',
        terms=("reach_reward", "grasp_reward", "place_reward"),
        helpers=("within", "speed"),
        randomization="${x} and ${y} apart in a 30 x 40 cm region, random yaws",
        success_text="${x} rests on top of ${y} within its footprint, released, still",
        reward_text="reach, grasp, place on top",
    ),
}

INSIDE_RESETS = {
    "reach": ('''        xy = self.sample_table_positions(env_ids, ["${y}", "${x}"], (-0.20, 0.20), (-0.25, 0.25))
        container_yaw = self.random_uniform(env_ids, low=-math.pi / 6, high=math.pi / 6)
        self.place_on_table("${y}", env_ids, xy["${y}"], yaw=container_yaw)
        self.place_on_table("${x}", env_ids, xy["${x}"], yaw=self.random_yaw(env_ids))
''', "${y} and ${x} apart in a 40 x 50 cm region, the container's yaw within +-30 degrees"),
    # thrown: the container beyond the arm's reach, 72-82 cm from the robot's base (at x = -0.55)
    "throw": ('''        xy = self.sample_table_positions(env_ids, ["${x}"], (-0.20, -0.05), (-0.15, 0.15))["${x}"]
        self.place_on_table("${x}", env_ids, xy, yaw=self.random_yaw(env_ids))
        dist = self.random_uniform(env_ids, low=0.72, high=0.82)
        bearing = self.random_uniform(env_ids, low=-math.pi / 9, high=math.pi / 9)
        far_xy = torch.stack((-0.55 + dist * torch.cos(bearing), dist * torch.sin(bearing)), dim=-1)
        self.place_on_table("${y}", env_ids, far_xy, yaw=self.random_yaw(env_ids))
''', "${x} near the robot; ${y} out of reach, 72-82 cm from the robot's base within +-20 degrees of forward"),
}
