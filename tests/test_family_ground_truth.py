"""Family ground truth: the goal file (round trip, errors naming file and field) and each
family's success on hand-made states, a true case beside a false one."""
from __future__ import annotations

import json
import math

import pytest
import torch

from v2p_envs import V2PError
from v2p_envs.ground_truth.families import family_success, is_round
from v2p_envs.ground_truth.family_goal import FAMILIES, FamilyGoal, FamilyGoalError, load_goal
from v2p_envs.ground_truth.families import _footprint_gap  # the geometry the next_to / uncover families use

TABLE = 0.4
UPRIGHT = (1.0, 0.0, 0.0, 0.0)
UPSIDE_DOWN = (0.0, 1.0, 0.0, 0.0)  # 180 degrees about x
ON_SIDE = (math.cos(math.pi / 4), math.sin(math.pi / 4), 0.0, 0.0)  # 90 degrees about x


def states(cases: list[dict]) -> dict[str, torch.Tensor]:
    """A batch of states, one env per case. A case gives the robot (eef, width, eef_vel) and per
    object: size, pos, and optionally init (start position), quat, vel, spin, max_height."""
    out: dict[str, list] = {}

    def put(key: str, value) -> None:
        out.setdefault(key, []).append(torch.as_tensor(value, dtype=torch.float32))

    for case in cases:
        put("eef_pos", case.get("eef", (-0.3, 0.0, 0.9)))
        put("eef_quat", (0.0, 1.0, 0.0, 0.0))
        put("eef_vel_linear", case.get("eef_vel", (0.0, 0.0, 0.0)))
        put("gripper_width", case.get("width", 0.08))
        put("table_height", TABLE)
        for name, obj in case["objects"].items():
            init = obj.get("init", obj["pos"])
            put(f"{name}_pos", obj["pos"])
            put(f"{name}_quat", obj.get("quat", UPRIGHT))
            put(f"{name}_vel_linear", obj.get("vel", (0.0, 0.0, 0.0)))
            put(f"{name}_vel_angular", obj.get("spin", (0.0, 0.0, 0.0)))
            put(f"{name}_size", obj["size"])
            put(f"{name}_init_pos", init)
            put(f"{name}_init_quat", obj.get("init_quat", UPRIGHT))
            put(f"{name}_max_height", obj.get("max_height", max(init[2], obj["pos"][2])))
    return {k: torch.stack(v) for k, v in out.items()}


def check(goal: FamilyGoal, cases: list[dict], expected: list[bool]) -> None:
    got = family_success(goal)(states(cases))
    assert got.dtype == torch.bool and got.shape == (len(cases),)
    assert got.tolist() == expected


# -- the goal file ------------------------------------------------------------------------------
def test_goal_json_round_trip(tmp_path):
    goal = FamilyGoal("displace", "snack_box", None, {"direction": [0, 1], "distance": 0.12},
                      {"caption": "push the snack box left", "video": True})
    assert goal.params == {"direction": (0.0, 1.0), "distance": 0.12}  # checked and normalised
    path = goal.save(tmp_path / "goal.json")
    loaded = load_goal(path, ["snack_box"])
    assert loaded == goal and loaded.derived_from == goal.derived_from
    assert json.loads(path.read_text())["format"] == "v2p-family-goal/1"
    # defaults are filled in, so every family round-trips from its minimal form
    for family, schema in FAMILIES.items():
        two = family in ("next_to", "in_front_of", "inside", "on_top", "cover", "uncover", "push_with")
        params = {"direction": [1.0, 0.0]} if family == "displace" else {}
        minimal = FamilyGoal(family, "a", "b" if two else None, params)
        assert set(minimal.params) == set(schema)
        assert FamilyGoal.from_dict(json.loads(json.dumps(minimal.to_dict()))) == minimal


