"""A rule: the target a GAN learns — vocabulary, length, real-data sampler, validity and distance.

Plugins build ``Rule`` objects and hand them to the ``register`` callback of ``register_rules``.
The contract (tensors are vocabulary *indices*, never tokens):

- ``sample(n, generator)`` -> LongTensor ``(n, length)``, drawn only from ``generator``;
- ``is_valid(seqs)`` -> BoolTensor ``(n,)`` for ``seqs`` of shape ``(n, length)``;
- ``distance(seqs)`` -> float, 0.0 = perfect (optional; default: share of invalid sequences).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

import torch

from .errors import RuleError
from .vocabulary import Vocabulary

SampleFn = Callable[[int, torch.Generator], torch.Tensor]
ValidFn = Callable[[torch.Tensor], torch.Tensor]
DistanceFn = Callable[[torch.Tensor], float]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass
class Rule:
    name: str  # unique; what --rule takes
    description: str  # one line for `seqgan rules`
    vocab: Sequence[Hashable]  # the tokens; index i <-> vocab[i]
    length: int  # tokens per sequence
    sample: SampleFn  # (n, generator) -> LongTensor (n, length) of indices
    is_valid: ValidFn  # (n, length) -> BoolTensor (n,)
    distance: DistanceFn | None = None  # (n, length) -> float; None = share of invalid sequences
    plugin: str = field(default="?", compare=False)  # set by the plugin manager on registration

    def __post_init__(self):
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise RuleError(
                f"rule name {self.name!r} is invalid: use letters, digits, '_', '-' or '.'"
            )
        if isinstance(self.length, bool) or not isinstance(self.length, int) or self.length < 1:
            raise RuleError(f"rule {self.name!r}: length must be a positive int, got {self.length!r}")
        for attr in ("sample", "is_valid"):
            if not callable(getattr(self, attr)):
                raise RuleError(f"rule {self.name!r}: {attr} must be callable")
        if self.distance is not None and not callable(self.distance):
            raise RuleError(f"rule {self.name!r}: distance must be callable or None")
        try:
            self.vocabulary = Vocabulary(self.vocab)
        except ValueError as e:
            raise RuleError(f"rule {self.name!r}: {e}") from None

    def __repr__(self) -> str:
        return f"Rule({self.name!r}, vocab size {len(self.vocabulary)}, length {self.length})"

    def sample_checked(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``sample`` with the contract enforced, so a broken plugin is named, not a shape error."""
        seqs = self.sample(n, generator)
        where = f"rule {self.name!r} (plugin {self.plugin})"
        if not isinstance(seqs, torch.Tensor):
            raise RuleError(f"{where}: sample() returned {type(seqs).__name__}, expected a LongTensor")
        if seqs.dtype != torch.long:
            raise RuleError(f"{where}: sample() returned dtype {seqs.dtype}, expected torch.long")
        if tuple(seqs.shape) != (n, self.length):
            raise RuleError(
                f"{where}: sample({n}) returned shape {tuple(seqs.shape)}, expected ({n}, {self.length})"
            )
        if seqs.numel() and (int(seqs.min()) < 0 or int(seqs.max()) >= len(self.vocabulary)):
            raise RuleError(
                f"{where}: sample() returned indices outside 0..{len(self.vocabulary) - 1}"
            )
        return seqs

    def valid(self, seqs: torch.Tensor) -> torch.Tensor:
        """``is_valid`` as a BoolTensor ``(n,)``."""
        out = torch.as_tensor(self.is_valid(seqs))
        if out.shape != (len(seqs),):
            raise RuleError(
                f"rule {self.name!r} (plugin {self.plugin}): is_valid() returned shape {tuple(out.shape)} "
                f"for {len(seqs)} sequences, expected ({len(seqs)},)"
            )
        return out.bool()

    def probe(self) -> None:
        """Try the rule on a few sequences, so a broken plugin is named before any work starts."""
        self.valid(self.sample_checked(4, torch.Generator().manual_seed(0)))

    def score(self, seqs: torch.Tensor) -> float:
        """The rule's distance of generated ``seqs`` ``(n, length)``; 0.0 = perfect."""
        if self.distance is not None:
            return float(self.distance(seqs))
        return 1.0 - self.valid(seqs).float().mean().item()
