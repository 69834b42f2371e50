"""Discriminator rejection sampling (Azadi et al., ICLR 2019), as importance resampling: a discriminator
corrects the generator's samples.

A discriminator trained to optimality against the generator has ``D(x) / (1 - D(x)) = p_data(x) /
p_G(x)``, so drawing ``k`` candidates from G and keeping one with probability proportional to that
ratio (``exp`` of D's log-odds) draws from a distribution closer to p_data; as ``k`` grows it tends to
``p_G x D / (1 - D)``, normalised. ``k = 1`` is G itself. The discriminator must have been trained
against the generator it corrects (``fit_discriminator``: the *final* generator's samples against
real ones), not against an earlier one from the middle of a GAN run.

``DRSGenerator`` holds G and D and has a generator's ``sample(n, temperature, min_p)``, so the
exported ``Sampler`` (models/sampler.py) wraps it like any generator and the TorchScript or
torch.export file carries both models and ``k``. In a TorchScript file ``k`` stays selectable at
sample time: ``torch.jit.load(path).generator.k = 4`` (1 turns the correction off); a torch.export
program has ``k`` fixed at export.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Optional

import torch
from torch import nn

from seqgan_core.errors import SeqganError
from seqgan_core.models.sampler import Sampler
from seqgan_core.models.sampling import categorical


class DRSGenerator(nn.Module):
    """``sample(n)``: ``k * n`` candidates ``(k * n, L)`` from ``generator``; D's log-odds of each;
    per row, one of its ``k`` candidates drawn with probability ``softmax(log-odds)``, which is
    proportional to ``D / (1 - D)``. Needs a discriminator with ``score_indices(seqs (n, L)) -> (n, 1)``."""

    autoregressive = False  # what it samples has no tractable likelihood: evaluate gets no NLL from it

    def __init__(self, generator: nn.Module, discriminator: nn.Module, k: int = 8):
        super().__init__()
        if not hasattr(discriminator, "score_indices"):
            raise SeqganError(f"discriminator rejection sampling needs a discriminator that scores index sequences "
                              f"(score_indices); {type(discriminator).__name__} has none: use highway_cnn")
        if k < 1:
            raise SeqganError(f"discriminator rejection sampling needs k >= 1 candidates per sequence, got {k}")
        self.generator, self.discriminator = generator.eval(), discriminator.eval()
        self.vocab_size, self.length = generator.vocab_size, generator.length
        self.k = int(k)
        self.pool = 10_000  # G's samples behind the likelihood's Monte Carlo estimate (log_probs)
        self.draws = 256  # sets of k - 1 other candidates drawn from them per scored sequence
        self._pool_temperature = -1.0  # the temperature of the cached pool's log-odds (-1: none yet)
        self._pool_log_odds = torch.zeros(0)  # (pool,) D's log-odds of G's samples at that temperature

    @torch.jit.export
    def sample(self, n: int, temperature: float = 1.0, min_p: float = 0.0) -> torch.Tensor:
        k = self.k
        candidates = self.generator.sample(n * k, temperature, min_p)  # (k * n, L): row j * n + i is candidate j of i
        if k == 1:
            return candidates
        logits = self.discriminator.score_indices(candidates).view(k, n).t()  # (n, k): log D/(1 - D)
        choice = categorical(logits, 1.0, 0.0)  # (n,): one candidate per row, p proportional to D/(1 - D)
        return candidates.view(k, n, self.length)[choice, torch.arange(n, device=choice.device)]  # (n, L)

    @torch.jit.export
    def log_probs(self, seqs: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        """Log-likelihood of ``seqs`` ``(n, L)`` under k-candidate resampling at ``temperature``, as
        ``(n, L)``: G's log p_T(token_t | tokens before), with the sequence's ``log_correction``
        (below) added to its first token, so a sequence's sum is log q_k(x) and every token stays
        counted as G's are. Only sums over whole sequences mean anything. The estimate's pool of
        ``self.pool`` G samples is drawn once per temperature and kept (later calls reuse it)."""
        with torch.no_grad():
            logp = (self.generator.teacher_forced_logits(seqs) / temperature).log_softmax(dim=-1)  # (n, L, V)
            logp = logp.gather(-1, seqs.unsqueeze(-1)).squeeze(-1)  # (n, L)
            if self.k == 1:
                return logp
            if self._pool_temperature != temperature:
                parts = [self.discriminator.score_indices(self.generator.sample(min(2000, self.pool - i), temperature,
                                                                                0.0)).squeeze(1)
                         for i in range(0, self.pool, 2000)]
                self._pool_log_odds = torch.cat(parts)
                self._pool_temperature = temperature
            correction = log_correction(self.discriminator.score_indices(seqs).squeeze(1), self._pool_log_odds,
                                        self.k, self.draws)  # (n,)
            first = torch.zeros_like(logp)
            first[:, 0] = correction.to(logp.dtype)
            return logp + first


def fit_discriminator(discriminator: nn.Module, generator: nn.Module, real: Callable[[int], torch.Tensor],
                      steps: int, batch_size: int = 64, lr: float = 1e-4) -> list[float]:
    """Train ``discriminator`` (log-odds of "real" from ``score_indices``) against ``generator``'s own
    samples: binary cross-entropy, ``batch_size`` real and as many generated sequences a step,
    Adam ``lr``. Returns the loss of each step. What DRS needs: D's ratio is G's only if D was
    trained against this G."""
    opt = torch.optim.Adam(discriminator.parameters(), lr)  # engine.optim's Adam sits a layer above models/
    labels = torch.cat([torch.ones(batch_size), torch.zeros(batch_size)])
    out = []
    generator.eval()
    discriminator.train()
    for _ in range(steps):
        with torch.no_grad():
            fake = generator.sample(batch_size)  # (B, L)
        seqs = torch.cat([real(batch_size).to(fake.device), fake])  # (2B, L)
        opt.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(discriminator.score_indices(seqs).squeeze(1),
                                                              labels.to(fake.device))
        loss.backward()
        opt.step()
        out.append(loss.item())
    discriminator.eval()
    return out


def log_correction(test: torch.Tensor, pool: torch.Tensor, k: int, draws: int = 256,
                   generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """``log q_k(x) - log p_G(x)`` for each scored sequence x: how much ``k``-candidate resampling
    changes its likelihood, estimated by Monte Carlo (the likelihood of DRS samples, as Deng et al.,
    ICLR 2020, estimate a residual energy model's partition function with the base model's samples).

    Resampling draws x as candidate j with probability ``p_G(x) * w(x) / (w(x) + sum of the other
    k - 1 candidates' w)``, for any of the k slots, so ``q_k(x) = k p_G(x) w(x) E[1 / (w(x) + S)]``,
    ``S`` the sum of ``k - 1`` weights of G's own samples; ``draws`` sets of them are taken from
    ``pool``. ``test``: D's log-odds of the scored sequences ``(m,)``; ``pool``: D's log-odds of
    sequences G drew ``(P,)``, at the same temperature the candidates are drawn. Returns ``(m,)``;
    all zeros for k = 1; exact in expectation over the pool as ``draws`` grows."""
    test, pool = test.double(), pool.double()
    if k == 1:
        return torch.zeros_like(test)
    idx = torch.randint(len(pool), (draws, k - 1), generator=generator)  # (R, k-1) other candidates
    others = torch.logsumexp(pool[idx], dim=1)  # (R,) log S
    denom = torch.logaddexp(test[:, None], others[None, :])  # (m, R) log(w(x) + S)
    return math.log(k) + test + torch.logsumexp(-denom, dim=1) - math.log(draws)


class DRSSampler(Sampler):
    """The exported module of a ``DRSGenerator`` over an autoregressive G: ``sampler(n)`` draws with
    the correction, and ``sampler.token_log_probs(seqs, temperature)`` is ``DRSGenerator.log_probs``
    (a Monte Carlo estimate), so ``seqgan evaluate RUN/drs.pt --trust`` computes NLL_test and
    NLL_gen of the corrected sampler."""

    @torch.jit.export
    def token_log_probs(self, seqs: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        return self.generator.log_probs(seqs, temperature)
