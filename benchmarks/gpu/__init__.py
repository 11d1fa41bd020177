"""The Python side of ``benchmarks/gpu_check.sh``, one prepared check of the MuJoCo Warp GPU path.

- ``warp_bench``: env-step throughput against bare MuJoCo Warp physics, and peak GPU memory
  (also what ``benchmarks/test_warp_step.py`` times with pytest-benchmark);
- ``plan``: the ``--steps`` upper bound of the check's time-limited training run;
- ``machine``: machine, package versions, commit and date;
- ``summary``: ``summary.json`` and ``summary.md`` of an output folder;
- ``__main__``: the command line, ``python -m benchmarks.gpu {info,bench,plan,summary}``.

Training and evaluation go through ``v2p train`` / ``v2p eval`` themselves.
"""
