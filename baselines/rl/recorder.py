"""TrainingRecorder: one vector-env wrapper that logs what reward reflection needs, for any trainer.

Every trainer (rl-games, SB3, skrl, your own loop) steps the env through this wrapper, so every
run writes the same logs: per logging period (``log_every`` vector steps, one rl-games epoch by
default) it records the per-step mean of every reward component, the training reward, and over
the episodes that ended in the period the ground-truth success rate (``success_once``: the env's
``success_metric``, hand-written or family ground truth, or generated for a task without one), the
generated success rate, the return and length, and for each reward component the episode's
per-step mean, summarised (count, mean, min, max) apart for successful and failed episodes,
once split by generated success (what reward reflection may see: training never reads the
ground truth) and once by ground-truth success (for analysis).

Rows go to ``<run_dir>/metrics.jsonl`` (one JSON object per period, read by
``baselines.rl.log_summary``) and to tensorboard under ``<run_dir>/tb`` (tags
``reward_components/<name>``, ``success/ground_truth``, ``success/generated``, ``episode/*``).
"""
from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import torch
from gymnasium.vector import VectorWrapper

__all__ = ["TrainingRecorder", "METRICS_FILE"]

METRICS_FILE = "metrics.jsonl"


class _GroupStats:
    """count / sum / min / max of episode values, per component, for one group of episodes."""

    def __init__(self) -> None:
        self.count = 0
        self.sum: dict[str, float] = {}
        self.min: dict[str, float] = {}
        self.max: dict[str, float] = {}

    def add(self, values: dict[str, torch.Tensor]) -> None:
        n = None
        for name, v in values.items():
            if v.numel() == 0:
                return
            n = v.numel()
            self.sum[name] = self.sum.get(name, 0.0) + float(v.sum())
            self.min[name] = min(self.min.get(name, math.inf), float(v.min()))
            self.max[name] = max(self.max.get(name, -math.inf), float(v.max()))
        self.count += n or 0

    def row(self) -> dict[str, Any]:
        return {"count": self.count,
                "components": {k: {"mean": self.sum[k] / self.count, "min": self.min[k], "max": self.max[k]}
                               for k in self.sum} if self.count else {}}


