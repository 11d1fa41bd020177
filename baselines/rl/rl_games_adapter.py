"""rl-games 1.6.5 (the paper's trainer): an ``IVecEnv`` over our vector env, and PPO with it.

Sharp edges handled here: ``torch_compile`` is off on CPU; ``max_steps`` is broken in 1.6.5
(``np.max(a, b)``), so the budget is ``max_frames`` with ``max_epochs = -1``; ``time_outs`` is a
tensor like the observations. rl-games bootstraps a time-out from the value of the observation
*before* the last step; ``V2PA2CAgent`` bootstraps it from ``final_obs`` (the true last
observation) instead, by adding ``gamma * V(final_obs)`` to the reward and dropping
``time_outs`` so that rl-games does not add its own.
"""
from __future__ import annotations

import copy
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import torch
from rl_games.algos_torch import a2c_continuous, model_builder
from rl_games.common import env_configurations, tr_helpers, vecenv
from rl_games.common.algo_observer import AlgoObserver
from rl_games.common.ivecenv import IVecEnv

from ..policy import FunctionPolicy, Policy
from .checkpoint import CheckpointError, load_weights
from .config import TrainConfig, load_ppo_config
from .run_record import RunInfo
from .trainer import Trainer, make_env

__all__ = ["RlGamesVecEnv", "V2PA2CAgent", "RlGamesTrainer", "register_rl_games_env", "rl_games_params"]

log = logging.getLogger(__name__)
VECENV_TYPE = "V2P"


class RlGamesVecEnv(IVecEnv):
    """rl-games' 4-tuple view of a SAME_STEP vector env: ``dones = terminated | truncated``,
    ``info["time_outs"]`` = truncated and not terminated, ``final_obs`` passed through."""

    def __init__(self, env, seed: int | None = None) -> None:
        self.env = env
        self.seed_value = seed

    def step(self, actions):
        obs, reward, terminated, truncated, info = self.env.step(actions)
        info = dict(info)
        info["time_outs"] = truncated & ~terminated
        return obs, reward, terminated | truncated, info

    def reset(self):
        obs, _ = self.env.reset(seed=self.seed_value)
        return obs

    def get_number_of_agents(self) -> int:
        return 1

    def get_env_info(self) -> dict[str, Any]:
        return {"action_space": self.env.single_action_space, "observation_space": self.env.single_observation_space,
                "agents": 1, "value_size": 1}

    def seed(self, seed):
        self.seed_value = seed


def register_rl_games_env(env_id: str, **env_kwargs: Any) -> str:
    """Make ``env_id`` usable from a plain rl-games yaml (``env_name: <env_id>``)."""
    vecenv.register(VECENV_TYPE, lambda config_name, num_actors, **kw: RlGamesVecEnv(
        env_configurations.configurations[config_name]["env_creator"](num_envs=num_actors, **kw)))
    env_configurations.register(env_id, {"vecenv_type": VECENV_TYPE,
                                         "env_creator": lambda num_envs=1, **kw: make_env(env_id, num_envs, **{**env_kwargs, **kw})})
    return env_id


class V2PA2CAgent(a2c_continuous.A2CAgent):
    """rl-games' PPO with time-outs bootstrapped from the episode's true final observation,
    restoring checkpoints as weights only (rl-games' own restore unpickles)."""

    def restore(self, fn, set_epoch=True):
        self.set_full_state_weights(load_weights(fn, self.ppo_device), set_epoch=set_epoch)

    def env_step(self, actions):
        obs, rewards, dones, infos = super().env_step(actions)
        time_outs = infos.pop("time_outs", None)
        if self.value_bootstrap and time_outs is not None and bool(time_outs.any()):
            final_obs = infos["final_obs"].to(self.ppo_device)
            values = self.get_values({"obs": final_obs})  # denormalised, in shaped-reward units
            bonus = self.gamma * values * time_outs.to(self.ppo_device).unsqueeze(1).float()
            rewards = rewards + bonus / self.rewards_shaper.scale_value  # the shaper scales it back
        return obs, rewards, dones, infos


class _RunObserver(AlgoObserver):
    """Saves ``checkpoints/last.pth`` every ``every`` epochs (rl-games' own saving needs finished
    episodes and a best reward; we want a resumable file regardless), and ends training after
    the epoch in which ``max_time_s`` of wall time has passed (rl-games stops at ``max_frames``,
    checked after this call)."""

    def __init__(self, run_dir: Path, every: int, max_time_s: float | None = None) -> None:
        self.path = run_dir / "checkpoints" / "last.pth"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.every = max(every, 1)
        self.max_time_s = max_time_s
        self.agent = None
        self.saved_epoch = -1
        self.start = time.perf_counter()
        self.stopped_by_time = False

    def after_init(self, algo) -> None:
        self.agent = algo
        self.start = time.perf_counter()

    def after_print_stats(self, frame, epoch_num, total_time) -> None:
        if epoch_num % self.every == 0 and epoch_num != self.saved_epoch:  # rl-games calls this twice an epoch
            self.saved_epoch = epoch_num
            self.agent.save(str(self.path.with_suffix("")))
        if self.max_time_s is not None and time.perf_counter() - self.start >= self.max_time_s:
            if not self.stopped_by_time:
                log.info("max_time_s=%.0f reached after %d frames: ending training", self.max_time_s, self.agent.frame)
            self.stopped_by_time = True
            self.agent.max_frames = self.agent.frame


