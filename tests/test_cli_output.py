"""Command output is never hard-wrapped: a long path printed by a command stays on one line when
stdout is a pipe (rich would otherwise break it at 80 columns, splitting paths mid-word)."""
from __future__ import annotations

from v2p.commands.common import output_console


def test_a_long_path_stays_on_one_line(capsys):
    path = "/tmp/" + "/".join(["a_rather_long_folder_name"] * 8) + "/policy.mp4"
    output_console().print(f"4/4 policy written · video {path}")
    assert capsys.readouterr().out == f"4/4 policy written · video {path}\n"
