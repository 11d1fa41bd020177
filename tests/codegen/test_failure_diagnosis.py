"""Rule-based reward reflection that reads failure: each failure mode from a hand-made training
summary, and the edits it plans applied to real template-written modules (policy-clean, runnable)."""
from __future__ import annotations

import json
import math

import pytest
import torch

from baselines.rl.log_summary import ComponentSummary, GroupStats, TrainingSummary, summarize_training_log
from baselines.rl.recorder import METRICS_FILE
from generator.codegen.failure_diagnosis import RULE_BASED, component_role, diagnose, plan_edits
from generator.codegen.reflection import template_proposals
from generator.codegen.reward_edit import (HoldBonus, MoveBonus, ReachGate, RewardEdit, current_edit, edit_reward,
                                           reward_objects, strip_edits)
from generator.codegen.template_blocks import BLOCKS
from generator.codegen.template_writer import write_template_task
from generator.emit import emit_task
from generator.reference_tasks import REFERENCE_TASKS, build_reference_scene
from v2p_envs.state_keys import state_key_names, state_shapes
from v2p_envs.untrusted.code_policy import check_source
from v2p_envs.untrusted.trial import TrialConfig, trial_task_dir

ZERO = [0.0] * 5


def comp(name: str, trajectory: list[float], fail: float, succ: float | None = None) -> ComponentSummary:
    """A component as ``summarize_training_log`` gives it: trajectory, and failed / successful episodes."""
    success = GroupStats(5, succ, succ, succ) if succ is not None else GroupStats(0, None, None, None)
    return ComponentSummary(name, trajectory, max(trajectory), sum(trajectory) / len(trajectory), min(trajectory),
                            success, GroupStats(20, fail, fail, fail))


def summary(components: list[ComponentSummary], rates: list[float], successes: int = 0) -> dict:
    return TrainingSummary(5000, "generated", [1000 * (i + 1) for i in range(len(rates))], rates, [300.0] * len(rates),
                           100, successes, {c.name: c for c in components}).to_json()


REACHED = [0.1, 0.5, 0.6, 0.62, 0.6]
ACTION = comp("action_penalty", [-0.01] * 5, -0.01)
CASES = {
    "never_reaches": summary([comp("reach_reward", [0.03, 0.05, 0.06, 0.07, 0.06], 0.06),
                              comp("progress_reward", ZERO, 0.0), ACTION], ZERO),
    "no_move": summary([comp("reach_reward", REACHED, 0.6), comp("turn_reward", [0.0, 0.1, 0.2, 0.2, 0.2], 0.2),
                        comp("progress_reward", [0.0, 0.01, 0.0, 0.01, 0.0], 0.005),
                        comp("lift_penalty", ZERO, -0.001), comp("drift_penalty", [-0.01] * 5, -0.01), ACTION], ZERO),
    "drops": summary([comp("reach_reward", REACHED, 0.6), comp("grasp_reward", [0.0, 0.2, 0.4, 0.2, 0.1], 0.2),
                      comp("lift_reward", [0.0, 0.02, 0.03, 0.01, 0.0], 0.01), ACTION], ZERO),
    "wrong_way": summary([comp("reach_reward", REACHED, 0.6), comp("progress_reward", [0.0, 0.2, 0.3, 0.3, 0.3], 0.3),
                          comp("lift_penalty", [0.0, -0.5, -1.5, -1.5, -1.5], -1.5), ACTION], ZERO),
    "stops_short": summary([comp("reach_reward", REACHED, 0.6),
                            comp("progress_reward", [0.0, 0.5, 0.9, 0.95, 0.95], 0.9), ACTION], ZERO),
    "rare_success": summary([comp("reach_reward", REACHED, 0.6, 0.7),
                             comp("progress_reward", [0.0, 0.5, 0.6, 0.8, 0.9], 0.5, 2.5), ACTION],
                            [0.0, 0.0, 0.02, 0.05, 0.1], successes=12),
    "succeeding": summary([comp("reach_reward", REACHED, 0.6, 0.7),
                           comp("progress_reward", [0.0, 0.5, 0.6, 2.8, 2.9], 0.5, 2.9), ACTION],
                          [0.0, 0.3, 0.6, 0.85, 0.9], successes=80),
    "unclear": summary([comp("foo_term", [0.1] * 5, 0.1), comp("bar_term", [0.2] * 5, 0.2)], ZERO),
}
#: The reference task (its template-written module) each case's edits are applied to.
SCENE_OF = {"never_reaches": "PushLeft", "no_move": "PushLeft", "drops": "LiftUp", "wrong_way": "PushLeft",
            "stops_short": "PushLeft", "rare_success": "PushNextTo", "succeeding": "PushLeft", "unclear": "PushLeft"}


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    root = tmp_path_factory.mktemp("scenes")
    tasks = {t.class_name: t for t in REFERENCE_TASKS}
    names = set(SCENE_OF.values()) | {"Cover", "PushWith"}
    return {name: build_reference_scene(tasks[name], root / name) for name in names}


