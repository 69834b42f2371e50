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


class LikelihoodSampler(Sampler):
    """A ``Sampler`` for autoregressive generators that also scores sequences:
    ``sampler.token_log_probs(seqs, temperature)`` -> log p_T(token_t | tokens before) ``(n, L)``
    for int64 ``seqs`` ``(n, L)``, under the same temperature-scaled distribution that
    ``sampler(n, temperature)`` draws from. ``seqgan evaluate`` needs it for NLL_test / NLL_gen;
    TorchScript files keep it as a method, a torch.export program has only ``forward``."""

    @torch.jit.export
    def token_log_probs(self, seqs: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        with torch.no_grad():
            logp = (self.generator.teacher_forced_logits(seqs) / temperature).log_softmax(dim=-1)  # (n, L, V)
            return logp.gather(-1, seqs.unsqueeze(-1)).squeeze(-1)
