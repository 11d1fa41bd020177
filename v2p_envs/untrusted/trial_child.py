"""The child side of the trial (``v2p_envs.untrusted.trial``): runs in its own process.

    python -m v2p_envs.untrusted.trial_child TASK_DIR --out RESULT.json [--num-envs 2 --steps 5 ...]

Builds the env from the folder (its code already accepted by the code policy, checked again
here), resets and steps it under an alarm, and writes what happened as a ``TrialResult``.
"""
from __future__ import annotations

import argparse
import json
import signal
import time
from pathlib import Path

from ..errors import TaskContractError, V2PError
from ..scene_spec import SceneSpecError
from ..task_loader import TaskLoadError
from .trial import TrialConfig, TrialResult, check_task_code

__all__ = ["main"]


class _CallTimeout(BaseException):
    """Raised by the alarm in the child; a BaseException so that task code's ``except Exception`` lets it pass."""


def _categorize(exc: BaseException) -> tuple[str, str]:
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, _CallTimeout):
        return "timeout", str(exc)
    if isinstance(exc, TaskContractError):
        return exc.category, str(exc)
    if isinstance(exc, MemoryError) or (isinstance(exc, RuntimeError) and "alloc" in str(exc).lower()):
        return "memory", text
    if isinstance(exc, (TaskLoadError, SceneSpecError)):
        cause = exc.__cause__
        if isinstance(cause, (MemoryError, _CallTimeout, TaskContractError)):
            return _categorize(cause)
        return ("contract" if cause is None else "runtime"), str(exc)
    if isinstance(exc, V2PError):
        return "contract", str(exc)
    return "runtime", text


def _run_in_child(folder: Path, config: TrialConfig, out: Path) -> TrialResult:
    start = time.perf_counter()
    refused = check_task_code(folder)
    if refused is not None:
        return refused

    def on_alarm(signum, frame):
        raise _CallTimeout(f"task code did not return within {config.call_timeout_s:.0f} s")

    import numpy as np
    import torch

    from ..vector_env import V2PVectorEnv  # here, not at import: the env's loader imports the trial
    from .guard import install

    install([out.parent, folder])  # from here on: writes only to the result's folder and the task's own
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, config.call_timeout_s)
    env = None
    try:
        env = V2PVectorEnv(folder, num_envs=config.num_envs, trust_task_code=True)
        env.reset(seed=config.seed)
        rng = np.random.default_rng(config.seed)
        for _ in range(config.steps):
            env.step(torch.as_tensor(rng.uniform(-1, 1, (config.num_envs, 7)), dtype=torch.float32))
        dim = int(env.single_observation_space.shape[0])
    except BaseException as exc:  # noqa: BLE001 - every failure of untrusted code is a result
        category, message = _categorize(exc)
        return TrialResult(False, category, message, str(folder), time.perf_counter() - start)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        if env is not None:
            try:
                env.close()
            except Exception:  # noqa: BLE001
                pass
    return TrialResult(True, None, f"built {config.num_envs} envs, reset, {config.steps} steps: contract held",
                       str(folder), time.perf_counter() - start, observation_dim=dim)


def main(argv: list[str] | None = None) -> int:
    defaults = TrialConfig()
    p = argparse.ArgumentParser(prog="python -m v2p_envs.untrusted.trial_child", description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("folder", type=Path, help="task folder (scene.json, task.py, ...)")
    p.add_argument("--out", type=Path, required=True, help="write the result here")
    p.add_argument("--num-envs", type=int, default=defaults.num_envs)
    p.add_argument("--steps", type=int, default=defaults.steps)
    p.add_argument("--call-timeout", type=float, default=defaults.call_timeout_s)
    p.add_argument("--seed", type=int, default=defaults.seed)
    args = p.parse_args(argv)
    result = _run_in_child(args.folder.resolve(), TrialConfig(args.num_envs, args.steps, args.call_timeout,
                                                              seed=args.seed), args.out.resolve())
    args.out.write_text(json.dumps(result.to_json()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
