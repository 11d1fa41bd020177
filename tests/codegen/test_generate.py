"""The generation loop: samples, the code policy and the trial, regeneration with the error,
picking, recording and exact replay; against a local OpenAI-compatible server and offline."""
from __future__ import annotations

import json

import pytest

from generator.codegen.generate import GenerateConfig, generate_task
from generator.codegen.template_writer import write_template_task
from generator.reference_tasks import REFERENCE_TASKS, build_reference_scene
from v2p_envs.untrusted.trial import TrialConfig

TRIAL = TrialConfig(num_envs=1, steps=2, call_timeout_s=8.0, timeout_s=120.0)
SUCCESS_LINE = "return (along >= 0.15) & (across < along) & same_height & never_lifted & at_rest & on_table"
REWARD_LINE = "    reward = sum(components.values())"


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    task = next(t for t in REFERENCE_TASKS if t.class_name == "PushLeft")
    return build_reference_scene(task, tmp_path_factory.mktemp("push_left"))


@pytest.fixture(scope="module")
def good_code(scene):
    code = write_template_task(scene).code
    assert SUCCESS_LINE in code and REWARD_LINE in code
    return code


def _fenced(code: str) -> str:
    return f"Here is the module.\n\n```python\n{code}```\nIt pushes the box left."


def _hostile(good: str, marker) -> list[tuple[str, str]]:
    """(expected category, reply) for each broken or hostile sample."""
    return [
        ("syntax", "```python\ndef broken(:\n    pass\n```"),
        ("import", _fenced(good.replace("import torch\n", f"import torch\nimport os\nos.system('touch {marker}')\n"))),
        ("forbidden", _fenced(good.replace(SUCCESS_LINE, f"__import__('os').system('touch {marker}')\n        " + SUCCESS_LINE))),
        ("forbidden", _fenced(good.replace(SUCCESS_LINE, f"open('{marker}', 'w')\n        " + SUCCESS_LINE))),
        ("timeout", _fenced(good.replace(SUCCESS_LINE, "while True:\n            pass\n        " + SUCCESS_LINE))),
        ("memory", _fenced(good.replace(SUCCESS_LINE, "x = torch.ones(2 ** 34)\n        " + SUCCESS_LINE))),
        ("non_finite", _fenced(good.replace(REWARD_LINE, REWARD_LINE + " * float('nan')"))),
        ("shape", _fenced(good.replace("get_observation_space() + 6", "get_observation_space() + 7"))),
        (None, good),  # code outside a block: taken whole, it parses
    ]


def test_hostile_samples_are_contained_recorded_and_regenerated(fake_openai, scene, good_code, tmp_path):
    marker = tmp_path / "pwned"
    hostile = _hostile(good_code, marker)

    def reply(body, call_index):
        last = body["messages"][-1]["content"]
        if "candidate task modules" in last:
            return "Candidate 2 checks the resting height and the lift, and its reward pushes from behind.\nChosen: 2"
        if "could not be used" in last:
            return _fenced(good_code)  # the regeneration fixes it
        return hostile[call_index][1]

    server = fake_openai(reply)
    config = GenerateConfig(backend="openai", model="fake", base_url=server.base_url, samples=len(hostile),
                            max_retries=1, trial=TRIAL, progress=False)
    result = generate_task(scene, tmp_path / "run", config)
    first = {a.sample: a for a in result.attempts if a.attempt == 0}
    assert [first[k + 1].category for k in range(len(hostile))] == [c for c, _ in hostile]
    assert not marker.exists()  # no payload ran
    assert result.runnable == list(range(1, len(hostile) + 1))  # every failed sample was fixed by its regeneration
    assert result.pick["method"] == "model" and result.chosen_sample == 2
    record = json.loads((tmp_path / "run" / "generation.json").read_text())
    assert record["usage"]["total_tokens"] > 0 and len(record["request_keys"]) == 1 + 8 + 1
    provenance = json.loads((result.task_dir / "provenance.json").read_text())
    assert provenance["is_model_output"] is True and provenance["model"] == "fake" and provenance["sample_id"] == 2
    assert (tmp_path / "run" / "report.md").read_text().count("| timeout |") == 1
    regenerate = [b for b in server.requests if "could not be used" in b["messages"][-1]["content"]]
    assert len(regenerate) == 8 and any("non_finite" in b["messages"][-1]["content"] for b in regenerate)

    # replay: no endpoint, the same generation, byte for byte
    replayed = generate_task(scene, tmp_path / "replayed", GenerateConfig(
        backend="replay", replay_from=tmp_path / "run", samples=len(hostile), max_retries=1, trial=TRIAL,
        progress=False))
    assert (replayed.task_dir / "task.py").read_bytes() == (result.task_dir / "task.py").read_bytes()
    assert [(a.sample, a.attempt, a.category, a.code_sha256) for a in replayed.attempts] == \
        [(a.sample, a.attempt, a.category, a.code_sha256) for a in result.attempts]
    stored = sorted((tmp_path / "run" / "llm").glob("*.json"))
    assert [p.read_bytes() for p in stored] == [(tmp_path / "replayed" / "llm" / p.name).read_bytes() for p in stored]
    with pytest.raises(Exception, match="no recorded response"):  # other settings: other keys, a clear miss
        generate_task(scene, tmp_path / "other", GenerateConfig(backend="replay", replay_from=tmp_path / "run",
                                                               samples=3, trial=TRIAL, progress=False))