@pytest.mark.parametrize("data, field, expected", [
    ({"family": "juggle", "x": "cup"}, "family", "unknown family 'juggle'"),
    ({"x": "cup"}, "family", "missing"),
    ({"family": "lift", "x": "cup", "params": {"height": "high"}}, "params.height", "expected a number"),
    ({"family": "lift", "x": "cup", "params": {"height": 3.0}}, "params.height", "out of the sane range"),
    ({"family": "lift", "x": "cup", "params": {"height": True}}, "params.height", "expected a number"),
    ({"family": "lift", "x": "cup", "params": {"speed": 1.0}}, "params.speed", "is not a parameter"),
    ({"family": "lift", "x": "cup", "y": "bowl"}, "y", "has one object"),
    ({"family": "displace", "x": "cup"}, "params.direction", "missing"),
    ({"family": "displace", "x": "cup", "params": {"direction": [1, 1]}}, "params.direction", "unit vector"),
    ({"family": "displace", "x": "cup", "params": {"direction": [1, 0], "distance": -0.1}}, "params.distance",
     "sane range"),
    ({"family": "inside", "x": "garlic"}, "y", "relates two objects"),
    ({"family": "inside", "x": "garlic", "y": "garlic"}, "y", "same object"),
    ({"family": "inside", "x": "garlic", "y": "bowl", "params": {"thrown": "yes"}}, "params.thrown", "true or false"),
    ({"family": "next_to", "x": "a", "y": "b", "params": {"how": "flung"}}, "params.how", "expected one of"),
    ({"family": "lift", "x": "Cup"}, "x", "object name"),
    ({"family": "lift", "x": "cup", "colour": "red"}, "colour", "unknown field"),
])
def test_a_bad_goal_names_the_file_and_the_field(tmp_path, data, field, expected):
    path = tmp_path / "goal.json"
    path.write_text(json.dumps(data))
    with pytest.raises(FamilyGoalError, match=f"goal.json: field '{field.replace('.', '[.]')}': .*{expected}") as err:
        load_goal(path)
    assert isinstance(err.value, V2PError) and err.value.field_path == field


def test_a_goal_about_an_object_the_scene_lacks(tmp_path):
    path = FamilyGoal("inside", "garlic", "bowl", {"thrown": True}).save(tmp_path / "goal.json")
    with pytest.raises(FamilyGoalError, match=r"goal.json: field 'y': names object 'bowl'.*\['garlic', 'cup'\]"):
        load_goal(path, ["garlic", "cup"])
    path.write_text("{not json")
    with pytest.raises(FamilyGoalError, match="goal.json: field '<root>': not valid JSON"):
        load_goal(path)


def test_round_names_and_footprint_gaps():
    assert is_round("bowl") and is_round("coffee_mug") and is_round("teacups") and is_round("garlic")
    assert not is_round("snack_box") and not is_round("dice") and not is_round("remote")
    # two axis-aligned 10 cm squares, corner to corner: the true distance, not the axis separation
    square = {"size": (0.1, 0.1, 0.05)}
    gap = _footprint_gap(states([{"objects": {"box_a": {**square, "pos": (0.0, 0.0, 0.425)},
                                              "box_b": {**square, "pos": (0.2, 0.2, 0.425)}}}]), "box_a", "box_b")
    assert gap.item() == pytest.approx(math.hypot(0.1, 0.1), abs=1e-5)
    # one turned 45 degrees about z, edge to corner
    turn = (math.cos(math.pi / 8), 0.0, 0.0, math.sin(math.pi / 8))
    gap = _footprint_gap(states([{"objects": {"box_a": {**square, "pos": (0.0, 0.0, 0.425)},
                                              "box_b": {**square, "pos": (0.2, 0.0, 0.425), "quat": turn}}}]),
                         "box_a", "box_b")
    assert gap.item() == pytest.approx(0.15 - 0.05 * math.sqrt(2), abs=1e-5)
    # overlapping: negative
    gap = _footprint_gap(states([{"objects": {"box_a": {**square, "pos": (0.0, 0.0, 0.425)},
                                              "box_b": {**square, "pos": (0.08, 0.0, 0.425)}}}]), "box_a", "box_b")
    assert gap.item() == pytest.approx(-0.02, abs=1e-5)


# -- each family on hand-made states ------------------------------------------------------------
BOX = (0.1, 0.06, 0.04)  # a snack box lying flat: centre 2 cm above the table


def test_displace():
    goal = FamilyGoal("displace", "snack_box", None, {"direction": [0.0, 1.0], "distance": 0.15})
    start = (0.0, -0.1, TABLE + 0.02)
    def moved(y, **kw):
        return {"objects": {"snack_box": {"size": BOX, "init": start, "pos": (0.01, y, TABLE + 0.02), **kw}}}
    check(goal, [moved(0.051), moved(0.049),  # 15.1 cm left; just short (14.9 cm)
                 moved(0.1, max_height=TABLE + 0.06),  # carried, not pushed
                 moved(0.1, vel=(0.0, 0.2, 0.0)),  # still sliding
                 {"objects": {"snack_box": {"size": BOX, "init": start, "pos": (0.2, 0.1, TABLE + 0.02)}}}],  # diagonal
          [True, False, False, False, False])


