"""How good are generated sequences? Validity, coverage, TV / Jensen-Shannon, diversity.

All functions take index tensors ``(n, length)``. The real side is estimated from the rule's own
sampler with a large, seeded sample (``reference(rule)``, built once per rule and process), so
figures are comparable between runs. Sequences of rules with an end token are compared in their
canonical form (only end tokens after the first one).

- validity: share of generated sequences the rule accepts;
- coverage: distinct tokens produced that also occur in real data / distinct tokens in real data;
- TV: total-variation distance ``0.5 * sum |p - q|`` between token distributions, pooled over all
  positions and per position (then averaged); 0 = identical, 1 = disjoint;
- JS: Jensen-Shannon *distance* (square root of the divergence, base 2), also in [0, 1];
- unique ratio: distinct sequences / n, reported beside the same figure for n real sequences.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import math
from dataclasses import dataclass

import torch

if TYPE_CHECKING:  # annotations only: this layer must not import the one above it
    from seqgan_core.rules.rule import Rule


REFERENCE_SIZE = 100_000  # real sequences behind every reference distribution
REFERENCE_TOKENS = 10_000_000  # ... but never more tokens than this
REFERENCE_SEED = 20_240_917  # fixed, so every run is compared against the same real sample


def token_counts(seqs: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """Pooled token counts ``(V,)``."""
    return torch.bincount(seqs.reshape(-1), minlength=vocab_size).double()


def position_counts(seqs: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """Per-position token counts ``(L, V)``."""
    n, length = seqs.shape
    offsets = torch.arange(length) * vocab_size  # (L,)
    flat = (seqs.cpu() + offsets).reshape(-1)
    return torch.bincount(flat, minlength=length * vocab_size).double().view(length, vocab_size)


def _normalise(counts: torch.Tensor) -> torch.Tensor:
    return counts / counts.sum(-1, keepdim=True).clamp_min(1)


def tv_distance(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """TV between distributions (or counts) over the last dimension."""
    return 0.5 * (_normalise(p) - _normalise(q)).abs().sum(-1)


def js_distance(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Jensen-Shannon distance (base 2) over the last dimension."""
    p, q = _normalise(p), _normalise(q)
    m = 0.5 * (p + q)

    def kl(a, b):  # terms with a == 0 contribute 0
        return torch.where(a > 0, a * torch.log2(a / b.clamp_min(1e-300)), torch.zeros_like(a)).sum(-1)

    return (0.5 * kl(p, m) + 0.5 * kl(q, m)).clamp_min(0).sqrt()


def unique_ratio(seqs: torch.Tensor) -> float:
    return len(torch.unique(seqs, dim=0)) / max(len(seqs), 1)


