"""The methods as configurations: what each sees, samples, picks and reflects (paper Sec. 4.1).

- **v2p**: the video's tracked poses in the prompts, generated success, 8 samples and picking,
  reward reflection (5 iterations x 8 samples);
- **eureka**: the caption only, generated success and reward, every initial sample trained and
  the best kept by its score (no picking), then reflection;
- **robogen**: one sample, reward and success from the model, no reflection; the policy kept is
  the one with the highest training return (as RoboGen's code does);
- **cop** (Code as Policies): the model writes policy code over perception calls and control
  primitives, re-planned every 50 steps; no RL;
- Table 3's ablations of v2p: without visual information, without success picking, without
  iterative reward, without multiple reward samples.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from v2p_envs.errors import V2PError
from v2p_envs.vector_env import DEFAULT_EPISODE_LENGTH

__all__ = ["MethodConfig", "METHODS", "ABLATIONS", "method_config", "Budget", "BUDGET_PRESETS"]

BUDGET_PRESETS = ("tiny", "cpu-small", "cpu", "default", "paper")


@dataclass(frozen=True)
class MethodConfig:
    name: str
    policy: str = "rl"  # "rl" (PPO on the generated task) or "code" (Code as Policies)
    use_video: bool = True
    samples: int = 8  # task-code samples
    pick: bool = True  # the model picks one runnable sample
    train_all_samples: bool = False  # Eureka: train every runnable sample, keep the best by score
    reflection_iterations: int = 5
    reflection_samples: int = 8
    keep: str = "final"  # which checkpoint is evaluated: "final" or "best_return" (RoboGen)
    replan_every: int = 50  # Code as Policies: steps between re-planning


METHODS: dict[str, MethodConfig] = {
    "v2p": MethodConfig("v2p"),
    "eureka": MethodConfig("eureka", use_video=False, pick=False, train_all_samples=True),
    "robogen": MethodConfig("robogen", use_video=False, samples=1, pick=False, reflection_iterations=0,
                            keep="best_return"),
    "cop": MethodConfig("cop", policy="code", use_video=False, samples=1, pick=False, reflection_iterations=0),
}

ABLATIONS: dict[str, MethodConfig] = {
    "v2p-no-video": dataclasses.replace(METHODS["v2p"], name="v2p-no-video", use_video=False),
    "v2p-no-pick": dataclasses.replace(METHODS["v2p"], name="v2p-no-pick", pick=False),
    "v2p-no-reflection": dataclasses.replace(METHODS["v2p"], name="v2p-no-reflection", reflection_iterations=0),
    "v2p-one-reward-sample": dataclasses.replace(METHODS["v2p"], name="v2p-one-reward-sample", reflection_samples=1),
}


def method_config(name: str) -> MethodConfig:
    known = {**METHODS, **ABLATIONS}
    if name not in known:
        raise V2PError(f"unknown method {name!r}; known: {sorted(known)}")
    return known[name]


@dataclass(frozen=True)
class Budget:
    """How much compute a method run gets; the paper's is ``paper()`` (GPU scale)."""

    reflection_steps: int = 300_000  # env steps of each reflection training run
    final_steps: int = 1_000_000  # env steps of each final training run (one per seed)
    num_envs: int = 256
    seeds: int = 3  # final training seeds (the paper: 3)
    eval_episodes: int = 10  # per seed (the paper: 10)
    reflection_iterations: int | None = None  # cap on the method's iterations (None: the method's own)
    reflection_samples: int | None = None  # cap on the method's reward samples per iteration
    samples: int | None = None  # cap on the method's task-code samples
    episode_length: int | None = None  # training episode length (None: the task's)
    workers: int = 1  # jobs at a time on the local pool
    ray_address: str | None = None

    @classmethod
    def paper(cls) -> "Budget":
        return cls(reflection_steps=20_000_000, final_steps=20_000_000, num_envs=4096)

    @classmethod
    def tiny(cls) -> "Budget":
        """Seconds per method: a smoke test of the whole loop, not a measurement."""
        return cls(reflection_steps=64, final_steps=64, num_envs=4, seeds=1, eval_episodes=2, reflection_iterations=1,
                   reflection_samples=1, samples=2, episode_length=8)

    @classmethod
    def cpu_small(cls) -> "Budget":
        """What a 2-core machine runs in minutes per task: 2 reflection iterations x 2 samples."""
        return cls(reflection_steps=200_000, final_steps=600_000, reflection_iterations=2, reflection_samples=2)

    @classmethod
    def cpu(cls) -> "Budget":
        """A budget that learns on 2 cores: every reflection sample long enough for each of the
        256 envs to play 4 full episodes (the score is the trained policy's, not the first
        episodes'), 2 iterations x 3 reward samples, and final runs of 3M env steps (where the
        single-object tasks' rewards reach their success on this machine)."""
        return cls(reflection_steps=4 * DEFAULT_EPISODE_LENGTH * 256, final_steps=3_000_000, num_envs=256,
                   reflection_iterations=2, reflection_samples=3)

    @classmethod
    def preset(cls, name: str) -> "Budget":
        """One of ``BUDGET_PRESETS``."""
        makers = {"tiny": cls.tiny, "cpu-small": cls.cpu_small, "cpu": cls.cpu, "default": cls, "paper": cls.paper}
        if name not in makers:
            raise V2PError(f"unknown budget {name!r}; presets: {list(makers)}")
        return makers[name]()

    def short_reflection_warning(self) -> str | None:
        """A reflection run shorter than two episodes per env is scored on the untrained policy's
        first (staggered, shortened) episodes, so its scores compare noise: say so, with the fix."""
        episode_length = self.episode_length or DEFAULT_EPISODE_LENGTH
        per_env = self.reflection_steps / self.num_envs
        if per_env >= 2 * episode_length:
            return None
        return (f"reflection runs of {self.reflection_steps:,} env steps give each of {self.num_envs} envs "
                f"{per_env:.0f} steps, under two {episode_length}-step episodes: their scores mostly measure the "
                f"untrained policy; use >= {2 * episode_length * self.num_envs:,} reflection steps")

    def cap(self, method: MethodConfig) -> MethodConfig:
        """``method`` with its sample and iteration counts capped by this budget."""
        def lower(value: int, cap: int | None) -> int:
            return value if cap is None else min(value, cap)
        return dataclasses.replace(method, samples=lower(method.samples, self.samples),
                                   reflection_iterations=lower(method.reflection_iterations, self.reflection_iterations),
                                   reflection_samples=lower(method.reflection_samples, self.reflection_samples))
