"""The ``lstm`` generator family: an LSTM over the tokens produced so far."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from seqgan_core.models import AutoregressiveGenerator


class LSTMGenerator(AutoregressiveGenerator):
    """Embedding -> one-layer LSTM -> Linear(H, V). Position t reads the token at t - 1 (a learned
    start vector at t = 0). ``nn.LSTM`` runs teacher forcing over the whole sequence and one
    position at a time in the sampling loops inherited from ``AutoregressiveGenerator``."""

    name = "extras-lstm"

    @dataclass
    class Options:
        embed: int = 32  # E: token embedding size
        hidden: int = 64  # H: LSTM state size

    def __init__(self, vocab_size: int, length: int, options: LSTMGenerator.Options | None = None):
        super().__init__()
        o = options or self.Options()
        self.vocab_size, self.length, self.hidden = vocab_size, length, o.hidden
        self.embed = nn.Embedding(vocab_size, o.embed)  # (V, E)
        self.start = nn.Parameter(torch.randn(o.embed) * 0.1)  # (E,)
        self.rnn = nn.LSTM(o.embed, o.hidden, batch_first=True)
        self.out = nn.Linear(o.hidden, vocab_size)

    def head_parameters(self) -> list[nn.Parameter]:
        return list(self.out.parameters())

    def teacher_forced_logits(self, seqs: torch.Tensor) -> torch.Tensor:
        n = seqs.shape[0]
        first = self.start.view(1, 1, -1).expand(n, 1, self.start.shape[0])  # (n, 1, E)
        inp = torch.cat([first, self.embed(seqs[:, :-1])], dim=1)  # (n, L, E)
        states, _ = self.rnn(inp)  # (n, L, H)
        return self.out(states)  # (n, L, V)

    def _begin(self, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(input (n, E), h (1, n, H), c (1, n, H))."""
        zeros = torch.zeros(1, n, self.hidden, device=self.start.device)
        return self.start.unsqueeze(0).expand(n, self.start.shape[0]), zeros, zeros

    def _advance(self, state: tuple[torch.Tensor, torch.Tensor, torch.Tensor], t: int
                 ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        inp, h, c = state
        out, (h, c) = self.rnn(inp.unsqueeze(1), (h, c))  # (n, 1, H)
        return self.out(out[:, 0]), (inp, h, c)  # (n, V)

    def _feed(self, state: tuple[torch.Tensor, torch.Tensor, torch.Tensor], index: torch.Tensor
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        _, h, c = state
        return self.embed(index), h, c

    def _feed_soft(self, state: tuple[torch.Tensor, torch.Tensor, torch.Tensor], onehot: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        _, h, c = state
        return onehot @ self.embed.weight, h, c  # (n, E), with gradients to the one-hots


def register_generators(register):
    register(LSTMGenerator)