def rl_games_params(cfg: TrainConfig, env) -> dict[str, Any]:
    """The task's ppo.yaml ``params`` made ready for this run (device, budget, minibatches)."""
    params = copy.deepcopy(load_ppo_config(cfg.env_id, cfg.ppo_overrides, cfg.task_dir)["params"])
    c = params["config"]
    params["seed"] = cfg.seed
    c.update(name="v2p", env_name=cfg.env_id, num_actors=env.num_envs, device=cfg.device, ppo_device=cfg.device,
             max_frames=int(cfg.steps), max_epochs=-1, print_stats=False)
    c.pop("max_steps", None)  # broken in 1.6.5
    if not str(cfg.device).startswith("cuda"):
        c["torch_compile"] = False
        c["mixed_precision"] = False
    # Minibatches: the shared default (16384) assumes thousands of GPU envs; with fewer envs use
    # at least 4 minibatches per epoch, each a divisor of the batch.
    batch = int(c["horizon_length"]) * env.num_envs
    n_mini = max(batch // int(c["minibatch_size"]), 4)
    while batch % n_mini:
        n_mini += 1
    c["minibatch_size"] = batch // n_mini
    return params


def _prepare(params: dict[str, Any], vec_env: RlGamesVecEnv, run_dir: Path, observer: AlgoObserver) -> dict[str, Any]:
    """What rl-games' Runner.load_config does, without its globals (seed 0 counts as a seed)."""
    params = copy.deepcopy(params)
    c = params["config"]
    c["reward_shaper"] = tr_helpers.DefaultRewardsShaper(**c.get("reward_shaper", {}))
    c["features"] = {"observer": observer}
    c["env_info"] = vec_env.get_env_info()
    c["vec_env"] = vec_env
    c["train_dir"] = str(run_dir)
    c["full_experiment_name"] = "rl_games"
    return params


class RlGamesTrainer(Trainer):
    name = "rl_games"

    def fit(self, cfg: TrainConfig, env, run_dir: Path) -> Path:
        torch.manual_seed(cfg.seed)
        params = rl_games_params(cfg, env)
        env.log_every = int(params["config"]["horizon_length"])
        save_every = int(params["config"].get("save_frequency", 100)) or 100
        observer = _RunObserver(run_dir, every=min(save_every, 50), max_time_s=cfg.max_time_s)
        agent = V2PA2CAgent(base_name="run", params=_prepare(params, RlGamesVecEnv(env, cfg.seed), run_dir, observer))
        if cfg.resume:
            last = self.latest_checkpoint(run_dir, "*.pth")
            if last is None:
                raise FileNotFoundError(f"--resume: no checkpoint in {run_dir / 'checkpoints'}")
            agent.restore(str(last))
        agent.train()
        agent.save(str(observer.path.with_suffix("")))
        best = run_dir / "rl_games" / "nn" / "v2p.pth"  # rl-games' best mean training reward so far
        if best.is_file():
            shutil.copyfile(best, run_dir / "checkpoints" / "best.pth")
        return observer.path

    def load_policy(self, checkpoint: Path, env, run: RunInfo, device: str = "cpu") -> Policy:
        params = rl_games_params(run.config, env)
        network = model_builder.ModelBuilder().load(params)
        c = params["config"]
        model = network.build({"actions_num": env.single_action_space.shape[0],
                               "input_shape": env.single_observation_space.shape, "num_seqs": env.num_envs,
                               "value_size": 1, "normalize_value": c["normalize_value"],
                               "normalize_input": c["normalize_input"]})
        state = load_weights(checkpoint, device)
        try:
            model.load_state_dict(state["model"])
        except (KeyError, TypeError, RuntimeError) as exc:
            raise CheckpointError(f"{checkpoint}: not an rl-games checkpoint for this task's network "
                                  f"({type(exc).__name__}: {str(exc)[:300]})") from None
        model.to(device).eval()

        @torch.no_grad()
        def act(obs: torch.Tensor) -> torch.Tensor:
            out = model({"is_train": False, "prev_actions": None, "obs": obs.to(device), "rnn_states": None})
            return torch.clamp(out["mus"], -1.0, 1.0)

        return FunctionPolicy(act, name=f"rl_games:{checkpoint}")
