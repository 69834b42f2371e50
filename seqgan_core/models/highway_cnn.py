"""SeqGAN's discriminator: a CNN over token embeddings with max-over-time pooling and a highway layer."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from seqgan_core.errors import SeqganError
from seqgan_core.models.base import Discriminator


def conv_filters(filter_sizes, num_filters, length: int) -> list[tuple[int, int]]:
    """The (width, count) pairs of a CNN discriminator's convolutions that fit sequences of
    ``length``, refusing mismatched or non-positive lists and a set none of which fits, in one line."""
    if len(filter_sizes) != len(num_filters) or not filter_sizes:
        raise SeqganError(f"discriminator.filter_sizes and discriminator.num_filters must be lists of the same "
                          f"non-zero length, got {len(filter_sizes)} and {len(num_filters)}")
    if any(int(k) < 1 for k in filter_sizes) or any(int(n) < 1 for n in num_filters):
        raise SeqganError("discriminator.filter_sizes and discriminator.num_filters must be positive integers")
    kept = [(int(k), int(n)) for k, n in zip(filter_sizes, num_filters) if int(k) <= length]
    if not kept:
        raise SeqganError(f"every discriminator.filter_sizes is longer than the sequences ({length}); "
                          "give at least one width up to the length")
    return kept


class HighwayCNNDiscriminator(Discriminator):
    """Yu et al. (SeqGAN, 2017), after Kim (2014) and Zhang & LeCun (2015):

    one-hots ``(B, L, V)`` -> embed ``(B, L, E)`` -> for each filter size k, ``n_k`` convolutions
    of width k over time, ReLU, max over time ``(B, n_k)`` -> concatenated ``(B, F)`` -> one
    highway layer -> dropout -> a 2-way linear layer (fake, real).

    ``forward`` returns the log-odds of "real", ``logit_real - logit_fake`` ``(B, 1)``: the 2-way
    softmax's probability of "real" is its sigmoid, and its cross-entropy is binary cross-entropy
    on it, so the recipes' losses apply unchanged. Filter sizes longer than the sequence are left
    out (a convolution of width k > L has no position to sit at). ``penalty()`` is the reference
    code's L2 term, ``0.5 * |W|^2 + 0.5 * |b|^2`` of the output layer alone.
    """

    name = "highway_cnn"

    @dataclass
    class Options:
        embed: int = 64  # E: token embedding size (SeqGAN's dis_embedding_dim)
        # widths of the convolutions over time, and how many filters of each (SeqGAN's dis_filter_sizes /
        # dis_num_filters); on the command line comma-separated: --set discriminator.filter_sizes=1,2,3
        filter_sizes: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20)
        num_filters: tuple[int, ...] = (100, 200, 200, 200, 200, 100, 100, 100, 100, 100, 160, 160)
        dropout: float = 0.25  # share of pooled features zeroed in training (SeqGAN: keep probability 0.75)
        highway_bias: float = 0.0  # initial bias of the highway's transform gate (the reference code passes 0)

    def __init__(self, vocab_size: int, length: int, options: HighwayCNNDiscriminator.Options | None = None):
        super().__init__()
        o = options or self.Options()
        kept = conv_filters(o.filter_sizes, o.num_filters, length)
        if not 0 <= o.dropout < 1:
            raise SeqganError(f"discriminator.dropout must be in [0, 1), got {o.dropout}")
        self.embed = nn.Linear(vocab_size, o.embed, bias=False)  # on one-hots: the embedding table (E, V)
        nn.init.uniform_(self.embed.weight, -1.0, 1.0)  # as the reference code's embedding
        self.convs = nn.ModuleList(nn.Conv1d(o.embed, n, k) for k, n in kept)
        features = sum(n for _, n in kept)
        self.highway_h = nn.Linear(features, features)
        self.highway_t = nn.Linear(features, features)
        nn.init.constant_(self.highway_t.bias, o.highway_bias)
        self.drop = nn.Dropout(o.dropout)
        self.out = nn.Linear(features, 2)  # logits of (fake, real)
        for layer in [*self.convs, self.out]:  # the reference code's start: truncated N(0, 0.1) weights, biases 0.1
            nn.init.trunc_normal_(layer.weight, std=0.1, a=-0.2, b=0.2)
            nn.init.constant_(layer.bias, 0.1)

    def features(self, emb: torch.Tensor) -> torch.Tensor:
        """Embedded sequences ``(B, L, E)`` -> the highway's output ``(B, F)`` (before dropout)."""
        h = emb.transpose(1, 2)  # (B, E, L)
        parts = []
        for conv in self.convs:  # a loop, not a comprehension: TorchScript iterates a ModuleList only so
            parts.append(torch.relu(conv(h)).amax(dim=2))  # (B, n_k): max over time
        pooled = torch.cat(parts, dim=1)  # (B, F)
        t = torch.sigmoid(self.highway_t(pooled))
        return t * torch.relu(self.highway_h(pooled)) + (1 - t) * pooled

    def two_way(self, emb: torch.Tensor) -> torch.Tensor:
        """Embedded sequences ``(B, L, E)`` -> logits of (fake, real) ``(B, 2)``."""
        return self.out(self.drop(self.features(emb)))

    def forward(self, seqs: torch.Tensor) -> torch.Tensor:
        """One-hots ``(B, L, V)`` -> log-odds of "real" ``(B, 1)``."""
        logits = self.two_way(self.embed(seqs))  # (B, 2)
        return (logits[:, 1] - logits[:, 0]).unsqueeze(1)

    def score_indices(self, seqs: torch.Tensor) -> torch.Tensor:
        """Index sequences ``(B, L)`` -> log-odds of "real" ``(B, 1)``: ``forward`` on their one-hots,
        by looking the embeddings up instead of multiplying (B, L, V) one-hots."""
        logits = self.two_way(nn.functional.embedding(seqs, self.embed.weight.t()))  # (B, 2)
        return (logits[:, 1] - logits[:, 0]).unsqueeze(1)

    def penalty(self) -> torch.Tensor:
        """The reference code's L2 term on the output layer: ``0.5 * (|W|^2 + |b|^2)``."""
        return 0.5 * (self.out.weight.square().sum() + self.out.bias.square().sum())
