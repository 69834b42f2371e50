"""An autoregressive GRU generator."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from seqgan_core.models.base import AutoregressiveGenerator


class GRUGenerator(AutoregressiveGenerator):
    """Autoregressive: a GRU reads the token it produced last and scores the next one.

    ``logits_t = out(h_t) + follow(e_{t-1})``: besides the GRU's state, the previous token's
    embedding ``e_{t-1}`` (the start vector at t = 0) scores the next token directly through a
    ``Linear(E, V)`` — a low-rank "what may follow what" table that pushes invalid
    continuations down fast. With ``seen``, ``logits_t += gate(h_t) * seen_t``, where ``seen_t``
    ``(V,)`` marks the tokens already in the sequence and ``gate`` is a ``Linear(H, 1)``: one
    number per step that raises or lowers every token used so far (a copy / no-repeat term, as
    in cache and pointer language models). A low-rank table cannot say "not any token used
    before" for V tokens; this term says it with one weight. Teacher forcing runs ``nn.GRU``
    over the whole sequence; the sampling loops step the same weights through the GRU cell
    written out in ``_step``. In ``generate`` every token is a straight-through Gumbel-softmax
    one-hot fed back as ``onehot @ embedding``, so D's gradients flow through the discrete
    choices.
    """

    name = "gru"
    # What a run on finite data (a data file; the oracle's 9 984 sequences) changes, unless given:
    # dropout 0.6 and embedding 64, with the smaller, longer maximum-likelihood steps of
    # engine/presets.py (FINITE_DATA). On the SeqGAN paper's oracle these put NLL_oracle / NLL_test
    # below Caccia et al.'s best published MLE curve at every temperature, where dropout 0.3 and
    # embedding 32 (the earlier default, chosen on COCO: held-out NLL 3.425 -> 3.346 from none) were
    # about 1 nat above it. ``variational`` (one mask per sequence) is off: not measured yet.
    # Rules that draw fresh sequences every step cannot overfit: 0.
    finite_data = {"dropout": 0.6, "embed": 64}

    @dataclass
    class Options:
        embed: int = 32  # E: token embedding size
        hidden: int = 128  # H: GRU state size
        follow: bool = True  # add the low-rank previous-token term Linear(E, V)
        dropout: float = 0.0  # in training, zero this share of the input embeddings and GRU states
        variational: bool = False  # with dropout: one mask per sequence, the same at every position
        seen: bool = False  # add gate(h_t) x [token already in the sequence] to the logits

    def __init__(self, vocab_size: int, length: int, options: GRUGenerator.Options | None = None):
        super().__init__()
        o = options or self.Options()
        self.vocab_size, self.length, self.hidden = vocab_size, length, o.hidden
        self.dropout, self.variational = float(o.dropout), bool(o.variational)
        self.embed = nn.Embedding(vocab_size, o.embed)  # (V, E)
        nn.init.normal_(self.embed.weight, std=0.1)
        self.start = nn.Parameter(torch.randn(o.embed) * 0.1)  # (E,): the input before token 0
        self.rnn = nn.GRU(o.embed, o.hidden, batch_first=True)
        self.out = nn.Linear(o.hidden, vocab_size)
        self.follow = nn.Linear(o.embed, vocab_size, bias=False) if o.follow else None
        if self.follow is not None:
            nn.init.zeros_(self.follow.weight)
        self.seen_gate = nn.Linear(o.hidden, 1) if o.seen else None
        if self.seen_gate is not None:  # starts as no term at all
            nn.init.zeros_(self.seen_gate.weight)
            nn.init.zeros_(self.seen_gate.bias)

    def head_parameters(self) -> list[nn.Parameter]:
        """The output layers, which pretraining may move with a larger learning rate."""
        head = list(self.out.parameters())
        if self.follow is not None:
            head += list(self.follow.parameters())
        if self.seen_gate is not None:
            head += list(self.seen_gate.parameters())
        return head

    def _drop(self, x: torch.Tensor) -> torch.Tensor:
        """Dropout while training (Zaremba et al. 2014: on the inputs and outputs of the recurrence,
        not across time); the identity when evaluating, sampling, or with ``dropout`` 0. With
        ``variational`` (Gal & Ghahramani 2016), a whole sequence ``x`` ``(n, L, D)`` shares one
        mask ``(n, 1, D)`` over its positions; one step ``(n, D)`` of the loops gets its own."""
        if self.dropout > 0.0 and self.training:
            if self.variational and x.dim() == 3:
                keep = x.new_empty(x.shape[0], 1, x.shape[2]).bernoulli_(1.0 - self.dropout)  # (n, 1, D)
                return x * keep / (1.0 - self.dropout)
            return nn.functional.dropout(x, self.dropout, True)
        return x

    def _logits(self, state: torch.Tensor, inp: torch.Tensor, seen: torch.Tensor | None,
                seqs: torch.Tensor | None = None) -> torch.Tensor:
        """Logits ``(..., V)`` from states and inputs, dropped out once for every term. The seen
        term comes from ``seen`` ``(..., V)`` (the tokens used so far, in the sampling loops) or,
        in teacher forcing, from the sequences ``seqs`` ``(n, L)`` themselves (``_add_seen``)."""
        state, inp = self._drop(state), self._drop(inp)
        logits = self.out(state)  # (..., V)
        if self.follow is not None:
            logits = logits.add_(self.follow(inp))  # in place: one (..., V) tensor fewer
        if self.seen_gate is not None:
            if seqs is not None:
                logits = self._add_seen(logits, self.seen_gate(state), seqs)
            elif seen is not None:
                logits = logits + self.seen_gate(state) * seen  # (..., 1) * (..., V)
        return logits

    def _add_seen(self, logits: torch.Tensor, gate: torch.Tensor, seqs: torch.Tensor) -> torch.Tensor:
        """Teacher forcing's seen term: ``gate`` ``(n, L, 1)`` at position t added to every token
        among ``seqs[:, :t]``, once per distinct token. A scatter over the (n, L, L) prefix pairs,
        not a dense (n, L, V) mask: the same logits, at a cost that does not grow with V."""
        n, length = seqs.shape
        pos = torch.arange(length, device=seqs.device)
        before = pos.view(1, 1, -1) < pos.view(1, -1, 1)  # (1, L, L): [t, s] is s < t
        same = seqs.unsqueeze(2) == seqs.unsqueeze(1)  # (n, L, L): token t equals token s
        first = ~(same & before).any(dim=2)  # (n, L): no earlier position holds this token
        weight = (before & first.unsqueeze(1)).to(gate.dtype)  # (n, L, L): add at (t, token s)?
        index = seqs.unsqueeze(1).expand(n, length, length)  # (n, L, L): token s, for every t
        return logits.scatter_add(2, index, gate * weight)

    def _seen(self, n: int) -> torch.Tensor:
        """No token used yet: ``(n, V)`` zeros (``(n, 0)`` without the seen term: nothing kept)."""
        width = self.vocab_size if self.seen_gate is not None else 0
        return torch.zeros(n, width, device=self.start.device)

    def _step(self, inp: torch.Tensor, h: torch.Tensor, seen: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One position: input embedding ``(n, E)``, state ``(n, H)`` and tokens used so far
        ``(n, V)`` -> logits ``(n, V)``, state."""
        rnn = self.rnn
        # nn.GRU's own cell, written out: torch.gru_cell would make torch.export refuse n == 1
        i_r, i_z, i_n = nn.functional.linear(self._drop(inp), rnn.weight_ih_l0, rnn.bias_ih_l0).chunk(3, dim=1)  # (n, H) each
        h_r, h_z, h_n = nn.functional.linear(h, rnn.weight_hh_l0, rnn.bias_hh_l0).chunk(3, dim=1)
        r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
        h = torch.lerp(torch.tanh(i_n + r * h_n), h, z)  # (1 - z) * candidate + z * h
        return self._logits(h, inp, seen), h

    def _mark(self, seen: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """``seen`` ``(n, V)`` with token ``index`` ``(n,)`` of each row marked as used."""
        if self.seen_gate is None:
            return seen
        return seen.scatter(1, index.unsqueeze(1), 1.0)

    def teacher_forced_logits(self, seqs: torch.Tensor) -> torch.Tensor:
        """Real ``seqs`` ``(n, L)`` -> next-token logits ``(n, L, V)``, one pass over the sequence."""
        first, h, _ = self._begin(seqs.shape[0])
        inp = torch.cat([first.unsqueeze(1), self.embed(seqs[:, :-1])], dim=1)  # (n, L, E)
        states, _ = self.rnn(self._drop(inp), h.unsqueeze(0))  # (n, L, H)
        return self._logits(states, inp, None, seqs)  # (n, L, V); position t sees tokens 0 .. t - 1

    def _begin(self, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(input embedding (n, E): the start vector, state (n, H), tokens used so far (n, V))."""
        inp = self.start.unsqueeze(0).expand(n, self.start.shape[0])  # (n, E)
        return inp, torch.zeros(n, self.hidden, device=self.start.device), self._seen(n)

    def _advance(self, state: tuple[torch.Tensor, torch.Tensor, torch.Tensor], t: int
                 ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        inp, h, seen = state
        logits, h = self._step(inp, h, seen)
        return logits, (inp, h, seen)

    def _feed(self, state: tuple[torch.Tensor, torch.Tensor, torch.Tensor], index: torch.Tensor
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        _, h, seen = state
        return self.embed(index), h, self._mark(seen, index)

    def _feed_soft(self, state: tuple[torch.Tensor, torch.Tensor, torch.Tensor], onehot: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        _, h, seen = state
        if self.seen_gate is not None:
            seen = seen + onehot - seen * onehot  # "or" of 0/1 values, with gradients to the one-hots
        return onehot @ self.embed.weight, h, seen  # (n, E): the lookup, with gradients to the one-hots
