"""Bring your own algorithm: a single-file PPO (CleanRL style) on ``gym.make_vec``, no adapter.

    python examples/custom_ppo.py --env-id V2P-ReachBlock-v0 --num-envs 128 --total-steps 1000000

The vector env speaks torch: observations, rewards and flags are tensors on its device, and it
autoresets in the same step (SAME_STEP): when an episode ends, ``obs`` is already the next
episode's first observation and ``info["final_obs"]`` holds the last one, which we use to
bootstrap the value of episodes cut by the time limit. ``info["success_once"]`` is ground truth.
"""
from __future__ import annotations

import argparse
import dataclasses
import time
from dataclasses import dataclass

import gymnasium as gym
import torch
from torch import nn

import v2p_envs  # noqa: F401  (registers the tasks)


@dataclass
class Args:
    env_id: str = "V2P-ReachBlock-v0"
    num_envs: int = 128
    total_steps: int = 1_000_000
    episode_length: int = 300
    seed: int = 0
    device: str = "cpu"
    num_steps: int = 32          # rollout length per env
    num_minibatches: int = 4
    update_epochs: int = 5
    learning_rate: float = 5e-4
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_coef: float = 0.2
    vf_coef: float = 2.0
    max_grad_norm: float = 1.0
    reward_scale: float = 0.01   # rewards include 100 x success: scale them for the critic


class RunningNorm(nn.Module):
    """Running mean/std of observations (kept in the state dict)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(size))
        self.register_buffer("var", torch.ones(size))
        self.register_buffer("count", torch.tensor(1e-4))

    def update(self, x: torch.Tensor) -> None:
        batch_mean, batch_var, n = x.mean(0), x.var(0, unbiased=False), x.shape[0]
        delta, total = batch_mean - self.mean, self.count + n
        self.mean += delta * n / total
        self.var = (self.var * self.count + batch_var * n + delta**2 * self.count * n / total) / total
        self.count = total

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ((x - self.mean) / torch.sqrt(self.var + 1e-8)).clamp(-5, 5)


def mlp(n_in: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, 256), nn.ELU(), nn.Linear(256, 128), nn.ELU(), nn.Linear(128, 64), nn.ELU(),
                         nn.Linear(64, n_out))


class Agent(nn.Module):
    def __init__(self, obs_dim: int, act_dim: int) -> None:
        super().__init__()
        self.norm = RunningNorm(obs_dim)
        self.actor, self.critic = mlp(obs_dim, act_dim), mlp(obs_dim, 1)
        self.log_std = nn.Parameter(torch.zeros(act_dim))

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.critic(self.norm(obs)).squeeze(-1)

    def act(self, obs: torch.Tensor, action: torch.Tensor | None = None):
        x = self.norm(obs)
        dist = torch.distributions.Normal(self.actor(x), self.log_std.exp())
        action = dist.sample() if action is None else action
        return action, dist.log_prob(action).sum(-1), dist.entropy().sum(-1), self.critic(x).squeeze(-1)


def train(args: Args) -> tuple[Agent, list[float]]:
    torch.manual_seed(args.seed)
    if args.device == "cpu":
        torch.set_num_threads(1)  # on few CPU cores a 1-thread learner leaves the cores to the physics
    envs = gym.make_vec(args.env_id, num_envs=args.num_envs, vectorization_mode="vector_entry_point",
                        device=args.device, max_episode_steps=args.episode_length)
    n, T, dev = args.num_envs, args.num_steps, torch.device(args.device)
    agent = Agent(envs.single_observation_space.shape[0], envs.single_action_space.shape[0]).to(dev)
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)
    obs_buf = torch.zeros((T, n) + envs.single_observation_space.shape, device=dev)
    act_buf = torch.zeros((T, n) + envs.single_action_space.shape, device=dev)
    logp_buf, rew_buf, done_buf, val_buf = (torch.zeros(T, n, device=dev) for _ in range(4))
    obs, _ = envs.reset(seed=args.seed)
    successes: list[float] = []  # ground-truth success of each finished episode
    steps, start = 0, time.perf_counter()
    while steps < args.total_steps:
        for t in range(T):  # -- rollout
            agent.norm.update(obs)
            with torch.no_grad():
                action, logp, _, value = agent.act(obs)
            obs_buf[t], act_buf[t], logp_buf[t], val_buf[t] = obs, action, logp, value
            obs, reward, terminated, truncated, info = envs.step(action.clamp(-1, 1))
            reward = reward * args.reward_scale
            if bool(truncated.any()):  # bootstrap time-outs from the true last observation
                with torch.no_grad():
                    reward = reward + args.gamma * agent.value(info["final_obs"]) * (truncated & ~terminated)
            done = terminated | truncated
            if bool(done.any()):
                successes += info["final_info"]["success_once"][done].float().tolist()
            rew_buf[t], done_buf[t] = reward, done.float()
            steps += n
        with torch.no_grad():  # -- GAE
            adv, last = torch.zeros_like(rew_buf), 0.0
            next_value = agent.value(obs)
            for t in reversed(range(T)):
                nonterminal = 1.0 - done_buf[t]
                next_v = next_value if t == T - 1 else val_buf[t + 1]
                delta = rew_buf[t] + args.gamma * next_v * nonterminal - val_buf[t]
                adv[t] = last = delta + args.gamma * args.gae_lambda * nonterminal * last
            returns = adv + val_buf
        b_obs, b_act = obs_buf.reshape(T * n, -1), act_buf.reshape(T * n, -1)
        b_logp, b_adv, b_ret = logp_buf.reshape(-1), adv.reshape(-1), returns.reshape(-1)
        mb = T * n // args.num_minibatches
        for _ in range(args.update_epochs):  # -- PPO update
            for idx in torch.randperm(T * n, device=dev).split(mb):
                _, logp, entropy, value = agent.act(b_obs[idx], b_act[idx])
                ratio = (logp - b_logp[idx]).exp()
                a = (b_adv[idx] - b_adv[idx].mean()) / (b_adv[idx].std() + 1e-8)
                pg_loss = torch.max(-a * ratio, -a * ratio.clamp(1 - args.clip_coef, 1 + args.clip_coef)).mean()
                v_loss = 0.5 * ((value - b_ret[idx]) ** 2).mean()
                loss = pg_loss + args.vf_coef * v_loss
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
                optimizer.step()
        recent = successes[-n:]
        rate = f"{sum(recent) / len(recent):.2f}" if recent else "n/a"
        print(f"steps {steps:>9d}  {steps / (time.perf_counter() - start):6.0f} steps/s  success {rate}", flush=True)
    envs.close()
    return agent, successes


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for f in dataclasses.fields(Args):
        parser.add_argument("--" + f.name.replace("_", "-"), type=type(f.default), default=f.default)
    train(Args(**vars(parser.parse_args())))
