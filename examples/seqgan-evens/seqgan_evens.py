"""A complete third-party seqgan rule: ten even numbers below 100.

Written only against seqgan's public plugin contract (``Rule`` and ``hookimpl``); installed with
pip, it shows up in ``seqgan rules`` through the ``seqgan`` entry-point group.
"""

import torch

from seqgan_core import Rule, hookimpl

LENGTH = 10


def sample(n, generator):
    # (n, 10) indices; with vocab = range(100) an index is the number itself
    return 2 * torch.randint(50, (n, LENGTH), generator=generator)


def is_valid(seqs):
    return (seqs % 2 == 0).all(dim=-1)  # (n,)


@hookimpl
def register_rules(register):
    register(
        Rule(
            name="evens",
            description="Ten even numbers below 100",
            vocab=list(range(100)),
            length=LENGTH,
            sample=sample,
            is_valid=is_valid,
            distance=None,  # default: share of sequences that are not valid
        )
    )
