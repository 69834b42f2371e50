"""SeqGAN's batched Monte Carlo rollouts: every prefix of a batch completed ``count`` times.

Each completion is ``AutoregressiveGenerator.rollout`` (models/base.py); what this adds is the
layout SeqGAN's rewards read: for prefix length t, all ``count`` completions of all B rows in one
``(count * B, L)`` batch, so the discriminator scores them together.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from seqgan_core.models.base import AutoregressiveGenerator


@torch.no_grad()
def rollouts(generator: AutoregressiveGenerator, seqs: torch.Tensor, count: int,
             rng: torch.Generator | None = None) -> Iterator[tuple[int, torch.Tensor]]:
    """For each prefix length ``t = 1 .. L-1`` of ``seqs`` ``(B, L)``: ``count`` completions of every
    row, ``(count * B, L)`` (row ``r * B + b`` is rollout r of sequence b), yielded as ``(t, completions)``.
    ``rng`` (a seeded ``torch.Generator`` on the model's device) makes them reproducible."""
    length = seqs.shape[1]
    for t in range(1, length):
        yield t, generator.rollout(seqs[:, :t].repeat(count, 1), length, generator=rng)  # (count * B, L)
