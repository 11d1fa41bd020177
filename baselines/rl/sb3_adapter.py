"""Stable-Baselines3: a ``VecEnv`` bridge from our SAME_STEP torch vector env, and SB3's PPO.

SB3 wants numpy and a list of per-env info dicts; an env that ended carries its last
observation in ``info["terminal_observation"]`` and ``info["TimeLimit.truncated"]``, from
which SB3 bootstraps time-outs with the true final observation.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from .config import TrainConfig, load_ppo_config
from .trainer import Policy, Trainer

__all__ = ["SB3VecEnv", "SB3Trainer"]


class SB3VecEnv(VecEnv):
    """SB3's VecEnv view of a V2PVectorEnv (or any SAME_STEP gymnasium vector env)."""

    def __init__(self, env) -> None:
        self.env = env
        super().__init__(env.num_envs, env.single_observation_space, env.single_action_space)
        self._actions = None

    def reset(self) -> np.ndarray:
        seed = self._seeds[0] if self._seeds and self._seeds[0] is not None else None
        obs, _ = self.env.reset(seed=seed)
        self._reset_seeds()
        self._reset_options()
        return _np(obs)

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self):
        obs, reward, terminated, truncated, info = self.env.step(torch.as_tensor(self._actions, dtype=torch.float32))
        done = _np(terminated | truncated)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if done.any():
            final_obs = _np(info["final_obs"])
            trunc = _np(truncated & ~terminated)
            ep = info["episode"]
            for i in np.flatnonzero(done):
                infos[i] = {"terminal_observation": final_obs[i], "TimeLimit.truncated": bool(trunc[i]),
                            "episode": {"r": float(ep["r"][i]), "l": int(ep["l"][i])},
                            "is_success": bool(info["success_once"][i])}
        return _np(obs), _np(reward), done, infos

    def close(self) -> None:
        self.env.close()

    def get_attr(self, attr_name, indices=None):
        return [getattr(self.env, attr_name)] * len(self._indices(indices))

    def set_attr(self, attr_name, value, indices=None) -> None:
        setattr(self.env, attr_name, value)

    def env_method(self, method_name, *args, indices=None, **kwargs):
        return [getattr(self.env, method_name)(*args, **kwargs)] * len(self._indices(indices))

    def env_is_wrapped(self, wrapper_class, indices=None):
        return [False] * len(self._indices(indices))

    def _indices(self, indices):
        if indices is None:
            return range(self.num_envs)
        return [indices] if isinstance(indices, int) else indices


def _np(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _ppo_kwargs(cfg: TrainConfig, num_envs: int) -> dict[str, Any]:
    ppo = load_ppo_config(cfg.env_id, cfg.ppo_overrides)["params"]
    c, units = ppo["config"], list(ppo["network"]["mlp"]["units"])
    n_steps = int(c["horizon_length"])
    batch = n_steps * num_envs
    return dict(n_steps=n_steps, batch_size=batch // max(batch // int(c["minibatch_size"]), 4),
                n_epochs=int(c["mini_epochs"]), gamma=float(c["gamma"]), gae_lambda=float(c["tau"]),
                learning_rate=float(c["learning_rate"]), clip_range=float(c["e_clip"]),
                ent_coef=float(c["entropy_coef"]), vf_coef=0.5 * float(c["critic_coef"]),  # rl-games: 0.5 * c_loss * critic_coef
                max_grad_norm=float(c["grad_norm"]), target_kl=None, seed=cfg.seed, device=cfg.device,
                policy_kwargs={"net_arch": {"pi": units, "vf": units}, "activation_fn": torch.nn.ELU,
                               "log_std_init": 0.0})


class SB3Trainer(Trainer):
    name = "sb3"

    def fit(self, cfg: TrainConfig, env, run_dir: Path) -> Path:
        vec = VecNormalize(SB3VecEnv(env), norm_obs=True, norm_reward=True, gamma=0.99)
        vec.seed(cfg.seed)
        ckpt_dir = run_dir / "checkpoints"
        ckpt_dir.mkdir(parents=True, exist_ok=True)
        model_path, norm_path = ckpt_dir / "model.zip", ckpt_dir / "vecnormalize.pkl"
        if cfg.resume:
            vec = VecNormalize.load(str(norm_path), SB3VecEnv(env))
            model = PPO.load(str(model_path), env=vec, device=cfg.device)
        else:
            model = PPO("MlpPolicy", vec, verbose=0, **_ppo_kwargs(cfg, env.num_envs))
        remaining = max(int(cfg.steps) - env.env_steps, 0)
        model.learn(total_timesteps=remaining, reset_num_timesteps=not cfg.resume, progress_bar=False)
        model.save(str(model_path))
        vec.save(str(norm_path))
        return model_path

    def load_policy(self, checkpoint: Path, env, device: str = "cpu") -> Policy:
        checkpoint = Path(checkpoint)
        model = PPO.load(str(checkpoint), device=device)
        norm = VecNormalize.load(str(checkpoint.with_name("vecnormalize.pkl")), SB3VecEnv(env))
        norm.training = False

        @torch.no_grad()
        def policy(obs: torch.Tensor) -> torch.Tensor:
            actions, _ = model.predict(norm.normalize_obs(_np(obs)), deterministic=True)
            return torch.as_tensor(actions, dtype=torch.float32).clamp(-1.0, 1.0)

        return policy