@pytest.fixture(scope="module")
def modules(scenes):
    return {name: write_template_task(scene).code for name, scene in scenes.items()}


def run_reward(code: str, num_envs: int = 4) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Import the module (it passed the code policy) and call its reward_function on a small states dict."""
    namespace: dict = {"__name__": "edited_task"}
    exec(compile(code, "edited_task.py", "exec"), namespace)  # noqa: S102 - the test's own, policy-checked code
    objects = [o["name"] for o in namespace["scene_info"]["objects"]]
    gen = torch.Generator().manual_seed(0)
    states = {}
    for key in state_key_names(objects):
        shape = (num_envs, *state_shapes(objects)[key])
        states[key] = 0.05 * torch.randn(shape, generator=gen)
    for name in objects:
        states[f"{name}_pos"] = torch.tensor([0.0, 0.0, 0.43]) + states[f"{name}_pos"]
        states[f"{name}_init_pos"] = states[f"{name}_pos"].clone()
        states[f"{name}_init_pos"][: num_envs // 2] -= torch.tensor([0.04, 0.0, 0.03])  # half moved and raised
        states[f"{name}_size"] = torch.full((num_envs, 3), 0.05)
        for q in ("quat", "init_quat"):
            states[f"{name}_{q}"] = torch.tensor([1.0, 0.0, 0.0, 0.0]).repeat(num_envs, 1)
        states[f"{name}_max_height"] = states[f"{name}_pos"][:, 2]
    states["eef_pos"] = torch.tensor([0.0, 0.0, 0.45]) + states["eef_pos"]
    states["gripper_width"] = torch.full((num_envs,), 0.04)
    states["table_height"] = torch.full((num_envs,), 0.4)
    reward, components = namespace["reward_function"](torch.zeros(num_envs, 7), states)
    assert reward.shape == (num_envs,) and torch.isfinite(reward).all()
    assert all(torch.isfinite(torch.as_tensor(v)).all() for v in components.values())
    return reward, components


@pytest.mark.parametrize("name, role", [
    ("reach_reward", "reach"), ("hand_to_object_reward", "reach"), ("grip_reward", "grasp"),
    ("grasp_hold_reward", "grasp"), ("raise_reward", "lift"), ("lift_reward", "lift"), ("turn_reward", "pose"),
    ("slide_reward", "progress"), ("approach_reward", "progress"), ("inside_reward", "progress"),
    ("release_reward", "release"), ("lift_penalty", "penalty"), ("wobble_penalty", "penalty"),
    ("action_penalty", "regularizer"), ("edit_move_bonus", "edit"), ("reward", "total"), ("mystery", "unknown"),
])
def test_roles_come_from_name_patterns(name, role):
    assert component_role(name) == role


def test_every_template_term_has_a_role():
    """The template writer's terms (which may change) all get a role the rules read."""
    for family, block in BLOCKS.items():
        for term in block.terms:
            assert component_role(term.lstrip("-")) != "unknown", (family, term)
    assert component_role("path_reward") == "progress"  # the writer's video path term, added to any block


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_failure_mode_from_a_hand_made_summary(case):
    diagnosis = diagnose(CASES[case])
    assert diagnosis.primary.mode == case
    assert diagnosis.primary.title in diagnosis.text() and diagnosis.text().startswith("Rule-based reading")


