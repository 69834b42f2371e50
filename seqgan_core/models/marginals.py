"""A generator that is the product of its positions' own distributions: one learned row of logits
per position, no noise and no dependence between positions."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from seqgan_core.models.base import AutoregressiveGenerator
from seqgan_core.models.sampling import categorical, straight_through


class MarginalsGenerator(AutoregressiveGenerator):
    """``p(x) = prod_l softmax(logits_l)[x_l]``: ``logits`` ``(L, V)`` is the whole model.

    This is exactly the model that ``seqgan_core.engine.choice`` tests a rule against before it picks
    the ``independent`` preset: it rebuilds real sequences with each position drawn from its own
    frequencies and checks that the rule still accepts them. When it does, this model is valid
    at real data's rate once its rows match those frequencies, and maximum likelihood takes it
    there directly (the rows converge to the per-position frequencies of real data). It cannot
    express any dependence between positions; a rule with one gets the ``autoregressive`` preset.

    It is autoregressive in the trivial sense that every conditional ignores the prefix, so it has
    the likelihood methods of every ``AutoregressiveGenerator`` (``nll``, ``token_log_probs``,
    ``teacher_forced_logits``, ``rollout``) and the maximum-likelihood phase, the held-out NLL check and
    ``seqgan evaluate``'s NLLs work on it unchanged. ``generate`` gives straight-through one-hots,
    so ``--set adversarial=true`` can still train it against a discriminator.

    Parameters L * V; cost L * V per sequence.
    """

    name = "marginals"

    @dataclass
    class Options:
        pass  # nothing to choose: the model is its table

    def __init__(self, vocab_size: int, length: int, options: MarginalsGenerator.Options | None = None):
        super().__init__()
        self.vocab_size, self.length = vocab_size, length
        self.logits = nn.Parameter(torch.zeros(length, vocab_size))  # (L, V): uniform at the start

    def _rows(self, n: int) -> torch.Tensor:
        return self.logits.unsqueeze(0).expand(n, self.length, self.vocab_size)  # (n, L, V)

    def teacher_forced_logits(self, seqs: torch.Tensor) -> torch.Tensor:
        """Next-token logits ``(n, L, V)`` for ``seqs`` ``(n, L)``: the same rows whatever came before."""
        return self._rows(seqs.shape[0])

    def _begin(self, n: int) -> torch.Tensor:
        return torch.zeros(n, 0, device=self.logits.device)  # (n, 0): nothing carries over

    def _advance(self, state: torch.Tensor, t: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.logits[t].unsqueeze(0).expand(state.shape[0], self.vocab_size), state  # (n, V)

    def _feed(self, state: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        return state  # no position depends on another

    def _feed_soft(self, state: torch.Tensor, onehot: torch.Tensor) -> torch.Tensor:
        return state

    # every position at once, not one at a time: the same distribution in one op

    def generate(self, n: int, tau: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Straight-through one-hot sequences ``(n, L, V)`` for training, and their indices ``(n, L)``."""
        return straight_through(self._rows(n), tau)

    @torch.jit.export
    def sample(self, n: int, temperature: float = 1.0, min_p: float = 0.0) -> torch.Tensor:
        logits = self._rows(n)  # (n, L, V)
        if hasattr(self, "banned"):  # tokens trained on but never drawn (constraints.never_sample)
            logits = logits.masked_fill(self.banned, float("-inf"))
        return categorical(logits, temperature, min_p)  # (n, L)