def test_a_server_that_ignores_n_and_rate_limits(fake_openai, scene, good_code, tmp_path):
    server = fake_openai([_fenced(good_code)] * 3 + ["Both are fine; no choice."], mode="ignore_n",
                         fail_first=[429, 429])
    config = GenerateConfig(backend="openai", model="fake", base_url=server.base_url, samples=3, max_retries=0,
                            trial=TRIAL, progress=False)
    result = generate_task(scene, tmp_path / "run", config)
    assert result.runnable == [1, 2, 3]
    assert result.pick["method"] == "fallback: first runnable" and result.chosen_sample == 1  # unparsable pick
    assert server.statuses.count(429) == 2 and len([b for b in server.requests if b.get("n", 1) == 1]) >= 3


def test_no_pick_and_no_runnable_sample(fake_openai, scene, good_code, tmp_path):
    server = fake_openai([_fenced(good_code)] * 2)
    result = generate_task(scene, tmp_path / "a", GenerateConfig(
        backend="openai", model="fake", base_url=server.base_url, samples=2, pick=False, trial=TRIAL, progress=False))
    assert result.pick["method"] == "first runnable (--no-pick)" and result.chosen_sample == 1
    server = fake_openai(["no code here, sorry"] * 2)
    result = generate_task(scene, tmp_path / "b", GenerateConfig(
        backend="openai", model="fake", base_url=server.base_url, samples=1, max_retries=1, trial=TRIAL,
        progress=False))
    assert result.task_dir is None and [a.category for a in result.attempts] == ["syntax", "syntax"]


def test_the_template_backend_offline(scene, tmp_path):
    result = generate_task(scene, tmp_path / "run", GenerateConfig(trial=TRIAL, progress=False))
    provenance = json.loads((result.task_dir / "provenance.json").read_text())
    assert provenance["backend"] == "template" and provenance["is_model_output"] is False
    assert "not a model" in provenance["written_by"] and result.runnable == [1]
    assert not (tmp_path / "run" / "llm").exists()


def test_v2p_generate_through_the_real_main(fake_openai, scene, good_code, tmp_path, capsys):
    from v2p.cli import main

    scene_dir = tmp_path / "scene"
    scene_dir.mkdir()
    import shutil

    for obj in scene.objects:
        (scene_dir / obj.mesh_path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(scene.resolve(obj.mesh_path), scene_dir / obj.mesh_path)
    scene.save(scene_dir / "scene.json")
    server = fake_openai([_fenced(good_code)] * 2 + ["Chosen: 2"])
    out = tmp_path / "run"
    assert main(["generate", str(scene_dir), "--backend", "openai", "--base-url", server.base_url, "--model", "fake",
                 "--samples", "2", "--price", "2.5,10", "--out", str(out), "--no-progress"]) == 0
    record = json.loads((out / "generation.json").read_text())
    assert record["chosen_sample"] == 2 and record["cost_usd"] > 0 and record["model"] == "fake"
    assert "runnable samples [1, 2]" in capsys.readouterr().out
    assert main(["generate", str(scene_dir), "--backend", "replay", "--replay-from", str(out), "--samples", "2",
                 "--out", str(tmp_path / "again"), "--no-progress"]) == 0
    assert (tmp_path / "again" / "task" / "push_left" / "task.py").read_bytes() == \
        (out / "task" / "push_left" / "task.py").read_bytes()
    assert main(["generate", str(scene_dir), "--caption", "fold the snack box", "--out", str(tmp_path / "x")]) == 2
    assert "does not know the verb phrase" in capsys.readouterr().err
