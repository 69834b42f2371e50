"""Tokens <-> indices <-> one-hot vectors.

A vocabulary is an ordered list of distinct hashable tokens; token ``vocab[i]`` has index ``i`` and
one-hot vector ``e_i`` of width ``len(vocab)``. The tutorial's encoding is ``Vocabulary(range(100))``:

>>> v = Vocabulary(range(100))
>>> v.one_hot(v.encode([35])).shape        # one number -> one 100-wide row
torch.Size([1, 100])
>>> v.decode(v.from_one_hot(v.one_hot(torch.tensor([35, 5]))))
[35, 5]
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence

import torch

from seqgan_core.errors import VocabularyError


class Vocabulary:
    def __init__(self, tokens: Iterable[Hashable]):
        self.tokens: list = list(tokens)
        if not self.tokens:
            raise VocabularyError("vocabulary is empty: give at least one token")
        self._index: dict = {}
        for i, token in enumerate(self.tokens):
            try:
                first = self._index.setdefault(token, i)
            except TypeError:
                raise VocabularyError(f"token {token!r} at index {i} is not hashable") from None
            if first != i:
                raise VocabularyError(
                    f"duplicate token {token!r} at indices {first} and {i}: tokens must be distinct"
                )

    def __len__(self) -> int:
        return len(self.tokens)

    def __iter__(self):
        return iter(self.tokens)

    def __eq__(self, other) -> bool:
        return isinstance(other, Vocabulary) and self.tokens == other.tokens

    def __repr__(self) -> str:
        head = ", ".join(map(repr, self.tokens[:5]))
        more = ", ..." if len(self) > 5 else ""
        return f"Vocabulary([{head}{more}], size={len(self)})"

    def index(self, token: Hashable) -> int:
        try:
            return self._index[token]
        except (KeyError, TypeError):
            raise VocabularyError(f"unknown token {token!r}: not in the vocabulary") from None

    def encode(self, tokens: Sequence) -> torch.Tensor:
        """Tokens -> LongTensor of indices, shape ``(len(tokens),)``."""
        return torch.tensor([self.index(t) for t in tokens], dtype=torch.long)

    def decode(self, indices) -> list:
        """Indices (any shape, tensor or nested lists) -> tokens with the same nesting."""
        indices = torch.as_tensor(indices)
        self.check_indices(indices)
        return _map_nested(indices.tolist(), self.tokens.__getitem__)

    def check_indices(self, indices: torch.Tensor) -> None:
        if indices.dtype.is_floating_point or indices.dtype == torch.bool:
            raise VocabularyError(f"indices must be integers, got dtype {indices.dtype}")
        if indices.numel() == 0:
            return
        low, high = int(indices.min()), int(indices.max())
        if low < 0 or high >= len(self):
            bad = low if low < 0 else high
            raise VocabularyError(
                f"index {bad} is out of range for a vocabulary of size {len(self)} "
                f"(valid: 0..{len(self) - 1})"
            )

    def one_hot(self, indices: torch.Tensor) -> torch.Tensor:
        """Indices ``(...)`` -> float one-hot ``(..., len(vocab))``."""
        indices = torch.as_tensor(indices)
        self.check_indices(indices)
        return torch.nn.functional.one_hot(indices.long(), len(self)).float()

    def from_one_hot(self, vectors: torch.Tensor) -> torch.Tensor:
        """One-hot (or any scores) ``(..., len(vocab))`` -> indices ``(...)`` by argmax."""
        vectors = torch.as_tensor(vectors)
        if vectors.dim() == 0 or vectors.shape[-1] != len(self):
            raise VocabularyError(
                f"one-hot last dimension is {tuple(vectors.shape)[-1:] or 'missing'}, "
                f"expected the vocabulary size {len(self)}"
            )
        return vectors.argmax(dim=-1)


def _map_nested(value, fn):
    if isinstance(value, list):
        return [_map_nested(v, fn) for v in value]
    return fn(value)
