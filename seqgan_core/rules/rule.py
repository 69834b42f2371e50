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
- ``oracle``: optional ``OracleLikelihood`` (``rules/likelihood.py``): the rule's real data comes
  from a known model that scores any sequence (NLL_oracle), so ``evaluate --sweep`` draws the
  NLL_oracle / NLL_test curve;
- ``recommend``: optional training settings the rule suggests (e.g. ``{"max_steps": 5000}``);
  seqgan's own choice works without them.

seqgan calls a rule only through the checked methods below (``sample_checked``, ``heldout_checked``,
``valid``, ``score``, ``extra_metrics``): whatever a plugin raises (``SystemExit`` included) or
returns against the contract (a list, a CUDA or meta tensor, a float dtype, a wrong shape, a
distance that is a string or a vector) becomes one ``RuleError`` naming the rule and its plugin.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

import torch

from seqgan_core.errors import RuleError
from seqgan_core.rules.likelihood import OracleLikelihood
from seqgan_core.rules.vocabulary import Vocabulary

SampleFn = Callable[[int, torch.Generator], torch.Tensor]
ValidFn = Callable[[torch.Tensor], torch.Tensor]
DistanceFn = Callable[[torch.Tensor], float]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# tokens per sequence x vocabulary size: a generator's one-hot output of one sequence. Above this a
# batch needs gigabytes; a rule that asks for more is refused when it registers, not mid-training
MAX_CELLS = 1 << 21


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
    oracle: OracleLikelihood | None = None  # the exact likelihood real data comes from, if known
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
        cells = self.length * len(self.vocabulary)
        if cells > MAX_CELLS:
            raise RuleError(
                f"rule {self.name!r}: length {self.length} x vocabulary {len(self.vocabulary)} = {cells:,} cells per "
                f"sequence, more than seqgan can train (at most {MAX_CELLS:,}); shorten the sequences or the vocabulary"
            )
        for attr in ("heldout", "metrics"):
            if getattr(self, attr) is not None and not callable(getattr(self, attr)):
                raise RuleError(f"rule {self.name!r}: {attr} must be callable or None")
        if self.oracle is not None and not isinstance(self.oracle, OracleLikelihood):
            raise RuleError(f"rule {self.name!r}: oracle must be an OracleLikelihood or None, "
                            f"got {type(self.oracle).__name__}")
        if self.recommend is not None and not isinstance(self.recommend, dict):
            raise RuleError(f"rule {self.name!r}: recommend must be a dict or None")

    def __repr__(self) -> str:
        return f"Rule({self.name!r}, vocab size {len(self.vocabulary)}, length {self.length})"

    @property
    def where(self) -> str:
        return f"rule {self.name!r} (plugin {self.plugin})"

    def _call(self, method: str, *args):
        """Call the plugin's ``method``; anything it raises is the plugin's, and says so."""
        try:
            return getattr(self, method)(*args)
        except RuleError:
            raise
        except (Exception, SystemExit) as e:  # noqa: BLE001 - SystemExit too: a plugin must not end seqgan
            raise RuleError(f"{self.where}: {method}() raised {type(e).__name__}: {e}") from None

    def _tensor(self, out, method: str) -> torch.Tensor:
        if not isinstance(out, torch.Tensor):
            raise RuleError(f"{self.where}: {method}() returned {type(out).__name__}, expected a tensor")
        if out.device.type != "cpu":
            raise RuleError(f"{self.where}: {method}() returned a tensor on {out.device}; return CPU tensors")
        return out

    def sample_checked(self, n: int, generator: torch.Generator, method: str = "sample") -> torch.Tensor:
        """``sample`` with the contract enforced, so a broken plugin is named, not a shape error."""
        seqs = self._tensor(self._call(method, n, generator), method)
        where = self.where
        if seqs.dtype != torch.long:
            raise RuleError(f"{where}: {method}() returned dtype {seqs.dtype}, expected torch.long")
        if tuple(seqs.shape) != (n, self.length):
            raise RuleError(
                f"{where}: {method}({n}) returned shape {tuple(seqs.shape)}, expected ({n}, {self.length})"
            )
        if seqs.numel() and (int(seqs.min()) < 0 or int(seqs.max()) >= len(self.vocabulary)):
            raise RuleError(
                f"{where}: {method}() returned indices outside 0..{len(self.vocabulary) - 1}"
            )
        return seqs

    def heldout_checked(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """Held-out real sequences (``heldout``, else ``sample``), checked like ``sample``."""
        return self.sample_checked(n, generator, "heldout" if self.heldout is not None else "sample")

    def extra_metrics(self, seqs: torch.Tensor) -> dict:
        """The rule's ``metrics`` of canonical ``seqs``, checked: names to plain floats."""
        if self.metrics is None:
            return {}
        out = self._call("metrics", self.canonical(seqs))
        if not isinstance(out, dict):
            raise RuleError(f"{self.where}: metrics() returned {type(out).__name__}, expected a dict of floats")
        return {str(k): self._number(v, "metrics") for k, v in out.items()}

    def _number(self, value, method: str) -> float:
        if isinstance(value, torch.Tensor) and value.numel() == 1 and value.device.type == "cpu":
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, float)) and type(value).__module__ != "numpy":
            raise RuleError(f"{self.where}: {method}() returned {type(value).__name__} {_short(value)}, "
                            "expected a number")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise RuleError(f"{self.where}: {method}() returned {_short(value)}, expected a number") from None

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
        out = self._tensor(self._call("is_valid", seqs), "is_valid")
        if out.shape != (len(seqs),):
            raise RuleError(
                f"{self.where}: is_valid() returned shape {tuple(out.shape)} "
                f"for {len(seqs)} sequences, expected ({len(seqs)},)"
            )
        if out.dtype.is_complex or out.dtype.is_floating_point:
            raise RuleError(f"{self.where}: is_valid() returned dtype {out.dtype}, expected torch.bool")
        return out.bool()

    def probe(self) -> None:
        """Try the rule on a few sequences, so a broken plugin is named before any work starts."""
        self.valid(self.sample_checked(4, torch.Generator().manual_seed(0)))

    def score(self, seqs: torch.Tensor) -> float:
        """The rule's distance of generated ``seqs`` ``(n, length)``; 0.0 = perfect. Without a
        distance of its own: seqgan's quality distance (invalid share + per-position TV)."""
        if self.distance is not None:
            return self._number(self._call("distance", self.canonical(seqs)), "distance")
        from seqgan_core.evaluation.metrics import quality_distance, reference

        return quality_distance(seqs, reference(self))


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
