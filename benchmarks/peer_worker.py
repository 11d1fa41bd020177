"""One measurement of one simulator, run as a script by ``benchmarks.peers`` in that simulator's
own venv (the peers pin other MuJoCo and NumPy versions than ours), so this file imports nothing
from this repository at module level and prints one JSON line.

    python benchmarks/peer_worker.py --peer fetch --measure single --seconds 3
"""
from __future__ import annotations

import argparse
import json
import sys
import time

PEERS = ("ours", "fetch", "metaworld", "robosuite")
MEASURES = ("startup", "single", "render", "batched")
RENDER_SIZE = 256


def make_env(peer: str, render: bool = False):
    """The peer's push/lift task as a user gets it (defaults), with a Gymnasium-style API."""
    if peer == "ours":
        import gymnasium as gym

        import v2p_envs  # noqa: F401  (registers the V2P-* ids)
        return gym.make("V2P-PushLeft-v0", render_mode="rgb_array" if render else None)
    if peer == "fetch":
        import gymnasium as gym
        import gymnasium_robotics

        gym.register_envs(gymnasium_robotics)
        kwargs = dict(render_mode="rgb_array", width=RENDER_SIZE, height=RENDER_SIZE) if render else {}
        return gym.make("FetchPush-v4", **kwargs)
    if peer == "metaworld":
        import gymnasium as gym
        import metaworld  # noqa: F401  (registers Meta-World/*)

        kwargs = dict(render_mode="rgb_array", width=RENDER_SIZE, height=RENDER_SIZE) if render else {}
        return gym.make("Meta-World/MT1", env_name="push-v3", **kwargs)
    if peer == "robosuite":
        import robosuite
        from robosuite.wrappers import GymWrapper

        camera = dict(has_offscreen_renderer=True, use_camera_obs=True, camera_heights=RENDER_SIZE,
                      camera_widths=RENDER_SIZE) if render else dict(has_offscreen_renderer=False,
                                                                       use_camera_obs=False)
        env = robosuite.make("Lift", robots="Panda", has_renderer=False, control_freq=20, **camera)
        wrapped = GymWrapper(env, keys=None)
        wrapped.metadata = wrapped.metadata or {}  # AsyncVectorEnv copies it; robosuite leaves None
        return wrapped
    raise SystemExit(f"unknown peer {peer!r}; expected one of {PEERS}")


def control_period(peer: str, env) -> float:
    """Simulated seconds per env step."""
    if peer == "robosuite":
        return float(env.unwrapped.control_timestep) if hasattr(env.unwrapped, "control_timestep") \
            else float(env.env.control_timestep)
    return float(env.unwrapped.dt)


def _frame(peer: str, env, obs):
    if peer == "robosuite":  # its camera image is part of the observation
        return env.env._get_observations()["agentview_image"]
    return env.render()


def timed_steps(peer: str, env, seconds: float, render: bool) -> tuple[int, float]:
    """Random actions for ``seconds`` (resetting at episode ends): (steps, wall seconds)."""
    env.action_space.seed(0)
    env.reset(seed=0)
    for _ in range(10):  # warm-up: first steps allocate
        env.step(env.action_space.sample())
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if render:
            _frame(peer, env, obs)
        steps += 1
        if terminated or truncated:
            env.reset()
    return steps, time.perf_counter() - start


def batched(peer: str, seconds: float, num_envs: int, workers: int) -> dict:
    """Ours: one natively batched env of ``num_envs``. Peers: Gymnasium's AsyncVectorEnv with one
    env per worker process (they have no batched simulator)."""
    import numpy as np

    if peer == "ours":
        import v2p_envs

        env = v2p_envs.make_vec("V2P-PushLeft-v0", num_envs=num_envs)
        n, how = num_envs, f"native, N={num_envs}"
        dt = float(env.unwrapped.dt)
    else:
        import gymnasium as gym

        env = gym.vector.AsyncVectorEnv([lambda: make_env(peer) for _ in range(workers)])
        n, how = workers, f"AsyncVectorEnv, {workers} workers"
        probe = make_env(peer)
        dt = control_period(peer, probe)
        probe.close()
    env.action_space.seed(0)
    env.reset(seed=0)
    for _ in range(5):
        env.step(env.action_space.sample())
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        env.step(np.asarray(env.action_space.sample()))
        steps += n
    wall = time.perf_counter() - start
    env.close()
    return {"steps_per_s": steps / wall, "sim_s_per_s": steps * dt / wall, "control_period_s": dt, "how": how}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--peer", choices=PEERS, required=True)
    p.add_argument("--measure", choices=MEASURES, required=True)
    p.add_argument("--seconds", type=float, default=3.0, help="timed stepping per measurement")
    p.add_argument("--num-envs", type=int, default=256, help="ours, batched")
    p.add_argument("--workers", type=int, default=2, help="peers, batched: AsyncVectorEnv processes")
    args = p.parse_args(argv)
    if args.measure == "startup":  # the parent times this whole process
        env = make_env(args.peer)
        env.reset(seed=0)
        result: dict = {}
    elif args.measure == "batched":
        result = batched(args.peer, args.seconds, args.num_envs, args.workers)
    else:
        render = args.measure == "render"
        env = make_env(args.peer, render=render)
        steps, wall = timed_steps(args.peer, env, args.seconds, render)
        dt = control_period(args.peer, env)
        result = {"steps_per_s": steps / wall, "sim_s_per_s": steps * dt / wall, "control_period_s": dt}
        if render:
            result["fps"] = steps / wall
    sys.stdout.write(json.dumps({"peer": args.peer, "measure": args.measure, **result}) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
