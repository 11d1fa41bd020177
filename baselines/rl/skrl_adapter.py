"""skrl 2.1: ``wrap_env`` on our vector env (skrl picks its gymnasium wrapper natively) and skrl's
PPO with the task's ppo.yaml mapped onto ``PPO_CFG``. Time-outs bootstrap (skrl's
``time_limit_bootstrap``, from the value of the observation before the last step).
Checkpoints are read as weights only (skrl's own ``agent.load`` unpickles)."""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from skrl.agents.torch.ppo import PPO, PPO_CFG
from skrl.envs.wrappers.torch import wrap_env
from skrl.memories.torch import RandomMemory
from skrl.models.torch import DeterministicMixin, GaussianMixin, Model
from skrl.resources.preprocessors.torch import RunningStandardScaler
from skrl.trainers.torch import SequentialTrainer
from v2p_envs.errors import V2PError

from ..policy import FunctionPolicy, Policy
from .checkpoint import CheckpointError, load_weights
from .config import TrainConfig, initial_log_std, load_ppo_config
from .run_record import RunInfo
from .trainer import Trainer

__all__ = ["SkrlTrainer", "make_agent"]


def _mlp(n_in: int, units: list[int]) -> nn.Sequential:
    layers, last = [], n_in
    for u in units:
        layers += [nn.Linear(last, u), nn.ELU()]
        last = u
    return nn.Sequential(*layers)


class _Policy(GaussianMixin, Model):
    def __init__(self, observation_space, action_space, device, units, log_std: float = 0.0):
        Model.__init__(self, observation_space=observation_space, action_space=action_space, device=device)
        GaussianMixin.__init__(self, clip_actions=True, role="policy")
        self.net = _mlp(self.num_observations, units)
        self.mean = nn.Linear(units[-1], self.num_actions)
        self.log_std = nn.Parameter(torch.full((self.num_actions,), log_std))

    def compute(self, inputs, role=""):
        return self.mean(self.net(inputs["observations"])), {"log_std": self.log_std}


class _Value(DeterministicMixin, Model):
    def __init__(self, observation_space, device, units):
        Model.__init__(self, observation_space=observation_space, device=device)
        DeterministicMixin.__init__(self, role="value")
        self.net = nn.Sequential(_mlp(self.num_observations, units), nn.Linear(units[-1], 1))

    def compute(self, inputs, role=""):
        return self.net(inputs["observations"]), {}


def make_agent(cfg: TrainConfig, obs_space, act_space, num_envs: int, run_dir: Path | None = None) -> PPO:
    loaded = load_ppo_config(cfg.env_id, cfg.ppo_overrides, cfg.task_dir)
    ppo = loaded["params"]
    c, units = ppo["config"], ppo["network"]["mlp"]["units"]
    device = cfg.device
    rollouts = int(c["horizon_length"])
    batch = rollouts * num_envs
    agent_cfg = PPO_CFG(
        rollouts=rollouts, learning_epochs=int(c["mini_epochs"]),
        mini_batches=max(batch // int(c["minibatch_size"]), 4), discount_factor=float(c["gamma"]),
        gae_lambda=float(c["tau"]), learning_rate=float(c["learning_rate"]), grad_norm_clip=float(c["grad_norm"]),
        ratio_clip=float(c["e_clip"]), value_clip=float(c["e_clip"]) if c.get("clip_value") else 0.0,
        entropy_loss_scale=float(c["entropy_coef"]), value_loss_scale=0.5 * float(c["critic_coef"]),
        kl_threshold=0.0, time_limit_bootstrap=bool(c.get("value_bootstrap", True)),
        rewards_shaper=(lambda r, *a, s=float(c["reward_shaper"].get("scale_value", 1.0)): r * s),
        observation_preprocessor=RunningStandardScaler if c.get("normalize_input") else None,
        observation_preprocessor_kwargs={"size": obs_space, "device": device},
        value_preprocessor=RunningStandardScaler if c.get("normalize_value") else None,
        value_preprocessor_kwargs={"size": 1, "device": device},
    )
    agent_cfg.experiment.directory = str(run_dir or "runs")
    agent_cfg.experiment.experiment_name = "skrl"
    agent_cfg.experiment.write_interval = 0  # our TrainingRecorder logs
    agent_cfg.experiment.checkpoint_interval = 0
    models = {"policy": _Policy(obs_space, act_space, device, units, initial_log_std(ppo, loaded["source"])),
              "value": _Value(obs_space, device, units)}
    memory = RandomMemory(memory_size=rollouts, num_envs=num_envs, device=device)
    return PPO(models=models, memory=memory, cfg=agent_cfg, observation_space=obs_space, action_space=act_space,
               device=device)


class SkrlTrainer(Trainer):
    name = "skrl"

    def fit(self, cfg: TrainConfig, env, run_dir: Path) -> Path:
        from skrl.utils import set_seed

        if cfg.max_time_s is not None:
            raise V2PError("max_time_s (--max-time) is supported by the rl_games and sb3 trainers, not skrl")
        set_seed(cfg.seed)
        wrapped = wrap_env(env, wrapper="gymnasium")
        agent = make_agent(cfg, wrapped.observation_space, wrapped.action_space, wrapped.num_envs, run_dir)
        checkpoint = run_dir / "checkpoints" / "agent.pt"
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        if cfg.resume:
            _load_agent(agent, checkpoint)
        remaining = max(int(cfg.steps) - env.env_steps, 0)
        timesteps = -(-remaining // env.num_envs)
        trainer = SequentialTrainer(cfg={"timesteps": timesteps, "headless": True, "disable_progressbar": True,
                                         "close_environment_at_exit": False}, env=wrapped, agents=agent)
        trainer.train()
        agent.save(str(checkpoint))
        return checkpoint

    def load_policy(self, checkpoint: Path, env, run: RunInfo, device: str = "cpu") -> Policy:
        import dataclasses

        cfg = dataclasses.replace(run.config, device=device)
        agent = make_agent(cfg, env.single_observation_space, env.single_action_space, env.num_envs)
        _load_agent(agent, checkpoint)
        agent.enable_training_mode(False)
        pre = agent._observation_preprocessor

        @torch.no_grad()
        def act(obs: torch.Tensor) -> torch.Tensor:
            mean, _ = agent.policy.compute({"observations": pre(obs.to(device))})
            return torch.clamp(mean, -1.0, 1.0)

        return FunctionPolicy(act, name=f"skrl:{checkpoint}")


def _load_agent(agent: PPO, checkpoint: Path) -> None:
    """skrl's ``Agent.load`` with a weights-only read: each saved module's state dict into the agent's."""
    modules = load_weights(checkpoint, agent.device)
    if not isinstance(modules, dict):
        raise CheckpointError(f"{checkpoint}: not an skrl agent checkpoint (expected a dict of module states)")
    try:
        for name, state in modules.items():
            module = agent.checkpoint_modules.get(name)
            if module is not None:
                module.load_state_dict(state)
    except (RuntimeError, KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{checkpoint}: does not fit this task's skrl agent ({str(exc)[:300]})") from None
