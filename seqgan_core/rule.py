"""A rule: the target a GAN learns — vocabulary, length, real-data sampler, validity and distance.

Plugins build ``Rule`` objects and hand them to the ``register`` callback of ``register_rules``.
The contract (tensors are vocabulary *indices*, never tokens):

- ``sample(n, generator)`` -> LongTensor ``(n, length)``, drawn only from ``generator``;
- ``is_valid(seqs)`` -> BoolTensor ``(n,)`` for ``seqs`` of shape ``(n, length)``;
- ``distance(seqs)`` -> float, 0.0 = perfect (optional; default: share of invalid sequences
  plus the per-position token TV to the rule's own samples);
- ``eos``: optional token that ends a sequence early (variable length). ``sample`` pads with it,
  ``is_valid`` sees sequences where everything after the first ``eos`` is ``eos``, and sampling
  strips it;
- ``heldout(n, generator)``: optional held-out real sequences (a data file's held-out part, an
  oracle's fresh draws) for held-out NLL and novelty; default: ``sample`` on another seed;
- ``metrics(seqs)``: optional dict of extra figures (floats) that ``evaluate`` reports (like
  ``is_valid``, it sees canonical sequences);
- ``recommend``: optional training settings the rule suggests (e.g. ``{"max_steps": 5000}``);
  seqgan's own choice works without them.
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
    distance: DistanceFn | None = None  # (n, length) -> float; None = invalid share + per-position TV
    eos: Hashable | None = None  # a token of vocab that ends a sequence; after it only eos
    heldout: SampleFn | None = None  # (n, generator) -> held-out real sequences; None = sample
    metrics: Callable[[torch.Tensor], dict] | None = None  # (n, length) -> {name: float} for evaluate
    recommend: dict | None = None  # training settings the rule suggests; never required
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
            self.eos_index = None if self.eos is None else self.vocabulary.index(self.eos)
        except ValueError as e:
            raise RuleError(f"rule {self.name!r}: {e}") from None
        for attr in ("heldout", "metrics"):
            if getattr(self, attr) is not None and not callable(getattr(self, attr)):
                raise RuleError(f"rule {self.name!r}: {attr} must be callable or None")
        if self.recommend is not None and not isinstance(self.recommend, dict):
            raise RuleError(f"rule {self.name!r}: recommend must be a dict or None")

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

    def canonical(self, seqs: torch.Tensor) -> torch.Tensor:
        """Sequences as the rule sees them: after the first end token, only end tokens."""
        if self.eos_index is None:
            return seqs
        after = (seqs == self.eos_index).long().cummax(dim=-1).values.bool()  # (n, L)
        return torch.where(after, torch.full_like(seqs, self.eos_index), seqs)

    def strip(self, tokens: list) -> list:
        """One decoded sequence without its end token and what follows it."""
        return tokens[: tokens.index(self.eos)] if self.eos is not None and self.eos in tokens else tokens

    def valid(self, seqs: torch.Tensor) -> torch.Tensor:
        """``is_valid`` of the canonical ``seqs``, as a BoolTensor ``(n,)``."""
        seqs = self.canonical(seqs)
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
        """The rule's distance of generated ``seqs`` ``(n, length)``; 0.0 = perfect. Without a
        distance of its own: seqgan's quality distance (invalid share + per-position TV)."""
        if self.distance is not None:
            return float(self.distance(self.canonical(seqs)))
        from .metrics import quality_distance, reference

        return quality_distance(seqs, reference(self))