def test_diagnosis_details():
    assert diagnose(CASES["wrong_way"]).primary.title == "lifts it when it should push (lift_penalty dominates)"
    backwards = summary([comp("reach_reward", REACHED, 0.6),
                         comp("progress_reward", [0.0, -0.2, -0.5, -0.5, -0.5], -0.5)], ZERO)
    assert [f.mode for f in diagnose(backwards).findings] == ["wrong_way"]  # moved, the wrong way: not "no move"
    assert diagnose(CASES["stops_short"]).primary.levels == {"progress_reward": 0.9}
    assert diagnose(None).primary.mode == "unclear"
    assert diagnose(CASES["rare_success"]).primary.terms["contrast"][0] == "progress_reward"


@pytest.mark.parametrize("case, first_edit", [
    ("never_reaches", "reach_reward x2"),
    ("no_move", "gate on reach_reward, turn_reward: paid at 50% until the objects have moved 2 cm; bonus up to 0.5 "
                "for the first 3 cm the objects move"),
    ("drops", "grasp_reward x2; hold bonus 1 x grasp_reward while the objects are raised (full at 3 cm)"),
    ("wrong_way", "lift_penalty x2"),
    ("stops_short", "progress_reward x1.5; bonus 1 x (progress_reward above 0.9)"),
    ("rare_success", "progress_reward x1.5"),
    ("succeeding", "none (the reward as it is)"),
])
def test_each_diagnosis_plans_different_plausible_edits(case, first_edit):
    plans = plan_edits(diagnose(CASES[case]), RewardEdit(), ("snack_box",), 4)
    assert len(plans) == 4 and plans[0].delta.describe() == first_edit
    assert plans[0].proposal().startswith(RULE_BASED)
    if case != "succeeding":
        assert len({json.dumps(p.edit.to_json(), sort_keys=True) for p in plans}) == 4  # not the same edit twice


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_edits_apply_to_a_template_module_pass_the_policy_and_run(modules, case):
    code = modules[SCENE_OF[case]]
    _, base_components = run_reward(code)
    diagnosis = diagnose(CASES[case])
    proposals = template_proposals(code, diagnosis, CASES[case], RewardEdit(), 4)
    assert len(proposals) == 4
    for p in proposals:
        assert check_source(p.code) == [], p.proposal
        assert p.proposal.startswith(RULE_BASED) and p.diagnosis == diagnosis.text()
        edit = RewardEdit.from_json(p.edit)
        assert current_edit(p.code) == edit and strip_edits(p.code) == code
        _, components = run_reward(p.code)
        assert set(base_components) <= set(components)  # the reward's own components are still logged
        added = set(components) - set(base_components)
        assert all(n.startswith("edit_") for n in added) and (edit.shaping or not added)
    if case == "unclear":
        assert "coefficient search" in proposals[0].proposal


def test_gate_and_bonuses_do_what_they_say(modules):
    code = modules["PushLeft"]
    base_reward, base = run_reward(code)
    edit = RewardEdit(objects=reward_objects(code), reach_gate=ReachGate(("reach_reward",), 0.5),
                      move_bonus=MoveBonus(0.5))
    reward, components = run_reward(edit_reward(code, edit))
    moved = torch.arange(4) < 2  # run_reward moved the first half of the envs by 5 cm
    assert torch.allclose(components["edit_reach_gate"][moved], torch.zeros(2))
    assert torch.allclose(components["edit_reach_gate"][~moved], -0.5 * base["reach_reward"][~moved])
    assert torch.allclose(components["edit_move_bonus"][moved], torch.full((2,), 0.5))
    assert torch.allclose(reward, base_reward + components["edit_reach_gate"] + components["edit_move_bonus"])
    hold = RewardEdit(objects=("sponge",), hold_bonus=HoldBonus("grasp_reward", 2.0))
    _, lifted = run_reward(edit_reward(modules["LiftUp"], hold))
    assert torch.equal(lifted["edit_hold_bonus"][2:], torch.zeros(2))  # not raised: no hold bonus