@dataclass
class Reference:
    """The real side of every comparison, estimated once from the rule's sampler."""

    rule: Rule
    seqs: torch.Tensor  # (REFERENCE_SIZE, L)
    pooled: torch.Tensor  # (V,) counts
    per_position: torch.Tensor  # (L, V) counts

    @classmethod
    def from_rule(cls, rule: Rule, n: int = REFERENCE_SIZE, seed: int = REFERENCE_SEED) -> Reference:
        n = min(n, max(1000, REFERENCE_TOKENS // rule.length))  # bounded memory for long sequences
        seqs = rule.canonical(rule.sample_checked(n, torch.Generator().manual_seed(seed)))
        V = len(rule.vocabulary)
        return cls(rule, seqs, token_counts(seqs, V), position_counts(seqs, V))

    def unique_ratio(self, n: int) -> float:
        """The unique-sequence ratio of ``n`` real sequences, the figure to compare against
        (for n beyond the reference: of the whole reference, the closest figure there is)."""
        return unique_ratio(self.seqs[:n])

    def real_scores(self, n: int) -> dict:
        """What ``n`` fresh real sequences score: validity, pooled TV and the quality distance —
        the level a perfect generator reaches on a sample of this size (cached per ``n``)."""
        cache = self.__dict__.setdefault("_real_scores", {})
        if n not in cache:
            seqs = self.rule.canonical(self.rule.sample_checked(n, torch.Generator().manual_seed(REFERENCE_SEED + 1)))
            cache[n] = {"real_validity": self.rule.valid(seqs).float().mean().item(), "real_tv": self.tv(seqs),
                        "real_distance": quality_distance(seqs, self)}
        return cache[n]

    def tv(self, seqs: torch.Tensor) -> float:
        return tv_distance(token_counts(seqs, len(self.pooled)), self.pooled).item()

    def js(self, seqs: torch.Tensor) -> float:
        return js_distance(token_counts(seqs, len(self.pooled)), self.pooled).item()


def reference(rule: Rule) -> Reference:
    """The rule's reference sample, built on first use and kept for the life of the rule object."""
    cached = rule.__dict__.get("_reference")
    if cached is None:
        cached = rule.__dict__["_reference"] = Reference.from_rule(rule)
    return cached


def quality_distance(seqs: torch.Tensor, ref: Reference) -> float:
    """seqgan's one distance: share of invalid sequences + mean over positions of the token TV to
    real data. 0 = perfect; real data scores a little above 0 (the TV of a finite sample)."""
    seqs = ref.rule.canonical(seqs.cpu())
    invalid = 1.0 - ref.rule.valid(seqs).float().mean().item()
    tv = tv_distance(position_counts(seqs, len(ref.pooled)), ref.per_position).mean().item()
    return invalid + tv


def evaluate(seqs: torch.Tensor, reference: Reference) -> dict:
    """Every metric for generated ``seqs`` ``(n, length)`` as a flat JSON-ready dict."""
    rule, V = reference.rule, len(reference.pooled)
    seqs = rule.canonical(seqs.cpu())
    pooled, per_pos = token_counts(seqs, V), position_counts(seqs, V)
    real_tokens = reference.pooled > 0
    produced_real = ((pooled > 0) & real_tokens).sum().item()
    tv_pos = tv_distance(per_pos, reference.per_position)  # (L,)
    js_pos = js_distance(per_pos, reference.per_position)  # (L,)
    return {
        "n": len(seqs),
        "validity": rule.valid(seqs).float().mean().item(),
        "coverage": produced_real / real_tokens.sum().item(),
        "coverage_count": int(produced_real),
        "real_token_count": int(real_tokens.sum().item()),
        "tv": tv_distance(pooled, reference.pooled).item(),
        "js": js_distance(pooled, reference.pooled).item(),
        "tv_position_mean": tv_pos.mean().item(),
        "js_position_mean": js_pos.mean().item(),
        "tv_per_position": [round(v, 6) for v in tv_pos.tolist()],
        "unique_ratio": unique_ratio(seqs),
        "real_unique_ratio": reference.unique_ratio(len(seqs)),
        "rule_distance": rule.score(seqs),
        **reference.real_scores(len(seqs)),
    }


def token_mask(seqs: torch.Tensor, eos_index: int | None) -> torch.Tensor:
    """Which tokens count for a likelihood ``(n, L)``: all, or those up to the first end token."""
    if eos_index is None:
        return torch.ones_like(seqs, dtype=torch.bool)
    is_eos = (seqs == eos_index).long()
    before = is_eos.cumsum(-1) - is_eos  # end tokens strictly before each position
    return before == 0


def paired_nll_se(before: torch.Tensor, after: torch.Tensor, counts: torch.Tensor) -> float:
    """Standard error of the change in per-token NLL between two models scored on the same
    sequences: ``before`` and ``after`` are per-sequence NLL sums ``(n,)``, ``counts`` the tokens
    counted in each. Paired, so it is the noise of the *difference*, far below either NLL's own."""
    diff = before - after  # (n,)
    return (diff.var(unbiased=True).sqrt() * math.sqrt(len(diff)) / counts.sum()).item() if len(diff) > 1 else 0.0


def per_token_nll(log_probs: torch.Tensor, seqs: torch.Tensor, eos_index: int | None) -> tuple[float, float]:
    """Mean negative log-likelihood per counted token (nats), and its standard error across
    sequences, from the model's ``log_probs`` ``(n, L)`` of ``seqs``."""
    mask = token_mask(seqs, eos_index).to(log_probs.dtype)  # (n, L)
    per_seq = -(log_probs * mask).sum(-1)  # (n,)
    counts = mask.sum(-1)  # (n,)
    mean = (per_seq.sum() / counts.sum()).item()
    # ratio estimator's standard error: spread of the per-sequence residuals
    resid = per_seq - mean * counts
    se = (resid.pow(2).sum() / max(len(seqs) - 1, 1)).sqrt().item() * math.sqrt(len(seqs)) / counts.sum().item()
    return mean, se