def test_lift():
    goal = FamilyGoal("lift", "sponge", None, {"height": 0.10})
    size, start = (0.08, 0.05, 0.03), (0.0, 0.0, TABLE + 0.015)

    def held(z, eef=None, width=0.045, vel=(0.0, 0.0, 0.1)):
        return {"eef": eef or (0.0, 0.0, z), "width": width, "eef_vel": (0.0, 0.0, 0.1),
                "objects": {"sponge": {"size": size, "init": start, "pos": (0.0, 0.0, z), "vel": vel}}}
    check(goal, [held(TABLE + 0.12), held(TABLE + 0.11),  # 10.5 cm up in the hand; 9.5 cm
                 held(TABLE + 0.2, eef=(0.0, 0.0, TABLE + 0.05)),  # tossed up past the fingers
                 held(TABLE + 0.2, width=0.08),  # hand open
                 held(TABLE + 0.2, vel=(0.0, 0.0, -0.5))],  # falling out of the hand
          [True, False, False, False, False])


def test_tip_over():
    goal = FamilyGoal("tip_over", "bottle", None, {})
    size = (0.07, 0.07, 0.22)
    lying = {"size": size, "init": (0.0, 0.0, TABLE + 0.11), "pos": (0.05, 0.0, TABLE + 0.035), "quat": ON_SIDE}
    check(goal, [{"objects": {"bottle": lying}},
                 {"objects": {"bottle": {**lying, "pos": (0.0, 0.0, TABLE + 0.11), "quat": UPRIGHT}}},  # standing
                 {"objects": {"bottle": {**lying, "spin": (3.0, 0.0, 0.0)}}},  # still rolling
                 {"objects": {"bottle": {**lying, "pos": (0.05, 0.0, TABLE + 0.3)}}}],  # on its side in the air
          [True, False, False, False])


def _sponge_and_cup(sponge_y, **sponge):
    return {"objects": {
        "sponge": {"size": (0.1, 0.06, 0.03), "init": (0.1, 0.3, TABLE + 0.015),
                   "pos": (0.1, sponge_y, TABLE + 0.015), **sponge},
        "cup": {"size": (0.08, 0.08, 0.1), "pos": (0.1, 0.0, TABLE + 0.05)}}}


def test_next_to():
    goal = FamilyGoal("next_to", "sponge", "cup", {"gap": 0.05, "how": "pushed"})
    # the cup's rim 4 cm from its centre, the sponge's near edge 3 cm from its own
    check(goal, [_sponge_and_cup(0.10),  # 3 cm apart
                 _sponge_and_cup(0.14),  # 7 cm apart
                 _sponge_and_cup(0.05),  # overlapping the cup
                 _sponge_and_cup(0.10, max_height=TABLE + 0.1)],  # carried there, not pushed
          [True, False, False, False])
    placed = FamilyGoal("next_to", "sponge", "cup", {"gap": 0.05, "how": "placed"})
    check(placed, [_sponge_and_cup(0.10), {**_sponge_and_cup(0.10), "eef": (0.1, 0.1, TABLE + 0.02), "width": 0.06}],
          [True, False])  # the second still in the hand
    assert FamilyGoal("next_to", "cup", "sponge", {"gap": 0.05})  # "how" defaults to pushed


def _block_and_bowl(block, **extra):
    return {**extra, "objects": {
        "block": {"size": (0.05, 0.05, 0.05), "init": (0.1, 0.25, TABLE + 0.025), "max_height": TABLE + 0.15,
                  "pos": block},
        "bowl": {"size": (0.16, 0.16, 0.07), "pos": (0.1, 0.0, TABLE + 0.035)}}}


def test_in_front_of():
    goal = FamilyGoal("in_front_of", "block", "bowl", {"dropped": True})
    rest = TABLE + 0.025
    never_lifted = _block_and_bowl((-0.08, 0.0, rest))
    never_lifted["objects"]["block"]["max_height"] = rest
    check(goal, [_block_and_bowl((-0.08, 0.0, rest)),  # 10 cm in front of the rim, towards the robot
                 _block_and_bowl((0.28, 0.0, rest)),  # behind the bowl
                 _block_and_bowl((-0.15, 0.0, rest)),  # 17 cm from the rim
                 _block_and_bowl((-0.08, 0.0, rest), eef=(-0.08, 0.0, rest)),  # still held
                 never_lifted],  # pushed there
          [True, False, False, False, False])
    check(FamilyGoal("in_front_of", "block", "bowl", {"dropped": False}), [never_lifted], [True])