class TrainingRecorder(VectorWrapper):
    """Wraps a V2PVectorEnv (SAME_STEP autoreset, torch tensors) and logs training statistics."""

    def __init__(self, env, run_dir: str | Path | None = None, log_every: int = 32,
                 total_steps: int | None = None, progress: bool = False, tensorboard: bool = True,
                 env_steps: int = 0, stagger_episodes: bool = False) -> None:
        super().__init__(env)
        #: every reset staggers the first episodes' lengths (see V2PVectorEnv.reset)
        self.stagger_episodes = stagger_episodes
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.log_every = max(int(log_every), 1)
        self.env_steps = int(env_steps)  # total env transitions so far (num_envs per vector step)
        self.period = 0
        self._writer = None
        self._metrics = None
        if self.run_dir is not None:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            self._metrics = open(self.run_dir / METRICS_FILE, "a")
            if tensorboard:
                from torch.utils.tensorboard import SummaryWriter

                self._writer = SummaryWriter(str(self.run_dir / "tb"))
        self._bar = None
        if progress:
            from tqdm import tqdm

            self._bar = tqdm(total=total_steps, initial=self.env_steps, unit="step", unit_scale=True,
                             desc=getattr(getattr(env, "scene", None), "env_id", "train"), dynamic_ncols=True)
        #: what ``success_rate`` measures (the env's ``info["success"]``): "ground_truth",
        #: "family_ground_truth" or "generated" (the "ground_truth" split below is by this success)
        self.success_metric = getattr(env, "success_metric", "ground_truth")
        n, device = env.num_envs, env.device
        self._ep_sums: dict[str, torch.Tensor] = {}
        self._ep_return = torch.zeros(n, device=device)
        self._ep_len = torch.zeros(n, device=device)
        self._ep_generated = torch.zeros(n, dtype=torch.bool, device=device)
        self._start = time.perf_counter()
        self.history: list[dict[str, Any]] = []
        self._new_period()

    # -- stepping ------------------------------------------------------------------------
    def reset(self, **kwargs):
        if self.stagger_episodes:
            kwargs["options"] = {**(kwargs.get("options") or {}), "stagger_episodes": True}
        obs, info = self.env.reset(**kwargs)
        self._ep_return.zero_()
        self._ep_len.zero_()
        self._ep_generated.zero_()
        for v in self._ep_sums.values():
            v.zero_()
        return obs, info

    def step(self, actions):
        obs, reward, terminated, truncated, info = self.env.step(actions)
        self._record(reward, terminated | truncated, info)
        return obs, reward, terminated, truncated, info

    @torch.no_grad()
    def _record(self, reward: torch.Tensor, done: torch.Tensor, info: dict[str, Any]) -> None:
        final = info.get("final_info", info)
        components = final["reward_components"]
        for name, value in components.items():
            if name not in self._ep_sums:
                self._ep_sums[name] = torch.zeros_like(value)
            self._ep_sums[name] += value
            self._step_sums[name] = self._step_sums.get(name, 0.0) + float(value.mean())
        self._step_sums["reward"] = self._step_sums.get("reward", 0.0) + float(reward.mean())
        self._steps_in_period += 1
        self._ep_return += reward
        self._ep_len += 1
        self._ep_generated |= final["generated_success"]
        if bool(done.any()):
            success = final["success_once"][done]
            length = self._ep_len[done]
            per_step = {k: v[done] / length for k, v in self._ep_sums.items()}
            per_step["reward"] = self._ep_return[done] / length  # the training reward, per step
            self._success.append(success.float())
            self._generated.append(self._ep_generated[done].float())
            self._returns.append(self._ep_return[done].clone())
            self._lengths.append(length.clone())
            gen = self._ep_generated[done]
            for split, flag in (("generated", gen), ("ground_truth", success)):
                self._groups[split]["success"].add({k: v[flag] for k, v in per_step.items()})
                self._groups[split]["failure"].add({k: v[~flag] for k, v in per_step.items()})
            for v in self._ep_sums.values():
                v[done] = 0.0
            self._ep_return[done] = 0.0
            self._ep_len[done] = 0.0
            self._ep_generated[done] = False
        self.env_steps += self.num_envs
        if self._bar is not None:
            self._bar.update(self.num_envs)
        if self._steps_in_period >= self.log_every:
            self.flush()

    # -- logging -------------------------------------------------------------------------
    def _new_period(self) -> None:
        self._step_sums: dict[str, float] = {}
        self._steps_in_period = 0
        self._success: list[torch.Tensor] = []
        self._generated: list[torch.Tensor] = []
        self._returns: list[torch.Tensor] = []
        self._lengths: list[torch.Tensor] = []
        self._groups = {split: {"success": _GroupStats(), "failure": _GroupStats()}
                        for split in ("generated", "ground_truth")}

    def flush(self) -> dict[str, Any] | None:
        """Write one row for the period since the last flush (nothing if no step was taken)."""
        if self._steps_in_period == 0:
            return None
        steps = self._steps_in_period
        cat = lambda xs: torch.cat(xs) if xs else torch.zeros(0)  # noqa: E731
        success, generated, returns, lengths = map(cat, (self._success, self._generated, self._returns, self._lengths))
        episodes = int(success.numel())
        mean = lambda t: float(t.float().mean()) if t.numel() else None  # noqa: E731
        row = {
            "period": self.period, "env_steps": self.env_steps,
            "wall_time_s": round(time.perf_counter() - self._start, 3),
            "reward_step_mean": self._step_sums.pop("reward") / steps,
            "components_step_mean": {k: v / steps for k, v in self._step_sums.items()},
            "episodes": episodes, "success_rate": mean(success), "success_metric": self.success_metric,
            "generated_success_rate": mean(generated),
            "episode_return": mean(returns), "episode_length": mean(lengths),
            "episode_components": {split: {g: s.row() for g, s in groups.items()}
                                   for split, groups in self._groups.items()},
        }
        self.history.append(row)
        if self._metrics is not None:
            self._metrics.write(json.dumps(row) + "\n")
            self._metrics.flush()
        if self._writer is not None:
            w, x = self._writer, self.env_steps
            w.add_scalar("reward/step_mean", row["reward_step_mean"], x)
            for name, value in row["components_step_mean"].items():
                w.add_scalar(f"reward_components/{name}", value, x)
            if episodes:
                w.add_scalar("success/ground_truth", row["success_rate"], x)
                w.add_scalar("success/generated", row["generated_success_rate"], x)
                w.add_scalar("episode/return", row["episode_return"], x)
                w.add_scalar("episode/length", row["episode_length"], x)
        if self._bar is not None and episodes:
            self._bar.set_postfix(success=f"{row['success_rate']:.2f}", ret=f"{row['episode_return']:.0f}")
        self.period += 1
        self._new_period()
        return row

    def recent_success(self, periods: int = 5) -> float | None:
        """Mean ground-truth episode success over the last ``periods`` rows that had episodes."""
        rates = [r["success_rate"] for r in self.history if r["episodes"]][-periods:]
        return sum(rates) / len(rates) if rates else None

    def close(self, **kwargs: Any) -> None:
        self.flush()
        if self._bar is not None:
            self._bar.close()
        if self._writer is not None:
            self._writer.close()
        if self._metrics is not None:
            self._metrics.close()
        self.env.close(**kwargs)
