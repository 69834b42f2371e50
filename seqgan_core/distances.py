"""Ready-made distances for rule authors (0.0 = perfect, lower is better).

Validity alone cannot see a generator that produces one valid sequence over and over; these
distances add how far the per-position token distributions are from the rule's real data.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .metrics import position_counts, tv_distance

REFERENCE_N = 100_000  # real sequences behind the per-position reference
REFERENCE_SEED = 12_345


def invalid_plus_marginal_tv(
    sample: Callable[[int, torch.Generator], torch.Tensor],
    is_valid: Callable[[torch.Tensor], torch.Tensor],
    vocab_size: int,
) -> Callable[[torch.Tensor], float]:
    """Share of invalid sequences + mean over positions of the TV to real per-position frequencies.

    The real frequencies are estimated once, lazily, from ``sample`` with a fixed seed. On a finite
    sample of real data the result is small but not exactly 0 (sampling noise in the TV term).
    """
    cache: dict[str, torch.Tensor] = {}

    def distance(seqs: torch.Tensor) -> float:
        if "real" not in cache:
            real = sample(REFERENCE_N, torch.Generator().manual_seed(REFERENCE_SEED))
            cache["real"] = position_counts(real, vocab_size)  # (L, V)
        invalid = 1.0 - is_valid(seqs).float().mean().item()
        return invalid + tv_distance(position_counts(seqs, vocab_size), cache["real"]).mean().item()

    return distance
