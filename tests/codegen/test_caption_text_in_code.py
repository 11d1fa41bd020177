"""Caption and scene text reach generated code only as escaped string literals (issue 26): a
caption with triple quotes closed the generated task.py's docstring, so caption text became
module-level code, and that code passed its trial. The writers' output for a hostile caption has
the same statements as for a plain one, and the text is still there, escaped, in the docstring."""
from __future__ import annotations

import ast
import dataclasses

import pytest

from generator.codegen.cap_template import write_template_plan
from generator.codegen.template_writer import docstring_text, write_template_task
from generator.reference_tasks import REFERENCE_TASKS, build_reference_scene
from v2p_envs.scene_spec import SceneSpecError
from v2p_envs.untrusted.code_policy import check_source

PLAIN = "lift up the sponge"
HOSTILE = ('lift up the sponge """ \'\'\' \\ \\n \\x00 \n"); import os; os.system("x")#\n'
           '"""\nimport os\nos.system("touch pwned")\n"""  \u2028 \ud800 end\\')


#: what the template's verb-phrase reader accepts: the words of "lift up the sponge" and no others
QUOTES_ONLY = 'lift up the sponge """ \'\'\' \\ \n "); # """ \\'


@pytest.fixture
def lax_reader(monkeypatch):
    """The writers reading any caption as "lift up the sponge": the escaping must not rest on
    the verb-phrase reader refusing words (a model backend, or a laxer reader, takes any text)."""
    from generator.codegen import cap_template, template_writer
    from generator.codegen.intent import parse_intent

    def read(caption, scene):
        return dataclasses.replace(parse_intent(PLAIN, scene), caption=caption)

    monkeypatch.setattr(template_writer, "parse_intent", read)
    monkeypatch.setattr(cap_template, "parse_intent", read)


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    task = next(t for t in REFERENCE_TASKS if t.class_name == "LiftUp")
    return build_reference_scene(task, tmp_path_factory.mktemp("scene"))


def _shape(code: str) -> list[tuple[str, ...]]:
    """Each module-level statement: its kind and what it binds or imports."""
    shape = []
    for node in ast.parse(code).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            shape.append((type(node).__name__, node.name))
        elif isinstance(node, ast.Assign):
            shape.append(("Assign", *(ast.unparse(t) for t in node.targets)))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            shape.append((type(node).__name__, ast.unparse(node)))
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            shape.append(("Docstring",))
        else:
            shape.append((type(node).__name__, ast.unparse(node)))
    return shape


def test_docstring_text_reads_back_as_the_text():
    for text in (PLAIN, HOSTILE, '"', "\\", 'ends with a quote"', "\\N{BULLET}", "tab\there"):
        assert ast.literal_eval('"""' + docstring_text(text) + '"""') == text
    assert docstring_text(PLAIN) == PLAIN  # a caption of words is written as it is


def test_quotes_and_backslashes_in_a_caption_the_reader_accepts(scene):
    code = write_template_task(scene, QUOTES_ONLY).code
    assert _shape(code) == _shape(write_template_task(scene, PLAIN).code)
    assert f"Task Description: {QUOTES_ONLY.strip()}." in ast.get_docstring(ast.parse(code), clean=False)
    plan, _ = write_template_plan(scene, QUOTES_ONLY)
    assert _shape(plan) == _shape(write_template_plan(scene, PLAIN)[0])


def test_a_hostile_caption_adds_no_statement_to_the_task_module(scene, lax_reader):
    plain = write_template_task(scene, PLAIN).code
    code = write_template_task(scene, HOSTILE).code
    assert _shape(code) == _shape(plain)
    tree = ast.parse(code)
    docstring = ast.get_docstring(tree, clean=False)
    assert f"Task Description: {HOSTILE.strip()}." in docstring  # the text is there, escaped
    assert "Task Description: lift up the sponge \\\"\\\"\\\"" in code  # as escapes in the source
    task_class = next(n for n in tree.body if isinstance(n, ast.ClassDef))
    description = next(n for n in task_class.body if isinstance(n, ast.Assign)
                       and ast.unparse(n.targets[0]) == "task_description")
    assert ast.literal_eval(description.value) == HOSTILE.strip()
    assert check_source(code) == []
    assert not any(isinstance(n, ast.Import) and n.names[0].name == "os" for n in ast.walk(tree))


def test_a_hostile_title_adds_no_statement_either(scene):
    hostile = dataclasses.replace(scene, task_title=HOSTILE)
    code = write_template_task(hostile, PLAIN).code
    assert _shape(code) == _shape(write_template_task(scene, PLAIN).code)
    assert ast.get_docstring(ast.parse(code), clean=False).startswith("L" + HOSTILE[1:] + ".")
    info = next(n for n in ast.parse(code).body if isinstance(n, ast.Assign)
                and ast.unparse(n.targets[0]) == "scene_info")
    assert ast.literal_eval(info.value)["task_title"] == HOSTILE


def test_a_hostile_caption_adds_no_statement_to_the_policy_plan(scene, lax_reader):
    plain, _ = write_template_plan(scene, PLAIN)
    code, _ = write_template_plan(scene, HOSTILE)
    assert _shape(code) == _shape(plain)
    assert HOSTILE.strip() in ast.get_docstring(ast.parse(code), clean=False)


@pytest.mark.parametrize("field, value", [
    ("name", 'sponge"]; import os; os.system("x"); x = states["'),
    ("name", "sponge\n"),
    ("name", "Sponge"),
    ("task_class_name", "LiftUp(Task):\n    pass\nimport os\nclass X"),
    ("task_class_name", "LiftUp\n"),
])
def test_names_written_as_identifiers_are_checked_for_scenes_made_in_code(scene, field, value):
    if field == "name":
        bad = dataclasses.replace(scene, objects=(dataclasses.replace(scene.objects[0], name=value),))
        where = "objects[0].name"
    else:
        bad = dataclasses.replace(scene, task_class_name=value)
        where = "task_class_name"
    for write in (write_template_task, write_template_plan):
        with pytest.raises(SceneSpecError) as err:
            write(bad, PLAIN)
        assert f"field '{where}'" in str(err.value) and repr(value) in str(err.value)