def test_inside():
    thrown = FamilyGoal("inside", "garlic", "bowl", {"thrown": True})
    garlic = {"size": (0.05, 0.05, 0.05), "init": (0.1, 0.3, TABLE + 0.025), "pos": (0.12, 0.0, TABLE + 0.03)}
    bowl = {"size": (0.16, 0.16, 0.07), "pos": (0.1, 0.0, TABLE + 0.035)}

    def case(g=garlic, b=bowl, eef=(-0.2, 0.0, 0.8)):
        return {"eef": eef, "objects": {"garlic": g, "bowl": b}}
    check(thrown, [case(), case(g={**garlic, "pos": (0.25, 0.0, TABLE + 0.025)}),  # in the bowl; beside it
                   case(eef=(0.12, 0.05, TABLE + 0.1)),  # the hand 5 cm from it: placed, not thrown
                   case(b={**bowl, "quat": ON_SIDE})],  # the bowl knocked over
           [True, False, False, False])
    check(FamilyGoal("inside", "garlic", "bowl", {"thrown": False}), [case(eef=(0.12, 0.1, TABLE + 0.1))], [True])


def test_on_top():
    goal = FamilyGoal("on_top", "block", "storage_box", {})
    box = {"size": (0.2, 0.15, 0.08), "pos": (0.1, 0.0, TABLE + 0.04)}
    block = {"size": (0.05, 0.05, 0.05), "init": (0.1, 0.3, TABLE + 0.025)}
    check(goal, [{"objects": {"block": {**block, "pos": (0.12, 0.02, TABLE + 0.105)}, "storage_box": box}},
                 {"objects": {"block": {**block, "pos": (0.1, 0.2, TABLE + 0.025)}, "storage_box": box}},  # beside
                 {"objects": {"block": {**block, "pos": (0.12, 0.02, TABLE + 0.2)}, "storage_box": box}}],  # above
          [True, False, False])


def _dice_and_cup(cup_pos, quat=UPSIDE_DOWN, dice_pos=(0.1, 0.0, TABLE + 0.01)):
    return {"objects": {"dice": {"size": (0.02, 0.02, 0.02), "init": (0.1, 0.0, TABLE + 0.01), "pos": dice_pos},
                        "cup": {"size": (0.07, 0.07, 0.09), "init": (0.1, 0.15, TABLE + 0.045), "pos": cup_pos,
                                "quat": quat}}}


def test_cover():
    goal = FamilyGoal("cover", "dice", "cup", {})
    check(goal, [_dice_and_cup((0.105, 0.0, TABLE + 0.045)),  # upside down over the dice
                 _dice_and_cup((0.105, 0.0, TABLE + 0.045), quat=UPRIGHT),  # upright: not covering
                 _dice_and_cup((0.2, 0.0, TABLE + 0.045)),  # beside the dice
                 _dice_and_cup((0.105, 0.0, TABLE + 0.065))],  # sitting on the dice
          [True, False, False, False])


def test_uncover():
    goal = FamilyGoal("uncover", "dice", "cup", {})
    check(goal, [_dice_and_cup((0.2, 0.1, TABLE + 0.045)),  # moved off
                 _dice_and_cup((0.1, 0.0, TABLE + 0.045)),  # still over the dice
                 _dice_and_cup((0.2, 0.1, TABLE + 0.045), dice_pos=(0.3, -0.2, TABLE + 0.01))],  # dice knocked away
          [True, False, False])


def test_push_with():
    goal = FamilyGoal("push_with", "block", "ruler", {})
    ruler = {"size": (0.3, 0.03, 0.01), "init": (-0.05, 0.15, TABLE + 0.005), "pos": (-0.05, 0.15, TABLE + 0.05)}
    block = {"size": (0.05, 0.05, 0.05), "init": (0.1, 0.0, TABLE + 0.025), "pos": (0.1, 0.12, TABLE + 0.025)}

    def case(r=ruler, b=block, eef=(-0.05, 0.15, TABLE + 0.05), width=0.025):
        return {"eef": eef, "width": width, "objects": {"block": b, "ruler": r}}
    check(goal, [case(),
                 case(r={**ruler, "pos": ruler["init"]}, eef=ruler["init"]),  # the ruler still on the table
                 case(b={**block, "pos": (0.1, 0.08, TABLE + 0.025)}),  # 8 cm only
                 case(width=0.08),  # the hand open
                 case(b={**block, "max_height": TABLE + 0.1})],  # the block was carried
          [True, False, False, False, False])
