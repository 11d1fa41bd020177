"""Reward reflection end to end at a tiny budget: the template's rule-based reflection (failure
diagnosis and reward edits) and a model over the local OpenAI-compatible server; every sample
trained as a job, failures recorded."""
from __future__ import annotations

import json

from generator.codegen.failure_diagnosis import RULE_BASED
from generator.codegen.reflection import ReflectionConfig, reflect, template_weight_candidates
from generator.codegen.reward_edit import RewardEdit, reward_function_source, splice_reward, weight_reward
from generator.jobs import LocalRunner
from v2p_envs.untrusted.trial import TrialConfig

from ..task_folders import task_variant

TINY = ReflectionConfig(iterations=1, samples=2, seeds=1, train_kwargs={"steps": 64, "num_envs": 4,
                                                                        "episode_length": 8},
                        trial=TrialConfig(num_envs=1, steps=2, call_timeout_s=30.0), job_timeout_s=300)
NEW_REWARD = '''```python
def reward_function(actions, states):
    dist = torch.norm(states["block_pos"] - states["eef_pos"], dim=-1)
    reach_reward = 2.0 * (1.0 - torch.tanh(5.0 * dist))
    components = {"reach_reward": reach_reward, "marker_reward": 0.0 * dist}
    return reach_reward, components
```'''


def test_reward_edits_keep_the_rest_of_the_module(tmp_path):
    code = (task_variant(tmp_path, "reach_block") / "task.py").read_text()
    spliced = splice_reward(code, NEW_REWARD.strip("`").removeprefix("python\n"))
    assert "marker_reward" in reward_function_source(spliced) and spliced.count("def reward_function") == 1
    assert spliced.split("def reward_function")[0] == code.split("def reward_function")[0]
    weighted = weight_reward(weight_reward(code, {"reach_reward": 3.0}), {"reach_reward": 2.0})
    assert weighted.count("REWARD_WEIGHTS = ") == 1 and '{"reach_reward": 2.0}' in weighted


def test_template_search_raises_silent_components_and_lowers_dominant_ones():
    feedback = {"components": {"reach_reward": {"failure": {"mean": 0.001}, "mean": 0.0},
                               "progress_reward": {"failure": {"mean": 3.0}, "mean": 3.0},
                               "action_penalty": {"failure": {"mean": -0.01}, "mean": -0.01}}}
    first, second = template_weight_candidates(feedback, {}, 2)
    assert first == {"reach_reward": 1.5, "progress_reward": round(1 / 1.5, 4)} and second["reach_reward"] == 2.0


def test_template_reflection_trains_every_sample(tmp_path):
    base = task_variant(tmp_path, "reach_block")
    result = reflect(base, tmp_path / "reflect", TINY, client=None, runner=LocalRunner(workers=2))
    assert [s.status for s in result.samples] == ["trained"] * 3
    assert all(s.score is not None and s.feedback for s in result.samples)
    record = json.loads((tmp_path / "reflect" / "reflection.json").read_text())
    assert len(record["best_score_per_iteration"]) == 2 and record["reflection"] == RULE_BASED
    assert (tmp_path / "reflect" / "reflection.png").stat().st_size > 1000
    diagnosis = json.loads((tmp_path / "reflect" / "iter_01" / "diagnosis.json").read_text())
    assert record["diagnosis_per_iteration"] == [None, diagnosis] and diagnosis["findings"]
    for sample, recorded in zip(result.samples[1:], record["samples"][1:]):
        # each sample: the rule-based proposal, the diagnosis it answers and its edit, in the record
        assert sample.proposal.startswith(RULE_BASED) and sample.diagnosis == diagnosis["text"]
        assert recorded["diagnosis"] == diagnosis["text"] and recorded["edit"] == sample.edit
        edit = RewardEdit.from_json(sample.edit)
        assert all(w > 0 for w in edit.weights.values())
        task = tmp_path / "reflect" / "iter_01" / f"sample_{sample.sample:02d}" / "task"
        assert edit.is_empty or "REWARD_EDIT = " in (task / "task.py").read_text()
        provenance = json.loads((task / "provenance.json").read_text())
        assert provenance["reflection"] == RULE_BASED and provenance["reward_diagnosis"] == diagnosis["text"]
        assert provenance["reward_edit"] == sample.edit and provenance["reward_proposal"] == sample.proposal
    provenance = json.loads((result.best_task_dir / "provenance.json").read_text())
    assert provenance["training_score"] == result.best.score and "not a model" in provenance["reflection"]


def test_model_reflection_records_broken_samples(fake_openai, tmp_path):
    server = fake_openai(["No code, just thoughts.", "Here:\n" + NEW_REWARD])
    from generator.codegen.llm import OpenAIChatClient

    client = OpenAIChatClient(server.base_url, "fake", backoff_s=0)
    result = reflect(task_variant(tmp_path, "reach_block"), tmp_path / "reflect", TINY, client=client)
    statuses = [(s.iteration, s.status) for s in result.samples]
    assert statuses == [(0, "trained"), (1, "non_runnable"), (1, "trained")]
    trained = result.samples[2]
    assert "marker_reward" in (tmp_path / "reflect" / "iter_01" / "sample_02" / "task" / "task.py").read_text()
    assert "marker_reward" in trained.feedback  # the new reward's components were logged and fed back
    prompt = (tmp_path / "reflect" / "iter_01" / "prompt.txt").read_text()
    assert "reach_reward" in prompt and "successful" in prompt
    diagnosis = json.loads((tmp_path / "reflect" / "iter_01" / "diagnosis.json").read_text())["text"]
    assert diagnosis.startswith("Rule-based reading") and diagnosis in prompt  # next to the policy feedback
    assert prompt.index(result.samples[0].feedback.splitlines()[-1]) < prompt.index(diagnosis)
    assert all(s.diagnosis == diagnosis for s in result.samples[1:]) and trained.edit is None
    provenance = json.loads((tmp_path / "reflect" / "iter_01" / "sample_02" / "task" / "provenance.json").read_text())
    assert provenance["reflection"] == "model" and provenance["reward_diagnosis"] == diagnosis
