"""An exported rl-games policy: observation normalisation, an MLP with ELU, the mean action.

Written by ``v2p submit export``; the weights (``policy.safetensors``) hold ``obs_mean``,
``obs_var`` and ``layer<k>.weight`` / ``layer<k>.bias`` for the hidden layers and ``mu.*``.
"""
import torch


class SubmittedPolicy:
    def __init__(self, weights, spec):
        self.mean = weights["obs_mean"].float()
        self.std = torch.sqrt(weights["obs_var"].float() + 1e-5)
        self.layers = []
        k = 0
        while f"layer{k}.weight" in weights:
            self.layers.append((weights[f"layer{k}.weight"].float(), weights[f"layer{k}.bias"].float()))
            k += 1
        self.mu = (weights["mu.weight"].float(), weights["mu.bias"].float())

    def reset(self, env_ids):
        pass

    def act(self, obs):
        x = torch.clamp((obs.float() - self.mean) / self.std, -5.0, 5.0)
        for weight, bias in self.layers:
            x = torch.nn.functional.elu(x @ weight.T + bias)
        return torch.clamp(x @ self.mu[0].T + self.mu[1], -1.0, 1.0)
