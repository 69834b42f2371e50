"""An autoregressive LSTM generator: SeqGAN's own generator (and its oracle's architecture)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from seqgan_core.models.base import AutoregressiveGenerator

LSTMState = tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # input (n, E), h (n, H), c (n, H)


class LSTMGenerator(AutoregressiveGenerator):
    """Autoregressive: a one-layer LSTM reads the token it produced last and scores the next one,
    ``logits_t = out(h_t)``, as in Yu et al. (SeqGAN): embedding E, state H, a linear output layer,
    no other term. The input before token 0 is a learned start vector. Teacher forcing runs
    ``nn.LSTM`` over the whole sequence; the sampling, generating and rollout loops of the base
    step the same weights through the cell written out in ``_advance``.
    """

    name = "lstm"

    @dataclass
    class Options:
        embed: int = 32  # E: token embedding size (SeqGAN: 32)
        hidden: int = 32  # H: LSTM state size (SeqGAN: 32)

    def __init__(self, vocab_size: int, length: int, options: LSTMGenerator.Options | None = None):
        super().__init__()
        o = options or self.Options()
        self.vocab_size, self.length, self.hidden = vocab_size, length, o.hidden
        self.embed = nn.Embedding(vocab_size, o.embed)  # (V, E)
        self.start = nn.Parameter(torch.randn(o.embed) * 0.1)  # (E,): the input before token 0
        self.rnn = nn.LSTM(o.embed, o.hidden, batch_first=True)
        self.out = nn.Linear(o.hidden, vocab_size)
        for p in self.parameters():  # the reference code's start: every parameter from N(0, 0.1)
            nn.init.normal_(p, std=0.1)

    def head_parameters(self) -> list[nn.Parameter]:
        """The output layer, which pretraining may move with a larger learning rate."""
        return list(self.out.parameters())

    def teacher_forced_logits(self, seqs: torch.Tensor) -> torch.Tensor:
        """Real ``seqs`` ``(n, L)`` -> next-token logits ``(n, L, V)``, one pass over the sequence."""
        first = self.start.unsqueeze(0).expand(seqs.shape[0], self.start.shape[0])  # (n, E)
        inp = torch.cat([first.unsqueeze(1), self.embed(seqs[:, :-1])], dim=1)  # (n, L, E)
        states, _ = self.rnn(inp)  # (n, L, H); zero initial state
        return self.out(states)  # position t sees tokens 0 .. t - 1

    def _begin(self, n: int) -> LSTMState:
        """(input embedding (n, E): the start vector, h (n, H), c (n, H)), both states zero."""
        inp = self.start.unsqueeze(0).expand(n, self.start.shape[0])  # (n, E)
        zeros = torch.zeros(n, self.hidden, device=self.start.device)
        return inp, zeros, zeros

    def _advance(self, state: LSTMState, t: int) -> tuple[torch.Tensor, LSTMState]:
        """One position of ``nn.LSTM``'s cell, written out: logits ``(n, V)`` and the state after it."""
        inp, h, c = state
        rnn = self.rnn
        gates = (nn.functional.linear(inp, rnn.weight_ih_l0, rnn.bias_ih_l0)
                 + nn.functional.linear(h, rnn.weight_hh_l0, rnn.bias_hh_l0))  # (n, 4H)
        i, f, g, o = gates.chunk(4, dim=1)  # nn.LSTM's order: input, forget, cell, output; (n, H) each
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return self.out(h), (inp, h, c)

    def _feed(self, state: LSTMState, index: torch.Tensor) -> LSTMState:
        _, h, c = state
        return self.embed(index), h, c

    def _feed_soft(self, state: LSTMState, onehot: torch.Tensor) -> LSTMState:
        _, h, c = state
        return onehot @ self.embed.weight, h, c  # (n, E): the lookup, with gradients to the one-hots
