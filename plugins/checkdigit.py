"""``checkdigit``: nine digits and a check digit, their sum modulo 10 — with the rule's constraint.

The constraint is whole-sequence: no per-position statistic tells a right check digit from a wrong
one, and a model trained by gradients on real data alone stays at chance (1 in 10) on it. The rule
*knows* its constraint, so it declares it: ``allowed_next(prefix)`` allows every digit at
positions 0..8 and only the right check digit at position 9. seqgan trains over the allowed
tokens and its sampler never leaves them (``seqgan_core.models.constraints``): valid by
construction. The hook is Python, so seqgan's sampler applies it (``seqgan sample RUN``,
``SeqGAN.sample``); a bare exported ``generator.pt`` does not.

``checkdigit-free`` is the same rule without the hook: what gradients alone reach on it
(``benchmarks/bench_tables.py``).

>>> import torch; s = sample(2, torch.Generator().manual_seed(0))
>>> bool(is_valid(s).all())
True
>>> allowed_next(s[:, :9])[0].nonzero().flatten().tolist() == [int(s[0, :9].sum()) % 10]
True
"""

import torch

from seqgan_core import Rule, hookimpl

LENGTH = 10
VOCAB = [str(d) for d in range(10)]  # index d <-> the digit d


def sample(n: int, generator: torch.Generator) -> torch.Tensor:
    head = torch.randint(10, (n, LENGTH - 1), generator=generator)  # (n, 9)
    return torch.cat([head, head.sum(-1, keepdim=True) % 10], dim=-1)  # (n, 10)


def is_valid(seqs: torch.Tensor) -> torch.Tensor:
    return seqs[:, -1] == seqs[:, :-1].sum(-1) % 10


def allowed_next(prefix: torch.Tensor) -> torch.Tensor:
    """Every digit before the check digit; then only the check digit. ``(B, t)`` -> ``(B, 10)``."""
    n, t = prefix.shape
    if t < LENGTH - 1:
        return torch.ones(n, len(VOCAB), dtype=torch.bool)
    check = prefix[:, : LENGTH - 1].sum(-1) % 10  # (B,)
    return torch.nn.functional.one_hot(check, len(VOCAB)).bool()


@hookimpl
def register_rules(register):
    common = dict(vocab=VOCAB, length=LENGTH, sample=sample, is_valid=is_valid)
    register(Rule(name="checkdigit", description="Nine digits and a check digit (their sum mod 10), "
                  "valid by construction through the rule's allowed_next", allowed_next=allowed_next, **common))
    register(Rule(name="checkdigit-free", description="checkdigit without its allowed_next: what gradients "
                  "alone learn of a whole-sequence constraint", **common))
