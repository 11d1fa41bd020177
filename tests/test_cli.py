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
