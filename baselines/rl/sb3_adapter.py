"""Stable-Baselines3: a ``VecEnv`` bridge from our SAME_STEP torch vector env, and SB3's PPO.

SB3 wants numpy and a list of per-env info dicts; an env that ended carries its last
observation in ``info["terminal_observation"]`` and ``info["TimeLimit.truncated"]``, from
which SB3 bootstraps time-outs with the true final observation.

Pickle: SB3's ``model.zip`` stores some of its data with cloudpickle and ``VecNormalize``
saves a pickle, so ``PPO.load`` / ``VecNormalize.load`` can run code from the file. Resuming
(``--resume``) uses them: resume only your own runs. Evaluation never does: it rebuilds the
policy network, reads its weights from the zip's ``policy.pth`` as tensors only and the
observation statistics from ``vecnormalize.json`` (written beside the model by ``fit``).
"""
from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from ..policy import FunctionPolicy, Policy
from .checkpoint import CheckpointError, load_weights
from .config import TrainConfig, initial_log_std, load_ppo_config
from .run_record import RunInfo
from .trainer import Trainer

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
    loaded = load_ppo_config(cfg.env_id, cfg.ppo_overrides, cfg.task_dir)
    ppo = loaded["params"]
    c, units = ppo["config"], list(ppo["network"]["mlp"]["units"])
    n_steps = int(c["horizon_length"])
    batch = n_steps * num_envs
    return dict(n_steps=n_steps, batch_size=batch // max(batch // int(c["minibatch_size"]), 4),
                n_epochs=int(c["mini_epochs"]), gamma=float(c["gamma"]), gae_lambda=float(c["tau"]),
                learning_rate=float(c["learning_rate"]), clip_range=float(c["e_clip"]),
                ent_coef=float(c["entropy_coef"]), vf_coef=0.5 * float(c["critic_coef"]),  # rl-games: 0.5 * c_loss * critic_coef
                max_grad_norm=float(c["grad_norm"]), target_kl=None, seed=cfg.seed, device=cfg.device,
                policy_kwargs={"net_arch": {"pi": units, "vf": units}, "activation_fn": torch.nn.ELU,
                               "log_std_init": initial_log_std(ppo, loaded["source"])})


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
        model.learn(total_timesteps=remaining, reset_num_timesteps=not cfg.resume, progress_bar=False,
                    callback=_TimeLimit(cfg.max_time_s) if cfg.max_time_s else None)
        model.save(str(model_path))
        vec.save(str(norm_path))
        _write_obs_stats(vec, ckpt_dir / OBS_STATS_FILE)
        return model_path

    def load_policy(self, checkpoint: Path, env, run: RunInfo, device: str = "cpu") -> Policy:
        checkpoint = Path(checkpoint)
        if checkpoint.suffix != ".zip":
            raise CheckpointError(f"{checkpoint}: an SB3 checkpoint is the model.zip written by `v2p train`")
        try:
            with zipfile.ZipFile(checkpoint) as archive:
                weights = load_weights(checkpoint, device, data=archive.read("policy.pth"))
        except (zipfile.BadZipFile, KeyError, OSError) as exc:
            raise CheckpointError(f"{checkpoint}: not an SB3 model.zip with a policy.pth ({exc})") from None
        kwargs = _ppo_kwargs(run.config, env.num_envs)["policy_kwargs"]
        policy = ActorCriticPolicy(env.single_observation_space, env.single_action_space, lambda _: 0.0, **kwargs)
        try:
            policy.load_state_dict(weights)
        except RuntimeError as exc:
            raise CheckpointError(f"{checkpoint}: weights do not fit this task's policy network "
                                  f"({str(exc)[:300]})") from None
        policy.to(device).eval()
        mean, std, clip = _read_obs_stats(checkpoint.with_name(OBS_STATS_FILE), device)

        @torch.no_grad()
        def act(obs: torch.Tensor) -> torch.Tensor:
            x = obs.to(device, torch.float32)
            if mean is not None:
                x = torch.clamp((x - mean) / std, -clip, clip)
            actions, _, _ = policy(x, deterministic=True)
            return actions.clamp(-1.0, 1.0)

        return FunctionPolicy(act, name=f"sb3:{checkpoint}")


OBS_STATS_FILE = "vecnormalize.json"


class _TimeLimit(BaseCallback):
    """Ends ``learn`` after the rollout in which ``max_time_s`` of wall time has passed."""

    def __init__(self, max_time_s: float) -> None:
        super().__init__()
        self.max_time_s = max_time_s
        self.start = time.perf_counter()

    def _on_training_start(self) -> None:
        self.start = time.perf_counter()

    def _on_step(self) -> bool:
        return time.perf_counter() - self.start < self.max_time_s


def _write_obs_stats(vec: VecNormalize, path: Path) -> None:
    """VecNormalize's observation statistics as JSON, so that evaluation never unpickles."""
    rms = vec.obs_rms
    path.write_text(json.dumps({"norm_obs": bool(vec.norm_obs), "mean": rms.mean.tolist(), "var": rms.var.tolist(),
                                "count": float(rms.count), "epsilon": float(vec.epsilon),
                                "clip_obs": float(vec.clip_obs)}) + "\n")


def _read_obs_stats(path: Path, device: str):
    try:
        stats = json.loads(path.read_text())
        if not stats["norm_obs"]:
            return None, None, None
        mean = torch.tensor(stats["mean"], dtype=torch.float32, device=device)
        std = torch.sqrt(torch.tensor(stats["var"], dtype=torch.float32, device=device) + stats["epsilon"])
        return mean, std, float(stats["clip_obs"])
    except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: cannot read the observation statistics ({exc}); evaluation does not "
                              "read vecnormalize.pkl (pickle)") from None
