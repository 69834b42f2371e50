"""An autoregressive LSTM generator: SeqGAN's own generator (and its oracle's architecture)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from seqgan_core.models.sampling import categorical, straight_through


class LSTMGenerator(nn.Module):
    """Autoregressive: a one-layer LSTM reads the token it produced last and scores the next one,
    ``logits_t = out(h_t)``, as in Yu et al. (SeqGAN): embedding E, state H, a linear output layer,
    no other term. The input before token 0 is a learned start vector. Teacher forcing runs
    ``nn.LSTM`` over the whole sequence; the sampling loops step the same weights through the cell
    written out in ``_step``, whose state is ``h`` and ``c`` side by side, ``(n, 2H)``, so that code
    holding one state tensor per row (rollouts: models/rollout.py) can copy and repeat it.
    """

    autoregressive = True

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

    def _seen(self, n: int) -> torch.Tensor:
        """No record of used tokens (the rollout protocol's third state): ``(n, 0)``."""
        return torch.zeros(n, 0, device=self.start.device)

    def _mark(self, seen: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        return seen

    def _first(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        inp = self.start.unsqueeze(0).expand(n, self.start.shape[0])  # (n, E)
        return inp, torch.zeros(n, 2 * self.hidden, device=self.start.device)  # (n, 2H): h, c

    def _step(self, inp: torch.Tensor, state: torch.Tensor, seen: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One position: input embedding ``(n, E)`` and state ``(n, 2H)`` -> logits ``(n, V)``, state."""
        rnn = self.rnn
        h, c = state[:, :self.hidden], state[:, self.hidden:]  # (n, H) each
        gates = (nn.functional.linear(inp, rnn.weight_ih_l0, rnn.bias_ih_l0)
                 + nn.functional.linear(h, rnn.weight_hh_l0, rnn.bias_hh_l0))  # (n, 4H)
        i, f, g, o = gates.chunk(4, dim=1)  # nn.LSTM's order: input, forget, cell, output
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return self.out(h), torch.cat([h, c], dim=1)

    def teacher_forced_logits(self, seqs: torch.Tensor) -> torch.Tensor:
        """Real ``seqs`` ``(n, L)`` -> next-token logits ``(n, L, V)``, one pass over the sequence."""
        first, _ = self._first(seqs.shape[0])
        inp = torch.cat([first.unsqueeze(1), self.embed(seqs[:, :-1])], dim=1)  # (n, L, E)
        states, _ = self.rnn(inp)  # (n, L, H); zero initial state
        return self.out(states)  # position t sees tokens 0 .. t - 1

    def incremental_logits(self, seqs: torch.Tensor) -> torch.Tensor:
        """The same logits ``(n, L, V)`` as ``teacher_forced_logits``, one step at a time as the
        sampling loops compute them (for tests)."""
        inp, state = self._first(seqs.shape[0])
        seen = self._seen(seqs.shape[0])
        out = []
        for t in range(seqs.shape[1]):
            logits, state = self._step(inp, state, seen)
            out.append(logits)
            inp = self.embed(seqs[:, t])
        return torch.stack(out, dim=1)

    def token_log_probs(self, seqs: torch.Tensor) -> torch.Tensor:
        """log p(token_t | tokens before) for every token of ``seqs`` ``(n, L)`` -> ``(n, L)``."""
        logp = self.teacher_forced_logits(seqs).log_softmax(dim=-1)  # (n, L, V)
        return logp.gather(-1, seqs.unsqueeze(-1)).squeeze(-1)

    def nll(self, seqs: torch.Tensor) -> torch.Tensor:
        """Mean negative log-likelihood per token of real ``seqs`` ``(n, L)`` (teacher forcing)."""
        logits = self.teacher_forced_logits(seqs)
        return nn.functional.cross_entropy(logits.reshape(-1, self.vocab_size), seqs.reshape(-1))

    def generate(self, n: int, tau: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Straight-through one-hot sequences ``(n, L, V)`` for training, and their indices ``(n, L)``."""
        inp, state = self._first(n)
        seen = self._seen(n)
        onehots, indices = [], []
        for _ in range(self.length):
            logits, state = self._step(inp, state, seen)
            y, index = straight_through(logits, tau)  # (n, V), (n,)
            onehots.append(y)
            indices.append(index)
            inp = y @ self.embed.weight  # (n, E): the lookup, with gradients to y
        return torch.stack(onehots, dim=1), torch.stack(indices, dim=1)

    @torch.jit.export
    def sample(self, n: int, temperature: float = 1.0, min_p: float = 0.0) -> torch.Tensor:
        inp, state = self._first(n)
        seen = self._seen(n)
        tokens = []
        for _ in range(self.length):
            logits, state = self._step(inp, state, seen)
            index = categorical(logits, temperature, min_p)  # (n,)
            tokens.append(index)
            inp = self.embed(index)
        return torch.stack(tokens, dim=1)  # (n, L)
