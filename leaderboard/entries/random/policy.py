"""Uniform random actions: the board's floor."""
import torch


class SubmittedPolicy:
    def __init__(self, weights, spec):
        self.num_envs = spec["num_envs"]
        self.generator = torch.Generator()  # a fresh generator starts from a fixed seed: reproducible

    def reset(self, env_ids):
        pass

    def act(self, obs):
        return torch.rand(obs.shape[0], 7, generator=self.generator) * 2 - 1