def test_an_edited_module_passes_the_trial_in_the_simulator(scenes, modules, tmp_path):
    """The same edit in the real env (the reflection loop's trial: a child process, a few steps)."""
    code = modules["PushLeft"]
    plan = plan_edits(diagnose(CASES["no_move"]), RewardEdit(), reward_objects(code), 3)[2]
    assert plan.edit.reach_gate and plan.edit.move_bonus and plan.edit.weights  # gate, bonus and weights at once
    folder = emit_task(scenes["PushLeft"], edit_reward(code, plan.edit, note=plan.finding.text()),
                       {"reflection": RULE_BASED}, out_root=tmp_path, folder_name="task")
    trial = trial_task_dir(folder, TrialConfig(num_envs=2, steps=3, call_timeout_s=60.0))
    assert trial.passed, trial.message


def test_reward_objects_and_edits_that_compose(modules):
    assert reward_objects(modules["Cover"]) == ("dice", "cup")
    assert reward_objects(modules["PushWith"]) == ("ruler", "block")
    first = RewardEdit(weights={"reach_reward": 2.0}, objects=("snack_box",), move_bonus=MoveBonus(0.5))
    both = first.then(RewardEdit(weights={"reach_reward": 3.0, "progress_reward": 0.5}, move_bonus=MoveBonus(1.0)))
    assert both.weights == {"progress_reward": 0.5, "reach_reward": 6.0} and both.move_bonus == MoveBonus(1.0)
    assert RewardEdit(weights={"x": 10.0}).then(RewardEdit(weights={"x": 10.0})).weights == {"x": 20.0}  # capped
    edited = edit_reward(edit_reward(modules["PushLeft"], first), both, note="reaches but\nnever moves")
    assert edited.count("REWARD_WEIGHTS = ") == 1 and current_edit(edited) == both
    assert "# diagnosis: reaches but never moves" in edited  # the note cannot leave its comment
    assert edit_reward(edited, RewardEdit()) == modules["PushLeft"]


def test_diagnosis_from_a_real_training_log(tmp_path):
    """The summary as baselines writes and reads it (metrics.jsonl rows), never reaching the object."""
    rows = []
    for period in range(10):
        comps = {"reach_reward": 0.05 + 0.002 * period, "progress_reward": 0.0, "action_penalty": -0.01}
        group = {"count": 8, "components": {k: {"mean": v, "min": v, "max": v} for k, v in comps.items()}}
        empty = {"count": 0, "components": {}}
        rows.append({"period": period, "env_steps": 1000 * (period + 1), "wall_time_s": 1.0,
                     "reward_step_mean": sum(comps.values()), "components_step_mean": comps, "episodes": 8,
                     "success_rate": 0.0, "success_metric": "ground_truth", "generated_success_rate": 0.0,
                     "episode_return": 1.0, "episode_length": 300.0,
                     "episode_components": {s: {"success": empty, "failure": group}
                                            for s in ("generated", "ground_truth")}})
    (tmp_path / METRICS_FILE).write_text("".join(json.dumps(r) + "\n" for r in rows))
    diagnosis = diagnose(summarize_training_log(tmp_path).to_json())
    assert diagnosis.primary.mode == "never_reaches" and math.isclose(diagnosis.success_rate, 0.0)


def test_an_iteration_without_a_better_sample_goes_on_to_new_edits(modules):
    code, case = modules["PushLeft"], CASES["no_move"]
    first = template_proposals(code, diagnose(case), case, RewardEdit(), 4)
    tried = {json.dumps(p.edit, sort_keys=True) for p in first}
    second = template_proposals(code, diagnose(case), case, RewardEdit(), 4, tried)
    assert len(second) == 4 and not tried & {json.dumps(p.edit, sort_keys=True) for p in second}
    assert all(p.proposal.startswith(RULE_BASED) and "reaches but never moves" in p.proposal for p in second)
