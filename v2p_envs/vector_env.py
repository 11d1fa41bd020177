"""V2PVectorEnv: N copies of one task, natively batched, as a Gymnasium VectorEnv.

Observations, rewards and flags are torch tensors on the backend's device (as in ManiSkill3
and Isaac Lab): a GPU run never copies to the host. Autoreset is SAME_STEP: an env that ends
is reset inside the same ``step``; the returned observation is the new episode's first, and
``infos["final_obs"]`` / ``infos["final_info"]`` (with masks ``_final_obs`` / ``_final_info``)
hold the last observation and info of the episode that ended.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from .controller import ControllerConfig
from .ground_truth import get_ground_truth
from .rendering import SceneRenderer
from .scene_builder import SceneConfig, build_scene
from .randomization import RandomizationConfig, Randomizer, scale_scene_objects
from .sim import BatchedSim
from .task_loader import load_task_dir

__all__ = ["V2PVectorEnv", "SUCCESS_BONUS", "DEFAULT_EPISODE_LENGTH"]

log = logging.getLogger(__name__)
#: Training reward = generated reward + SUCCESS_BONUS * generated success (the paper's lambda).
SUCCESS_BONUS = 100.0
DEFAULT_EPISODE_LENGTH = 300


class V2PVectorEnv(VectorEnv):
    """A registered Video2Policy task with ``num_envs`` parallel copies."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 50, "autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(self, task_dir: str | Path, num_envs: int = 1, device: str | torch.device = "cpu",
                 backend: str | None = None, max_episode_steps: int | None = DEFAULT_EPISODE_LENGTH,
                 render_mode: str | None = None, terminate_on_success: bool = False,
                 scene_config: SceneConfig | None = None, controller_config: ControllerConfig | None = None,
                 auto_reset: bool = True, randomization: RandomizationConfig | dict | None = None) -> None:
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.definition = load_task_dir(task_dir)
        self.randomization = RandomizationConfig.coerce(randomization)
        self.scene = scale_scene_objects(self.definition.scene, self.randomization.object_size_scale)
        rnd = self.randomization
        self.built = build_scene(self.scene, scene_config, size_scales=rnd.size_scales)
        self.sim = BatchedSim(self.built, num_envs, device, backend, controller_config)
        self.device = self.sim.device
        self.randomizer = Randomizer(self.sim, rnd) if rnd.enabled else None
        self.num_envs = num_envs
        self.max_episode_steps = int(max_episode_steps or DEFAULT_EPISODE_LENGTH)
        self.render_mode = render_mode
        self.terminate_on_success = terminate_on_success
        self.auto_reset = auto_reset
        self.task = self.definition.task_class(self.sim)
        self.ground_truth = get_ground_truth(self.scene.task_class_name)
        obs_dim = int(self.task.get_observation_space())
        self.single_observation_space = gym.spaces.Box(-np.inf, np.inf, (obs_dim,), np.float32)
        self.single_action_space = gym.spaces.Box(-1.0, 1.0, (7,), np.float32)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.spec = None
        self._renderer: SceneRenderer | None = None
        self._all = torch.arange(num_envs, device=self.device)
        self._return = torch.zeros(num_envs, device=self.device)
        self._success_once = torch.zeros(num_envs, dtype=torch.bool, device=self.device)
        self._seeded = False

    # -- Gymnasium API -------------------------------------------------------------------
    def reset(self, *, seed: int | list[int] | None = None,
              options: dict[str, Any] | None = None) -> tuple[torch.Tensor, dict[str, Any]]:
        """Reset all envs, or those in ``options["env_ids"]`` / ``options["reset_mask"]``."""
        with self.sim.backend.compute_context():
            env_ids = self._env_ids_from(options)
            if seed is not None or not self._seeded:
                self._seed(env_ids, seed)
            self._reset_envs(env_ids)
            states = self.sim.states
            obs = self._observe(states)
            info = self._evaluate(torch.zeros(self.num_envs, 7, device=self.device), states)[2]
        return obs, info

    def step(self, actions: torch.Tensor | np.ndarray):
        with self.sim.backend.compute_context():
            return self._step(actions)

    def _step(self, actions: torch.Tensor | np.ndarray):
        actions = torch.as_tensor(actions, dtype=torch.float32, device=self.device).reshape(self.num_envs, 7)
        self.sim.apply_action(self.randomizer.action(actions) if self.randomizer else actions)
        states = self.sim.refresh()
        reward, generated_success, info = self._evaluate(actions, states)
        obs = self._observe(states)
        terminated = generated_success if self.terminate_on_success else torch.zeros_like(generated_success)
        truncated = self.sim.episode_step >= self.max_episode_steps
        self._return += reward
        done = terminated | truncated
        info["episode"] = {"r": self._return.clone(), "l": self.sim.episode_step.clone(),
                           "success_once": self._success_once.clone()}
        if self.auto_reset and bool(done.any()):
            done_ids = self._all[done]
            info = {**info, "final_obs": obs.clone(), "_final_obs": done.clone(),
                    "final_info": info, "_final_info": done.clone()}
            self._reset_envs(done_ids)
            obs = self._observe(self.sim.states)
        return obs, reward, terminated, truncated, info

    def render(self) -> np.ndarray | None:
        """RGB frame (256 x 256 x 3, uint8) of env 0 from the fixed camera."""
        if self.render_mode != "rgb_array":
            return None
        return self.render_env(0)

    def render_env(self, env_index: int) -> np.ndarray:
        randomizer = self.randomizer if self.randomizer and self.randomizer.size_enabled else None
        if self._renderer is None:
            # with per-env sizes, a model of its own that takes the rendered env's sizes
            self._renderer = SceneRenderer(randomizer.render_model if randomizer else self.built.model)
        if randomizer:
            randomizer.load_render_model(env_index)
        return self._renderer.render(self.sim.backend.mj_data(env_index))

    def close(self, **kwargs: Any) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        self.sim.close()

    # -- internals -----------------------------------------------------------------------
    def _env_ids_from(self, options: dict[str, Any] | None) -> torch.Tensor:
        if not options:
            return self._all
        if "env_ids" in options:
            return torch.as_tensor(options["env_ids"], dtype=torch.long, device=self.device).reshape(-1)
        if "reset_mask" in options:
            mask = torch.as_tensor(options["reset_mask"], dtype=torch.bool, device=self.device)
            return self._all[mask]
        return self._all

    def _seed(self, env_ids: torch.Tensor, seed: int | list[int] | None) -> None:
        """Env i gets seed + i (Gymnasium's convention), or its own entry of a seed list."""
        if seed is None:
            base = int(np.random.SeedSequence().generate_state(1)[0])
            seeds = base + env_ids.cpu()
        elif isinstance(seed, (list, tuple, np.ndarray)):
            if len(seed) != len(env_ids):
                raise ValueError(f"got {len(seed)} seeds for {len(env_ids)} envs")
            seeds = torch.as_tensor(np.asarray(seed, dtype=np.int64))
        else:
            seeds = int(seed) + env_ids.cpu()
        self.sim.rng.seed(env_ids, seeds.to(self.device))
        self._seeded = True

    def _reset_envs(self, env_ids: torch.Tensor) -> None:
        self.sim.reset_robot(env_ids)
        if self.randomizer:  # first: the task places objects by their (new) sizes
            self.randomizer.reset(env_ids)
        self.task.reset_objects_states(env_ids)
        self.sim.finish_reset(env_ids)
        self._return[env_ids] = 0.0
        self._success_once[env_ids] = False

    def _observe(self, states: dict[str, torch.Tensor]) -> torch.Tensor:
        keys = self.task.compute_observation_key(states)
        parts = []
        for key in keys:
            if key not in states:
                raise KeyError(f"{self.scene.env_id}: observation key {key!r} is not in states; "
                               f"known keys: {sorted(states)}")
            parts.append(states[key].reshape(self.num_envs, -1).to(torch.float32))
        obs = torch.cat(parts, dim=-1)
        expected = self.single_observation_space.shape[0]
        if obs.shape[1] != expected:
            raise ValueError(f"{self.scene.env_id}: observation keys {keys} give {obs.shape[1]} numbers "
                             f"but get_observation_space() says {expected}")
        return obs

    def _evaluate(self, actions: torch.Tensor, states: dict[str, torch.Tensor]):
        """Training reward, generated success, and the info dict (ground truth, components)."""
        generated_success = self.task.compute_success(states).reshape(self.num_envs).to(torch.bool)
        reward, components = self.task.compute_reward(actions, states)
        reward = reward.reshape(self.num_envs).to(torch.float32) + SUCCESS_BONUS * generated_success
        if self.ground_truth is not None:
            success = self.ground_truth(states).reshape(self.num_envs).to(torch.bool)
        else:
            success = generated_success
        self._success_once |= success
        info = {
            "success": success,
            "generated_success": generated_success,
            "success_once": self._success_once.clone(),
            "reward_components": {k: v.reshape(self.num_envs).to(torch.float32) for k, v in components.items()},
        }
        return reward, generated_success, info
