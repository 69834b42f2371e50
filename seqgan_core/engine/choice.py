"""Which preset trains a rule when the user names none: decided from the rule, never its name.

The test: draw real sequences, rebuild them with every position drawn independently from its own
column (each column shuffled on its own), and ask the rule whether it still accepts them. If it
does as often as it accepts real data, the positions are independent and the product of the
positions' own distributions suffices (``independent``: exactly the rebuilt sequences' law,
models/marginals.py); if not, the positions depend on each other and
an autoregressive generator is needed (``autoregressive``). A rule that accepts everything (an
oracle scored by likelihood) is asked through its own distance instead: rebuilt sequences that
score clearly worse than real ones (beyond the gap between two real samples) mean dependent
positions. A rule may recommend a preset (``Rule.recommend = {"preset": ...}``); the test works
without that.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from seqgan_core.rules.rule import Rule

PROBE_SIZE = 2000  # real sequences behind the test
PROBE_SEED = 5_000_011
KEEP_SHARE = 0.995  # rebuilt sequences accepted at least this share of real data's rate = independent


@dataclass
class Choice:
    preset: str
    reason: str  # one line: why this preset
    real_validity: float | None = None
    rebuilt_validity: float | None = None


def rebuild_independent(seqs: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Every column of ``seqs`` ``(n, L)`` shuffled on its own: the same per-position frequencies,
    with every dependency between positions broken."""
    order = torch.rand(seqs.shape, generator=generator).argsort(dim=0)  # (n, L): a permutation per column
    return seqs.gather(0, order)


def choose(rule: Rule, data_file: bool = False) -> Choice:
    recommended = (rule.recommend or {}).get("preset")
    if recommended:
        return Choice(str(recommended), f"rule {rule.name!r} recommends it")
    if data_file:
        return Choice("autoregressive", "a data file has no rule to test for independent positions")
    g = torch.Generator().manual_seed(PROBE_SEED)
    real = rule.canonical(rule.sample_checked(PROBE_SIZE, g))
    rebuilt = rebuild_independent(real, g)
    real_valid = rule.valid(real).float().mean().item()
    rebuilt_valid = rule.valid(rebuilt).float().mean().item()
    figures = f"sequences rebuilt from per-position frequencies are {rebuilt_valid:.1%} valid, real data {real_valid:.1%}"
    if rebuilt_valid < KEEP_SHARE * real_valid:
        return Choice("autoregressive", f"positions depend on each other ({figures})", real_valid, rebuilt_valid)
    if rule.distance is not None:
        other = rule.canonical(rule.sample_checked(PROBE_SIZE, g))
        real_d, other_d, rebuilt_d = rule.score(real), rule.score(other), rule.score(rebuilt)
        if rebuilt_d > real_d + 3 * abs(real_d - other_d) + 1e-6 * max(1.0, abs(real_d)):
            figures = (f"the rule's distance of sequences rebuilt from per-position frequencies is {rebuilt_d:.4g}, "
                       f"of real data {real_d:.4g}")
            return Choice("autoregressive", f"positions depend on each other ({figures})", real_valid, rebuilt_valid)
    return Choice("independent", f"positions look independent ({figures})", real_valid, rebuilt_valid)
