"""Per-environment random streams that do not depend on how many envs share a batch.

Copy i of a vector env seeded with s must behave like a single env seeded with s + i
(Gymnasium's convention), on any device and at any batch size. A torch.Generator per env does
not scale to thousands of envs, so each env keeps a 32-bit counter state and draws through a
hash (an LCG step followed by a murmur-style finaliser), all in batched int64 tensor math.
"""
from __future__ import annotations

import torch

__all__ = ["BatchedRNG"]

_MASK32 = 0xFFFFFFFF


def _mix32(x: torch.Tensor) -> torch.Tensor:
    """A murmur-style 32-bit finaliser on int64 tensors; 16-bit odd multipliers never overflow."""
    x = x ^ (x >> 16)
    x = (x * 0x85EB) & _MASK32  # multipliers split so every product fits in 63 bits
    x = (x * 0xCA6B) & _MASK32
    x = x ^ (x >> 13)
    x = (x * 0xC2B3) & _MASK32
    x = (x * 0xAE35) & _MASK32
    return x ^ (x >> 16)


class BatchedRNG:
    """One random stream per env; draws for a subset of envs advance only those streams."""

    def __init__(self, num_envs: int, device: torch.device | str = "cpu") -> None:
        self.device = torch.device(device)
        self.state = torch.zeros(num_envs, dtype=torch.int64, device=self.device)

    def seed(self, env_ids: torch.Tensor, seeds: torch.Tensor) -> None:
        """Set the streams of ``env_ids`` from non-negative integer ``seeds`` (one per env, < 2**63).

        Every bit counts: the high 32 bits are mixed in too (``_mix32(0) == 0``, so seeds
        below 2**32 give the same streams as when only the low bits were used)."""
        seeds = seeds.to(torch.int64)
        self.state[env_ids] = _mix32((seeds & _MASK32) ^ 0x5BD1E995 ^ _mix32(seeds >> 32))

    def uniform(self, env_ids: torch.Tensor, *shape: int, low: float | torch.Tensor = 0.0,
                high: float | torch.Tensor = 1.0) -> torch.Tensor:
        """Uniform floats in [low, high) of shape (len(env_ids), *shape)."""
        count = 1
        for s in shape:
            count *= s
        state = self.state[env_ids]
        offsets = torch.arange(1, count + 1, device=self.device, dtype=torch.int64)
        draws = _mix32((state[:, None] + offsets * 0x9E3779B9) & _MASK32)
        self.state[env_ids] = (state + count * 0x9E3779B9) & _MASK32
        unit = draws.to(torch.float32) / float(2 ** 32)
        unit = unit.reshape(len(state), *shape) if shape else unit[:, 0]
        return low + (high - low) * unit
