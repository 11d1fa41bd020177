"""`v2p run` prints success and writes a playable mp4 that shows the scene."""
import imageio.v2 as imageio
import numpy as np

from v2p.cli import main


def test_v2p_run_writes_playable_video(tmp_path, capsys):
    video = tmp_path / "out.mp4"
    assert main(["run", "V2P-ReachBlock-v0", "--policy", "oracle", "--episodes", "1", "--video", str(video)]) == 0
    out = capsys.readouterr().out
    assert "success rate 1.00" in out
    reader = imageio.get_reader(str(video))
    frames = [reader.get_data(i) for i in (0, 100)]
    assert reader.count_frames() == 150  # every second of 300 steps
    assert frames[0].shape == (256, 256, 3)
    assert np.abs(frames[0].astype(int) - frames[1].astype(int)).mean() > 1.0  # the robot moved


def test_v2p_help_lists_run(capsys):
    try:
        main(["--help"])
    except SystemExit as exc:
        assert exc.code == 0
    assert "run" in capsys.readouterr().out


def test_v2p_list_shows_every_task(capsys):
    import json

    assert main(["list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 14 and sum(r["table1"] for r in rows) == 12
    garlic = next(r for r in rows if r["id"] == "V2P-ThrowGarlic-v0")
    assert garlic["objects"] == ["garlic", "bowl"] and "garlic" in garlic["description"].lower()
    assert main(["list"]) == 0 and "V2P-PushLeft-v0" in capsys.readouterr().out


def test_a_mistyped_id_is_one_line_with_a_suggestion(capsys):
    assert main(["run", "V2P-PushLft-v0", "--episodes", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "did you mean V2P-PushLeft-v0" in err


def test_every_subcommand_help_shows_defaults(capsys):
    for command in ("list", "run", "train", "eval", "reconstruct"):
        try:
            main([command, "--help"])
        except SystemExit as exc:
            assert exc.code == 0
        out = capsys.readouterr().out
        assert "(default:" in out or command == "list", command
        if command in ("run", "train", "eval", "reconstruct"):
            assert "--no-progress" in out, command


def test_the_installed_console_script_runs():
    import shutil
    import subprocess

    exe = shutil.which("v2p")
    assert exe, "the v2p console script is not installed (pip install -e .)"
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "reconstruct" in out.stdout
