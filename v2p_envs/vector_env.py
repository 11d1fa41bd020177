"""V2PVectorEnv: N copies of one task, natively batched, as a Gymnasium VectorEnv.

Observations, rewards and flags are torch tensors on the backend's device (as in ManiSkill3
and Isaac Lab): a GPU run never copies to the host. Autoreset is SAME_STEP: an env that ends
is reset inside the same ``step``; the returned observation is the new episode's first, and
``infos["final_obs"]`` / ``infos["final_info"]`` (with masks ``_final_obs`` / ``_final_info``)
hold the last observation and info of the episode that ended; ``infos["episode"]`` (mask
``_episode``) holds the return, length and ``success_once`` of the episodes that ended.

Per step, in the paper's order: the task's observation keys (which may add derived tensors to
its copy of ``states``), its success, its reward; then the ground truth, read from the
simulator's own states, which task code cannot reach (docs/architecture.md, "Trust model"):
the hand-written one of the task class, else the family ground truth of the folder's
``goal.json`` (a generated task of a known family), else none, and ``info["success"]`` is the
generated success; ``success_metric`` names which.
Every output of task code is checked: wrong shapes, NaN/inf and non-boolean success raise
``TaskContractError`` naming the function, rather than reaching the learner.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Sequence

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from .controller import ControllerConfig
from .errors import TaskContractError, V2PError
from .ground_truth import get_ground_truth
from .ground_truth.families import family_success
from .randomization import RandomizationConfig, Randomizer, scale_scene_objects
from .rendering import RENDER_SIZE, SceneRenderer
from .scene_builder import SceneConfig, build_scene
from .sim import BatchedSim
from .task_context import TaskContext
from .task_loader import load_task_dir

__all__ = ["V2PVectorEnv", "EnvArgumentError", "SUCCESS_BONUS", "DEFAULT_EPISODE_LENGTH", "MAX_SEED"]

log = logging.getLogger(__name__)
#: Training reward = generated reward + SUCCESS_BONUS * generated success (the paper's lambda).
SUCCESS_BONUS = 100.0
DEFAULT_EPISODE_LENGTH = 300
#: Seeds are integers in [0, MAX_SEED]; env i of a vector env seeded s gets s + i.
MAX_SEED = 2**62


class EnvArgumentError(V2PError, ValueError):
    """A bad argument to the env: actions, seeds, lengths, sizes."""


def _describe(value: Any) -> str:
    """A tensor's shape, else the value's type: for error messages."""
    return str(tuple(value.shape)) if isinstance(value, torch.Tensor) else type(value).__name__


def _positive_int(value: Any, name: str, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise EnvArgumentError(f"{name} must be a positive integer{' or None' if allow_none else ''}, got {value!r}")
    return int(value)


class V2PVectorEnv(VectorEnv):
    """A Video2Policy task with ``num_envs`` parallel copies.

    ``max_episode_steps=None`` means no time limit (the single env leaves it to Gymnasium's
    ``TimeLimit``). ``trust_task_code`` runs a non-shipped folder's code without its trial.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 50, "autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(self, task_dir: str | Path, num_envs: int = 1, device: str | torch.device = "cpu",
                 backend: str | None = None, max_episode_steps: int | None = DEFAULT_EPISODE_LENGTH,
                 render_mode: str | None = None, width: int = RENDER_SIZE, height: int = RENDER_SIZE,
                 antialias: bool = False,
                 terminate_on_success: bool = False, scene_config: SceneConfig | None = None,
                 controller_config: ControllerConfig | None = None, auto_reset: bool = True,
                 randomization: RandomizationConfig | dict | None = None, trust_task_code: bool = False) -> None:
        if render_mode not in (None, "rgb_array"):
            raise EnvArgumentError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.num_envs = _positive_int(num_envs, "num_envs")
        self.max_episode_steps = _positive_int(max_episode_steps, "max_episode_steps", allow_none=True)
        self.render_size = (_positive_int(width, "width"), _positive_int(height, "height"))
        self.antialias = bool(antialias)  # multisample anti-aliasing: smoother frames, ~2x slower
        self.definition = load_task_dir(task_dir, trust_task_code=trust_task_code)
        self.randomization = RandomizationConfig.coerce(randomization)
        self.scene = scale_scene_objects(self.definition.scene, self.randomization.object_size_scale)
        rnd = self.randomization
        self.built = build_scene(self.scene, scene_config, size_scales=rnd.size_scales)
        self.sim = BatchedSim(self.built, self.num_envs, device, backend, controller_config)
        self.device = self.sim.device
        self.randomizer = Randomizer(self.sim, rnd) if rnd.enabled else None
        self.render_mode = render_mode
        self.terminate_on_success = terminate_on_success
        self.auto_reset = auto_reset
        self._context = TaskContext(self.sim)
        self.task = self.definition.task_class(self._context)
        self.ground_truth = get_ground_truth(self.scene.task_class_name)
        #: what ``info["success"]`` reports: "ground_truth" (hand-written), "family_ground_truth"
        #: (the family of the folder's goal.json) or "generated" (the task's own success)
        self.success_metric = "ground_truth"
        goal = self.definition.goal
        if self.ground_truth is None and goal is not None:
            self.ground_truth = family_success(goal)
            self.success_metric = "family_ground_truth"
            log.info("%s: no hand-written ground truth for task class %r; info['success'] reports the family "
                     "ground truth of %s (family %r on %s)", self.scene.env_id, self.scene.task_class_name,
                     self.definition.folder / "goal.json", goal.family, list(goal.objects))
        elif self.ground_truth is None:
            self.success_metric = "generated"
            log.warning("%s: no ground-truth success function for task class %r and no goal.json; info['success'] "
                        "reports the task's generated success and records name the metric 'generated'",
                        self.scene.env_id, self.scene.task_class_name)
        obs_dim = self.task.get_observation_space()
        if isinstance(obs_dim, bool) or not isinstance(obs_dim, (int, np.integer)) or obs_dim < 1:
            raise TaskContractError(f"{self._where('get_observation_space')} returned {obs_dim!r}; expected a "
                                    "positive int", "shape")
        self.single_observation_space = gym.spaces.Box(-np.inf, np.inf, (int(obs_dim),), np.float32)
        self.single_action_space = gym.spaces.Box(-1.0, 1.0, (7,), np.float32)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.spec = None
        self._renderer: SceneRenderer | None = None
        self._segmentation_labels: np.ndarray | None = None  # geom id + 1 -> label, made on first use
        self._all = torch.arange(self.num_envs, device=self.device)
        self._return = torch.zeros(self.num_envs, device=self.device)
        self._success_once = torch.zeros(self.num_envs, dtype=torch.bool, device=self.device)
        #: steps after which each env's current episode is truncated (max_episode_steps, or less
        #: for a staggered first episode)
        self._episode_limit = torch.full((self.num_envs,), float(self.max_episode_steps or 0), device=self.device)
        self._seeded = False
        self._warned_clip = False

    # -- Gymnasium API -------------------------------------------------------------------
    def reset(self, *, seed: int | list[int] | None = None,
              options: dict[str, Any] | None = None) -> tuple[torch.Tensor, dict[str, Any]]:
        """Reset all envs, or those in ``options["env_ids"]`` / ``options["reset_mask"]``.

        ``options["stagger_episodes"]``: the reset envs' first episodes end after a random number
        of steps in [1, max_episode_steps] (drawn from each env's stream), so that a vector env
        used for training does not end every episode on the same step; later episodes run the
        full length. ``episode_step`` still counts from 0."""
        with self.sim.backend.compute_context():
            env_ids = self._env_ids_from(options)
            if seed is not None or not self._seeded:
                self._seed(env_ids, seed)
            self._reset_envs(env_ids)
            if options and options.get("stagger_episodes") and self.max_episode_steps is not None:
                u = self.sim.rng.uniform(env_ids)
                self._episode_limit[env_ids] = torch.floor(u * self.max_episode_steps) + 1
            obs, _, _, info = self._task_step(torch.zeros(self.num_envs, 7, device=self.device))
        return obs, info

    def step(self, actions: torch.Tensor | np.ndarray):
        with self.sim.backend.compute_context():
            return self._step(actions)

    def _step(self, actions: torch.Tensor | np.ndarray):
        actions = self._check_actions(actions)
        self.sim.apply_action(self.randomizer.action(actions) if self.randomizer else actions)
        self.sim.refresh()
        obs, reward, generated_success, info = self._task_step(actions)
        terminated = generated_success if self.terminate_on_success else torch.zeros_like(generated_success)
        if self.max_episode_steps is None:
            truncated = torch.zeros_like(generated_success)
        else:
            truncated = self.sim.episode_step >= self._episode_limit
        self._return += reward
        done = terminated | truncated
        if bool(done.any()):
            info["episode"] = {"r": torch.where(done, self._return, 0.0),
                               "l": torch.where(done, self.sim.episode_step, 0.0),
                               "success_once": info["success_once"] & done}
            info["_episode"] = done.clone()
            if self.auto_reset:
                info = {**info, "final_obs": obs.clone(), "_final_obs": done.clone(),
                        "final_info": info, "_final_info": done.clone()}
                self._reset_envs(self._all[done])
                obs = self._observe(self.sim.task_states())
        return obs, reward, terminated, truncated, info

    @property
    def dt(self) -> float:
        """Simulated seconds per env step (physics step x substeps), as Gymnasium's MuJoCo envs
        report it."""
        return self.sim.built.control_dt

    def render(self) -> tuple[np.ndarray, ...] | None:
        """One RGB frame (height x width x 3, uint8) per env from the fixed camera, as
        Gymnasium's vector envs return them; ``render_env(i)`` renders one env."""
        if self.render_mode != "rgb_array":
            return None
        return tuple(self.render_env(i) for i in range(self.num_envs))

    def render_env(self, env_index: int) -> np.ndarray:
        return self._render_one(env_index, segmentation=False)

    def render_batch(self, env_ids: Sequence[int] | None = None,
                     segmentation: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """Frames of many envs in one call (the data engine's camera): RGB ``uint8 [N, H, W, 3]``
        and, with ``segmentation``, labels ``uint8 [N, H, W]``: 0 table and background, 1 robot,
        2 + k the scene's k-th object."""
        ids = range(self.num_envs) if env_ids is None else [int(i) for i in env_ids]
        rgb = np.stack([self._render_one(i, segmentation=False) for i in ids])
        if not segmentation:
            return rgb, None
        if self._segmentation_labels is None:
            self._segmentation_labels = self._segmentation_lookup()
        lookup = self._segmentation_labels
        seg = np.stack([lookup[self._render_one(i, segmentation=True) + 1] for i in ids])
        return rgb, seg

    def _segmentation_lookup(self) -> np.ndarray:
        """geom id + 1 -> label: 0 for the world's own geoms (table, floor) and no geom, 2 + k for
        object k's geoms, 1 for every other body's (the robot)."""
        model = self.built.model
        objects = {model.body(o.name).id: 2 + k for k, o in enumerate(self.scene.objects)}
        lookup = np.zeros(model.ngeom + 1, np.uint8)
        for g in range(model.ngeom):
            body = int(model.geom_bodyid[g])
            lookup[g + 1] = objects.get(body, 0 if body == 0 else 1)
        return lookup

    def _render_one(self, env_index: int, segmentation: bool) -> np.ndarray:
        if not 0 <= int(env_index) < self.num_envs:
            raise EnvArgumentError(f"env_index must be in [0, {self.num_envs}), got {env_index}")
        randomizer = self.randomizer if self.randomizer and self.randomizer.size_enabled else None
        if self._renderer is None:
            # with per-env sizes, a model of its own that takes the rendered env's sizes
            width, height = self.render_size
            self._renderer = SceneRenderer(randomizer.render_model if randomizer else self.built.model,
                                           width=width, height=height, antialias=self.antialias)
        if randomizer:
            randomizer.load_render_model(int(env_index))
        data = self.sim.backend.mj_data(int(env_index))
        return self._renderer.render_segmentation(data) if segmentation else self._renderer.render(data)

    def close(self, **kwargs: Any) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        self.sim.close()

    # -- input checks ----------------------------------------------------------------------
    def _check_actions(self, actions: torch.Tensor | np.ndarray) -> torch.Tensor:
        """(N, 7) finite actions; values outside [-1, 1] are clipped (warned once per env)."""
        try:
            actions = torch.as_tensor(actions, dtype=torch.float32, device=self.device)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise EnvArgumentError(f"{self.scene.env_id}: actions must be a ({self.num_envs}, 7) array of "
                                   f"numbers: {exc}") from None
        if tuple(actions.shape) != (self.num_envs, 7):
            raise EnvArgumentError(f"{self.scene.env_id}: actions must have shape ({self.num_envs}, 7), got "
                                   f"{tuple(actions.shape)}")
        outside = ~(actions.abs() <= 1.0)  # NaN compares False, so it counts as outside
        if bool(outside.any()):
            bad = (~torch.isfinite(actions)).any(dim=1)
            if bool(bad.any()):
                raise EnvArgumentError(f"{self.scene.env_id}: actions of envs {self._all[bad].tolist()[:10]} "
                                       "contain NaN or inf")
            if not self._warned_clip:
                log.warning("%s: actions outside [-1, 1] are clipped to it (the action space's bounds); "
                            "this warning is shown once per env", self.scene.env_id)
                self._warned_clip = True
            actions = actions.clamp(-1.0, 1.0)
        return actions

    def _env_ids_from(self, options: dict[str, Any] | None) -> torch.Tensor:
        if not options:
            return self._all
        if "env_ids" in options:
            ids = torch.as_tensor(options["env_ids"], dtype=torch.long, device=self.device).reshape(-1)
        elif "reset_mask" in options:
            mask = torch.as_tensor(options["reset_mask"], dtype=torch.bool, device=self.device)
            if tuple(mask.shape) != (self.num_envs,):
                raise EnvArgumentError(f"options['reset_mask'] must have shape ({self.num_envs},), got "
                                       f"{tuple(mask.shape)}")
            return self._all[mask]
        else:
            return self._all
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= self.num_envs):
            raise EnvArgumentError(f"options['env_ids'] must be in [0, {self.num_envs}), got {ids.tolist()[:10]}")
        return ids

    def _seed(self, env_ids: torch.Tensor, seed: int | list[int] | None) -> None:
        """Env i gets seed + i (Gymnasium's convention), or its own entry of a seed list."""
        if seed is None:
            base = int(np.random.SeedSequence().generate_state(2, np.uint64)[0] % (MAX_SEED // 2))
            seeds = [base + i for i in env_ids.tolist()]
        elif isinstance(seed, (list, tuple, np.ndarray)):
            if len(seed) != len(env_ids):
                raise EnvArgumentError(f"got {len(seed)} seeds for {len(env_ids)} envs")
            seeds = list(seed)
        else:
            self._check_seeds([seed])
            seeds = [int(seed) + i for i in env_ids.tolist()]
        self._check_seeds(seeds)
        self.sim.rng.seed(env_ids, torch.tensor(seeds, dtype=torch.int64, device=self.device))
        self._seeded = True

    @staticmethod
    def _check_seeds(seeds: list[Any]) -> None:
        for s in seeds:
            if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or not 0 <= s <= MAX_SEED:
                raise EnvArgumentError(f"seeds must be integers in [0, 2**62], got {s!r}")

    # -- the episode ---------------------------------------------------------------------
    def _reset_envs(self, env_ids: torch.Tensor) -> None:
        self.sim.reset_robot(env_ids)
        if self.randomizer:  # first: the task places objects by their (new) sizes
            self.randomizer.reset(env_ids)
        with self._context._placement():
            self.task.reset_objects_states(env_ids)
        self.sim.finish_reset(env_ids)
        if self.max_episode_steps is not None:
            self._episode_limit[env_ids] = float(self.max_episode_steps)
        self._return[env_ids] = 0.0
        self._success_once[env_ids] = False

    def _task_step(self, actions: torch.Tensor):
        """Observation, training reward, generated success and info for the current state."""
        states = self.sim.task_states()
        obs = self._observe(states)
        generated_success = self._as_success(self.task.compute_success(states))
        reward, components = self._as_reward(self.task.compute_reward(actions, states))
        self._check_finite(obs, reward, components)
        success = self._ground_truth() if self.ground_truth is not None else generated_success
        self._success_once |= success
        info = {
            "success": success,
            "generated_success": generated_success,
            "success_once": self._success_once.clone(),
            "reward_components": components,
        }
        return obs, reward + SUCCESS_BONUS * generated_success, generated_success, info

    def _ground_truth(self) -> torch.Tensor:
        """The hand-written (or family) success on the simulator's own states (never the task's copy)."""
        try:
            success = self.ground_truth(self.sim.states)
        except KeyError as exc:
            if self.success_metric == "family_ground_truth":  # goal.json's objects are checked at load: a bug
                raise
            raise V2PError(f"{self.definition.folder}: the ground truth of {self.scene.task_class_name} reads "
                           f"states[{exc}], which this scene does not have (objects: "
                           f"{[o.name for o in self.scene.objects]}); "
                           "name the objects as the shipped task does, or give the task class another name") from None
        return success.reshape(self.num_envs)

    def _observe(self, states: dict[str, torch.Tensor]) -> torch.Tensor:
        keys = self.task.compute_observation_key(states)
        if not isinstance(keys, (list, tuple)) or not all(isinstance(k, str) for k in keys):
            raise TaskContractError(f"{self._where('compute_observation_key')} must return a list of key names, "
                                    f"got {type(keys).__name__}", "shape")
        parts = []
        for key in keys:
            if key not in states:
                raise TaskContractError(f"{self._where('compute_observation_key')}: observation key {key!r} is not "
                                        f"in states; known keys: {sorted(states)}", "runtime")
            value = states[key]
            if not isinstance(value, torch.Tensor) or value.ndim == 0 or value.shape[0] != self.num_envs:
                raise TaskContractError(f"{self._where('compute_observation_key')}: states[{key!r}] must be a "
                                        f"tensor with a leading dimension of {self.num_envs}, got "
                                        f"{_describe(value)}",
                                        "shape")
            parts.append(value.reshape(self.num_envs, -1).to(torch.float32))
        obs = torch.cat(parts, dim=-1)
        expected = self.single_observation_space.shape[0]
        if obs.shape[1] != expected:
            raise TaskContractError(f"{self._where('compute_observation_key')}: observation keys {keys} give "
                                    f"{obs.shape[1]} numbers but get_observation_space() says {expected}", "shape")
        return obs

    def _as_success(self, value: Any) -> torch.Tensor:
        if not isinstance(value, torch.Tensor) or tuple(value.shape) != (self.num_envs,):
            got = _describe(value)
            raise TaskContractError(f"{self._where('compute_success')} must return a bool tensor of shape "
                                    f"({self.num_envs},), got {got}", "shape")
        if value.dtype == torch.bool:
            return value
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise TaskContractError(f"{self._where('compute_success')} returned NaN or inf (a success must be true "
                                    "or false)", "non_finite")
        if not bool(((value == 0) | (value == 1)).all()):
            raise TaskContractError(f"{self._where('compute_success')} returned values other than 0/1 ({value.dtype}); "
                                    "return a bool tensor",
                                    "shape")
        return value != 0

    def _as_reward(self, value: Any) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if not (isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], dict)):
            raise TaskContractError(f"{self._where('compute_reward')} must return (reward, components): a tensor "
                                    f"of shape ({self.num_envs},) "
                                    f"and a dict of named tensors, got {type(value).__name__}", "shape")
        reward, components = value
        checked = {}
        for name, tensor in (("reward", reward), *components.items()):
            if (not isinstance(tensor, torch.Tensor) or tuple(tensor.shape) != (self.num_envs,)
                    or not (tensor.is_floating_point() or tensor.dtype == torch.bool)):
                got = f"{tensor.dtype} {tuple(tensor.shape)}" if isinstance(tensor, torch.Tensor) else _describe(tensor)
                label = "the reward" if name == "reward" else f"component {name!r}"
                raise TaskContractError(f"{self._where('compute_reward')}: {label} must be a float tensor of shape "
                                        f"({self.num_envs},), "
                                        f"got {got}", "shape")
            checked[str(name)] = tensor.to(torch.float32)
        return checked.pop("reward"), checked

    def _check_finite(self, obs: torch.Tensor, reward: torch.Tensor, components: dict[str, torch.Tensor]) -> None:
        values = [reward, *components.values()]
        finite = torch.isfinite(obs).all() & torch.isfinite(torch.stack(values)).all()
        if bool(finite):
            return
        names = ["observation", "reward", *components]
        bad = [name for name, t in zip(names, [obs, *values]) if not bool(torch.isfinite(t).all())]
        envs = sorted({i for t in [obs, *values] for i in
                       torch.nonzero(~torch.isfinite(t.reshape(self.num_envs, -1)).all(dim=1)).flatten().tolist()})
        raise TaskContractError(f"{self.scene.env_id}: NaN or inf in {bad} (envs {envs[:10]})", "non_finite")

    def _where(self, function: str) -> str:
        task_py = self.definition.folder / "task.py"
        return f"{self.scene.env_id} ({task_py}): {self.definition.task_class.__name__}.{function}"
