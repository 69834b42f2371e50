"""SeqGAN's batched Monte Carlo rollouts: every prefix of a batch completed ``count`` times.

``AutoregressiveGenerator.rollout`` (models/base.py) completes one prefix from scratch: for the L - 1
prefixes of a sequence that reads every prefix again, L (L - 1) steps in all. ``rollouts`` reads the
sequence once, through the same step pieces (``_begin``, ``_advance``, ``_feed``), repeats the state
after each prefix ``count`` times and completes from there: L (L - 1) / 2 steps. Each token is drawn
by inverse CDF (``draw``: one uniform number per row, as ``sampling.categorical`` draws) from the
seeded ``rng``, not by ``torch.multinomial``: the same distribution as ``rollout``'s, several times
faster on a large vocabulary, but not the same tokens for a seed. A family that overrides
``rollout`` (a constrained generator masks its draws) is completed by its own ``rollout``, one prefix
at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from seqgan_core.models.base import AutoregressiveGenerator


def _repeat(state: Any, count: int) -> Any:
    """``state`` (tensors, or tuples and lists of them, batch first) with every row repeated ``count``
    times as whole blocks: row ``r * n + b`` is row b."""
    if isinstance(state, torch.Tensor):
        return state.repeat(count, *[1] * (state.dim() - 1))
    if isinstance(state, (tuple, list)):
        return type(state)(_repeat(part, count) for part in state)
    return state


def draw(logits: torch.Tensor, rng: torch.Generator | None = None) -> torch.Tensor:
    """One token per row ``(n,)`` from softmax(logits) ``(n, V)`` at temperature 1, by inverse CDF on
    ``rng``'s uniform numbers."""
    cdf = logits.float().softmax(dim=-1).cumsum(dim=-1)  # (n, V)
    u = torch.rand(logits.shape[0], 1, generator=rng, device=logits.device) * cdf[:, -1:]  # (n, 1)
    return torch.searchsorted(cdf, u).squeeze(1).clamp_(max=logits.shape[1] - 1)


@torch.no_grad()
def rollouts(generator: AutoregressiveGenerator, seqs: torch.Tensor, count: int,
             rng: torch.Generator | None = None) -> Iterator[tuple[int, torch.Tensor]]:
    """For each prefix length ``t = 1 .. L-1`` of ``seqs`` ``(B, L)``: ``count`` completions of every
    row, ``(count * B, L)`` (row ``r * B + b`` is rollout r of sequence b), yielded as ``(t, completions)``.
    ``rng`` (a seeded ``torch.Generator`` on the model's device) makes them reproducible."""
    B, length = seqs.shape
    if type(generator).rollout is not AutoregressiveGenerator.rollout:
        for t in range(1, length):
            yield t, generator.rollout(seqs[:, :t].repeat(count, 1), length, generator=rng)  # (count * B, L)
        return
    state = generator._begin(B)
    for t in range(1, length):
        _, state = generator._advance(state, t - 1)  # the state that has read tokens 0 .. t - 2
        state = generator._feed(state, seqs[:, t - 1])  # ... and token t - 1 as the next input
        branch = _repeat(state, count)
        tokens = list(seqs[:, :t].repeat(count, 1).unbind(dim=1))  # t x (count * B,)
        for s in range(t, length):
            logits, branch = generator._advance(branch, s)  # (count * B, V)
            tokens.append(draw(logits, rng))
            branch = generator._feed(branch, tokens[s])
        yield t, torch.stack(tokens, dim=1)  # (count * B, L)
