"""The module that export files hold: a generator behind ``sampler(n)``."""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn


class Sampler(nn.Module):
    """What gets exported: ``sampler(n)`` -> int64 ``(n, length)`` vocabulary indices.

    How it draws is two 0-d buffers: ``sampler.temperature`` (1.0 = the trained distribution,
    towards 0 = greedy) and ``sampler.min_p`` (0 = every token; else tokens below min_p x the most
    likely one's probability are never drawn, models/sampling.py). TorchScript also takes them per
    call, ``sampler(n, 0.5)`` or ``sampler(n, None, 0.05)`` (None = the buffer); torch.export
    cannot give an input a default, so its program takes ``n`` alone and reads the buffers:
    ``m = torch.export.load(path).module(); m.min_p.fill_(0.05); m(n)``.
    """

    def __init__(self, generator: nn.Module, temperature: float = 1.0, min_p: float = 0.0):
        super().__init__()
        self.generator = generator
        self.register_buffer("temperature", torch.tensor(float(temperature)))
        self.register_buffer("min_p", torch.tensor(float(min_p)))

    def forward(self, n: int, temperature: Optional[float] = None, min_p: Optional[float] = None) -> torch.Tensor:
        with torch.no_grad():
            if temperature is None and min_p is None:
                return self.generator.sample(n, self._buffered(self.temperature), self._buffered(self.min_p))
            t = float(self.temperature) if temperature is None else temperature
            m = float(self.min_p) if min_p is None else min_p
            return self.generator.sample(n, t, m)

    def _buffered(self, buffer: torch.Tensor) -> float:
        if torch.jit.is_scripting():
            return float(buffer)
        return buffer  # torch.export traces the buffer as a tensor: stays live after export


class LikelihoodSampler(Sampler):
    """A ``Sampler`` for autoregressive generators that also scores sequences:
    ``sampler.token_log_probs(seqs, temperature)`` -> log p_T(token_t | tokens before) ``(n, L)``
    for int64 ``seqs`` ``(n, L)``, under the temperature-scaled distribution that
    ``sampler(n, temperature)`` draws from before any min-p cut.
    ``seqgan evaluate`` needs it for NLL_test / NLL_gen; TorchScript files keep it as a method,
    a torch.export program has only ``forward``."""

    @torch.jit.export
    def token_log_probs(self, seqs: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        with torch.no_grad():
            logp = (self.generator.teacher_forced_logits(seqs) / temperature).log_softmax(dim=-1)  # (n, L, V)
            return logp.gather(-1, seqs.unsqueeze(-1)).squeeze(-1)
