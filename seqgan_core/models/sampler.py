"""The module that export files hold: a generator behind ``sampler(n)``."""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn


class Sampler(nn.Module):
    """What gets exported: ``sampler(n)`` -> int64 ``(n, length)`` vocabulary indices.

    The temperature of the draws (1.0 = the trained distribution, towards 0 = greedy) is the 0-d
    buffer ``sampler.temperature``. TorchScript also takes it per call, ``sampler(n, 0.5)``;
    torch.export cannot give an input a default, so its program takes ``n`` alone and reads the
    buffer: ``m = torch.export.load(path).module(); m.temperature.fill_(0.5); m(n)``.
    """

    def __init__(self, generator: nn.Module, temperature: float = 1.0):
        super().__init__()
        self.generator = generator
        self.register_buffer("temperature", torch.tensor(float(temperature)))

    def forward(self, n: int, temperature: Optional[float] = None) -> torch.Tensor:
        with torch.no_grad():
            if temperature is None:
                return self.generator.sample(n, self._buffered())
            return self.generator.sample(n, temperature)

    def _buffered(self) -> float:
        if torch.jit.is_scripting():
            return float(self.temperature)
        return self.temperature  # torch.export traces the buffer as a tensor: stays live after export
