"""The template backend's Code-as-Policies writer: policy code from the caption (not a model).

Writes a module with ``plan(robot)`` over the robot API of ``baselines.methods.primitives``
(perception calls and move / open / close / wait primitives) for the caption's verb family
(``intent.parse_intent``). Plans read the state each time they are called (every 50 steps), so
a grasp already made is not made again. Deterministic; says in the code that a rule-based
writer wrote it.
"""
from __future__ import annotations

from string import Template

from v2p_envs.scene_spec import SceneSpec
from v2p_envs.untrusted.code_policy import check_source

from .intent import TaskIntent, parse_intent
from .template_writer import docstring_text

__all__ = ["write_template_plan"]

_HELPERS = '''"""Policy code for "${caption}": written by video2policy's template backend, a rule-based writer
(verb family "${family}"), not a language model."""
import math


def near(a, b, tol):
    return math.dist(a, b) < tol


def holding(robot, name):
    """The object sits between the closed fingers, off the table."""
    x, y, z = robot.position(name)
    return near(robot.hand(), (x, y, z), 0.05) and robot.gripper() < 0.075 and z > robot.table_height + robot.size(name)[2] / 2 + 0.01


def pick(robot, name, grasp_dz=0.0, lift=0.15):
    """Grasp ``name`` from above (across its width), ``grasp_dz`` above its centre, and lift it;
    continues from where the hand is (plans are called again every 50 steps)."""
    x, y, z = robot.position(name)
    yaw = robot.yaw(name)
    gz = z + grasp_dz
    hx, hy, hz = robot.hand()
    if not near((hx, hy, hz), (x, y, gz), 0.02):
        if not (near((hx, hy), (x, y), 0.02) and hz > gz):  # not yet above it: open and go there
            robot.open()
            robot.move(x, y, gz + 0.10, yaw)
        robot.move(x, y, gz, yaw, speed=0.5)
    robot.close()
    robot.move(x, y, gz + lift, yaw, speed=0.5)


def place(robot, name, x, y, z):
    """Carry the held ``name`` above (x, y), lower its centre to z and let go."""
    yaw = robot.yaw(name)
    robot.move(x, y, z + 0.12, yaw)
    robot.move(x, y, z, yaw, speed=0.4)
    robot.open()
    robot.move(x, y, z + 0.10, yaw)


def push(robot, name, dx, dy, distance, height=0.02):
    """Stand behind ``name`` against (dx, dy), low, and push it ``distance`` along (dx, dy)."""
    x, y, z = robot.position(name)
    l, w, h = robot.size(name)
    back = max(l, w) / 2 + 0.04
    low = robot.table_height + min(height, h / 2)
    yaw = math.atan2(dy, dx) + math.pi / 2
    robot.open()
    robot.move(x - dx * back, y - dy * back, low + 0.12, yaw)
    robot.move(x - dx * back, y - dy * back, low, yaw, speed=0.5)
    robot.move(x + dx * (distance - back), y + dy * (distance - back), low, yaw, speed=0.3, steps=120)
    robot.move(x + dx * (distance - back - 0.04), y + dy * (distance - back - 0.04), low + 0.12, yaw)


'''

