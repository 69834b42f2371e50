"""RelGAN's discriminator: a CNN over several small embedded representations of the same (soft) one-hots."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from seqgan_core.errors import SeqganError
from seqgan_core.models.base import Discriminator
from seqgan_core.models.highway_cnn import conv_filters


def _trunc_normal(weight: torch.Tensor, std: float) -> None:
    """TensorFlow's ``truncated_normal_initializer``: N(0, std) redrawn beyond two standard deviations."""
    nn.init.trunc_normal_(weight, std=std, a=-2 * std, b=2 * std)


class RelGANDiscriminator(Discriminator):
    """Nie et al. (RelGAN, ICLR 2019), as the reference code builds it
    (weilinie/RelGAN ``models/lstm_vanilla.py`` / ``rmc_vanilla.py`` ``discriminator``):

    one-hots or Gumbel-softmax relaxations ``(B, L, V)`` -> one embedding table ``(B, L, E)``, read as
    ``num_rep`` representations of ``S = E / num_rep`` dimensions ``(B, R, L, S)`` -> for each
    filter size k, ``n_k`` convolutions of width k over time and all S dimensions, shared by every
    representation, ReLU, max over time ``(B, R, n_k)`` -> concatenated ``(B R, F)`` -> one
    highway layer -> dropout -> a linear layer of ``hidden`` units -> a linear layer to one logit:
    one score per sequence and representation ``(B, R)`` (``rep_logits``).

    The RelGAN recipe's loss pairs the representations' scores of real and generated sequences
    one by one. ``forward`` (the contract's one score per sequence, ``(B, 1)``) is their mean,
    for anything else that asks this discriminator for "real" log-odds (``seqgan drs``).
    Because the input is multiplied by the table (``Linear(V, E)``), soft one-hots are embedded
    as the same mixture of rows, and D's gradient reaches the generator's logits through them.
    Filter sizes longer than the sequence are left out. Weights start as the reference code's:
    truncated normals of standard deviation ``1 / sqrt(fan_in)`` (convolutions ``sqrt(2 / (k S))``),
    biases zero.
    """

    name = "relgan_cnn"

    @dataclass
    class Options:
        embed: int = 64  # E: total embedding size (reference code: dis_emb_dim 64)
        num_rep: int = 64  # R: representations E is split into, each of E / R dimensions (reference code: 64)
        # widths of the convolutions over time and how many filters of each (reference code: [2, 3, 4, 5] and
        # 300 each); on the command line comma-separated: --set discriminator.num_filters=100,100,100,100
        filter_sizes: tuple[int, ...] = (2, 3, 4, 5)
        num_filters: tuple[int, ...] = (300, 300, 300, 300)
        hidden: int = 100  # units of the linear layer before the logit (reference code: 100)
        dropout: float = 0.25  # share of highway outputs zeroed in training (reference code: keep probability 0.75)

    def __init__(self, vocab_size: int, length: int, options: RelGANDiscriminator.Options | None = None):
        super().__init__()
        o = options or self.Options()
        kept = conv_filters(o.filter_sizes, o.num_filters, length)
        if o.embed < 1 or o.num_rep < 1 or o.embed % o.num_rep:
            raise SeqganError(f"discriminator.embed ({o.embed}) must be a positive multiple of "
                              f"discriminator.num_rep ({o.num_rep})")
        if o.hidden < 1:
            raise SeqganError(f"discriminator.hidden must be positive, got {o.hidden}")
        if not 0 <= o.dropout < 1:
            raise SeqganError(f"discriminator.dropout must be in [0, 1), got {o.dropout}")
        self.num_rep, self.single = o.num_rep, o.embed // o.num_rep  # R, S
        self.embed = nn.Linear(vocab_size, o.embed, bias=False)  # on (soft) one-hots: the embedding table (E, V)
        self.convs = nn.ModuleList(nn.Conv1d(self.single, n, k) for k, n in kept)
        features = sum(n for _, n in kept)
        self.highway_h = nn.Linear(features, features, bias=False)  # the reference's highway has no biases
        self.highway_t = nn.Linear(features, features, bias=False)  # and a transform-gate bias of 0
        self.drop = nn.Dropout(o.dropout)
        self.fc = nn.Linear(features, o.hidden)
        self.out = nn.Linear(o.hidden, 1)  # no non-linearity between fc and out, as in the reference
        _trunc_normal(self.embed.weight, 1 / math.sqrt(vocab_size))
        for (k, _), conv in zip(kept, self.convs):
            _trunc_normal(conv.weight, math.sqrt(2 / (k * self.single)))
            nn.init.zeros_(conv.bias)
        for layer in (self.highway_h, self.highway_t, self.fc, self.out):
            _trunc_normal(layer.weight, 1 / math.sqrt(layer.in_features))
        for layer in (self.fc, self.out):
            nn.init.zeros_(layer.bias)

    def scores(self, emb: torch.Tensor) -> torch.Tensor:
        """Embedded sequences ``(B, L, E)`` -> one logit per sequence and representation ``(B, R)``."""
        B, L, _ = emb.shape
        # (B, L, R, S) -> (B, R, S, L) -> (B R, S, L): each representation a sequence of S channels
        h = emb.view(B, L, self.num_rep, self.single).permute(0, 2, 3, 1).reshape(B * self.num_rep, self.single, L)
        parts = []
        for conv in self.convs:
            parts.append(torch.relu(conv(h)).amax(dim=2))  # (B R, n_k): max over time
        pooled = torch.cat(parts, dim=1)  # (B R, F)
        t = torch.sigmoid(self.highway_t(pooled))
        highway = t * torch.relu(self.highway_h(pooled)) + (1 - t) * pooled
        return self.out(self.fc(self.drop(highway))).view(B, self.num_rep)  # (B, R)

    def rep_logits(self, seqs: torch.Tensor) -> torch.Tensor:
        """(Soft) one-hots ``(B, L, V)`` -> one logit per sequence and representation ``(B, R)``."""
        return self.scores(self.embed(seqs))

    def forward(self, seqs: torch.Tensor) -> torch.Tensor:
        """(Soft) one-hots ``(B, L, V)`` -> the representations' mean logit ``(B, 1)``."""
        return self.rep_logits(seqs).mean(dim=1, keepdim=True)

    def score_indices(self, seqs: torch.Tensor) -> torch.Tensor:
        """Index sequences ``(B, L)`` -> ``forward`` of their one-hots ``(B, 1)``, by lookup."""
        emb = nn.functional.embedding(seqs, self.embed.weight.t())  # (B, L, E)
        return self.scores(emb).mean(dim=1, keepdim=True)