_PLANS = {
    "displace": '''def plan(robot):
    sx, sy, _ = robot.start_position("${x}")
    x, y, _ = robot.position("${x}")
    moved = (x - sx) * ${dx} + (y - sy) * ${dy}
    if moved < ${distance} + 0.02:
        push(robot, "${x}", ${dx}, ${dy}, ${distance} + 0.03 - moved)
''',
    "next_to": '''def plan(robot):
    x, y, _ = robot.position("${x}")
    tx, ty, _ = robot.position("${y}")
    gap = math.dist((x, y), (tx, ty)) - max(robot.size("${x}")[:2]) / 2 - max(robot.size("${y}")[:2]) / 2
    if gap > 0.01:
        d = math.dist((x, y), (tx, ty))
        push(robot, "${x}", (tx - x) / d, (ty - y) / d, gap - 0.005)
''',
    "lift": '''def plan(robot):
    x, y, z = robot.position("${x}")
    if not holding(robot, "${x}"):
        pick(robot, "${x}", lift=${height} + 0.05)
    else:
        robot.wait(50)
''',
    "tip_over": '''def plan(robot):
    x, y, z = robot.position("${x}")
    l, w, h = robot.size("${x}")
    if robot.up("${x}") > 0.5:
        top = robot.table_height + 0.8 * h
        robot.move(x - 0.10, y, top + 0.05)
        robot.move(x - 0.10, y, top, speed=0.5)
        robot.move(x + 0.12, y, top, speed=0.6)
        robot.move(x + 0.05, y, top + 0.15)
''',
    "inside": '''def plan(robot):
    if not holding(robot, "${x}"):
        pick(robot, "${x}")
    cx, cy, cz = robot.position("${y}")
    place(robot, "${x}", cx, cy, robot.table_height + robot.size("${y}")[2] + 0.05)
''',
    "on_top": '''def plan(robot):
    if not holding(robot, "${x}"):
        pick(robot, "${x}")
    cx, cy, cz = robot.position("${y}")
    place(robot, "${x}", cx, cy, robot.table_height + robot.size("${y}")[2] + robot.size("${x}")[2] / 2 + 0.02)
''',
    "in_front_of": '''def plan(robot):
    if not holding(robot, "${x}"):
        pick(robot, "${x}")
    cx, cy, cz = robot.position("${y}")
    place(robot, "${x}", cx - robot.size("${y}")[0] / 2 - 0.10, cy, robot.table_height + robot.size("${x}")[2] / 2 + 0.05)
''',
    "cover": '''def plan(robot):
    half = robot.size("${y}")[2] / 2
    if not holding(robot, "${y}"):
        pick(robot, "${y}", grasp_dz=half - 0.025, lift=0.08)
    ox, oy, oz = robot.position("${x}")
    place(robot, "${y}", ox, oy, robot.table_height + half + 0.01)
''',
    "uncover": '''def plan(robot):
    half = robot.size("${y}")[2] / 2
    if not holding(robot, "${y}"):
        pick(robot, "${y}", grasp_dz=half - 0.025, lift=0.08)
    ox, oy, oz = robot.position("${x}")
    place(robot, "${y}", ox + 0.05, oy + (0.18 if oy < 0 else -0.18), robot.table_height + half + 0.01)
''',
    "push_with": '''def plan(robot):
    if not holding(robot, "${y}"):
        pick(robot, "${y}", lift=0.02)
    x, y, z = robot.position("${x}")
    yaw = robot.yaw("${y}")
    low = robot.table_height + robot.size("${y}")[2] / 2 + 0.015
    robot.move(x - 0.08, y, low + 0.05, yaw)
    robot.move(x - 0.08, y, low, yaw, speed=0.5)
    robot.move(x + 0.08, y, low, yaw, speed=0.3, steps=120)
''',
}


def write_template_plan(scene: SceneSpec, caption: str | None = None) -> tuple[str, TaskIntent]:
    """Policy code (a module with ``plan(robot)``) for the caption's verb family."""
    caption = (caption or scene.task_title).strip()
    scene.check_names()  # object names are written into the plan as string literals' text
    intent = parse_intent(caption, scene)
    # the caption stands in the module's docstring, escaped so that no text can close it
    params = {"x": intent.x, "y": intent.y or "", "caption": docstring_text(caption), "family": intent.family,
              "height": "0.10", "distance": "0.15", "dx": "0.0", "dy": "0.0"}
    if intent.family == "displace":
        params["dx"], params["dy"] = (repr(round(v, 4)) for v in intent.params["direction"])
    code = Template(_HELPERS + _PLANS[intent.family]).substitute(params)
    violations = check_source(code)
    if violations:  # a bug of the writer
        raise AssertionError(f"the template wrote policy code its own policy refuses: {violations}")
    return code, intent
