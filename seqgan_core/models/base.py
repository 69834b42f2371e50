"""The model contracts: what every generator, every autoregressive generator and every
discriminator provides. A family is a subclass; the registry (``seqgan_core.plugins.registry``)
refuses one that leaves an abstract method open.

Every family is built as ``Family(vocab_size, length, Family.Options(...))`` and has a registry
``name``. ``sample`` draws its own noise from torch's global RNG, so ``torch.manual_seed(s)``
followed by ``sample(n)`` is reproducible, in seqgan and in the exported file alike.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, is_dataclass
from typing import Any

import torch
from torch import nn

from seqgan_core.models.sampling import categorical, gumbel_softmax, straight_through


class Family:
    """What every registered model family declares: a registry name and an ``Options`` dataclass."""

    name = ""  # the registry name (--generator / --discriminator); "" for one no registry lists

    @dataclass
    class Options:
        pass  # a family with options replaces this with its own dataclass

    @classmethod
    def default_options(cls) -> Any:
        """The family's options with every default."""
        return cls.Options()

    @classmethod
    def contract_problems(cls) -> list[str]:
        """What keeps this class from being a usable family (empty: nothing)."""
        return [] if is_dataclass(cls.Options) else ["its Options is not a dataclass"]


class Generator(Family, nn.Module, ABC):
    """A generator family: ``generate`` for adversarial training, ``sample`` for drawing."""

    # options a run on finite data (a data file, the oracle's fixed set) changes unless given
    finite_data = {}

    @classmethod
    def from_options(cls, vocab_size: int, length: int, options: Any = None) -> Generator:
        """An untrained generator over ``vocab_size`` tokens and ``length`` positions."""
        return cls(vocab_size, length, options if options is not None else cls.default_options())

    @abstractmethod
    def generate(self, n: int, tau: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Straight-through one-hots ``(n, L, V)`` (gradients flow to the weights) and their indices ``(n, L)``."""

    @abstractmethod
    def sample(self, n: int, temperature: float = 1.0, min_p: float = 0.0) -> torch.Tensor:
        """``n`` sequences of indices ``(n, L)``, drawn at ``temperature`` without tokens under ``min_p``."""

    def head_parameters(self) -> list[nn.Parameter]:
        """The output layers, which maximum likelihood may move with a larger learning rate (none
        singled out by default)."""
        return []


class AutoregressiveGenerator(Generator):
    """A generator that scores each token given the tokens before it: likelihoods, teacher forcing,
    and sequences completed from a prefix.

    A family writes the model once, as four small pieces, and inherits every loop:

    - ``teacher_forced_logits(seqs)``: ``(n, L)`` -> next-token logits ``(n, L, V)``, one pass;
    - ``_begin(n)``: the state before token 0 (a tuple of tensors or lists of tensors);
    - ``_advance(state, t)``: logits ``(n, V)`` of position ``t`` and the state after it;
    - ``_feed(state, index)`` / ``_feed_soft(state, onehot)``: the state with the token drawn
      at this position (indices ``(n,)``, or straight-through one-hots ``(n, V)`` whose gradients
      must reach the weights) as the next position's input.

    ``sample`` is compiled by TorchScript in the exported file: the state's type is whatever the
    family's ``_begin`` returns, the same at every step.
    """

    @abstractmethod
    def teacher_forced_logits(self, seqs: torch.Tensor) -> torch.Tensor:
        """Real ``seqs`` ``(n, L)`` -> next-token logits ``(n, L, V)``; position t sees tokens 0 .. t - 1."""

    @abstractmethod
    def _begin(self, n: int) -> Any:
        """The state of ``n`` sequences before their first token."""

    @abstractmethod
    def _advance(self, state: Any, t: int) -> tuple[torch.Tensor, Any]:
        """Logits ``(n, V)`` of position ``t`` and the state that produced them."""

    @abstractmethod
    def _feed(self, state: Any, index: torch.Tensor) -> Any:
        """The state with tokens ``index`` ``(n,)`` as the input of the next position."""

    @abstractmethod
    def _feed_soft(self, state: Any, onehot: torch.Tensor) -> Any:
        """The state with one-hots ``(n, V)`` as the next input, differentiably."""

    def token_log_probs(self, seqs: torch.Tensor) -> torch.Tensor:
        """log p(token_t | tokens before) for every token of ``seqs`` ``(n, L)`` -> ``(n, L)``."""
        logp = self.teacher_forced_logits(seqs).log_softmax(dim=-1)  # (n, L, V)
        return logp.gather(-1, seqs.unsqueeze(-1)).squeeze(-1)

    def nll(self, seqs: torch.Tensor) -> torch.Tensor:
        """Mean negative log-likelihood per token of real ``seqs`` ``(n, L)`` (teacher forcing)."""
        logits = self.teacher_forced_logits(seqs)  # (n, L, V)
        return nn.functional.cross_entropy(logits.reshape(-1, self.vocab_size), seqs.reshape(-1))

    def incremental_logits(self, seqs: torch.Tensor) -> torch.Tensor:
        """The same logits ``(n, L, V)`` as ``teacher_forced_logits``, one step at a time as the
        sampling loops compute them (for tests)."""
        state = self._begin(seqs.shape[0])
        out = []
        for t in range(seqs.shape[1]):
            logits, state = self._advance(state, t)
            out.append(logits)
            state = self._feed(state, seqs[:, t])
        return torch.stack(out, dim=1)

    def generate(self, n: int, tau: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Straight-through one-hot sequences ``(n, L, V)`` for training, and their indices ``(n, L)``."""
        state = self._begin(n)
        onehots, indices = [], []
        for t in range(self.length):
            logits, state = self._advance(state, t)
            y, index = straight_through(logits, tau)  # (n, V), (n,)
            onehots.append(y)
            indices.append(index)
            state = self._feed_soft(state, y)
        return torch.stack(onehots, dim=1), torch.stack(indices, dim=1)

    def relaxed(self, n: int, beta: float) -> tuple[torch.Tensor, torch.Tensor]:
        """RelGAN's generator output: soft one-hots ``(n, L, V)``, ``softmax(beta * (logits + g))``
        at every position (gradients reach the weights through the logits), and the tokens
        ``(n, L)`` drawn as ``argmax(logits + g)``. The drawn token, not its relaxation, is the
        next position's input, as in the reference code (weilinie/RelGAN ``x_tp1 =
        embedding_lookup(next_token)``), so no gradient passes from one position to the next
        through the choice of a token, only through the recurrent state."""
        state = self._begin(n)
        soft, indices = [], []
        for t in range(self.length):
            logits, state = self._advance(state, t)
            y, index = gumbel_softmax(logits, beta)  # (n, V), (n,)
            soft.append(y)
            indices.append(index)
            state = self._feed(state, index)
        return torch.stack(soft, dim=1), torch.stack(indices, dim=1)

    @torch.jit.export
    def sample(self, n: int, temperature: float = 1.0, min_p: float = 0.0) -> torch.Tensor:
        state = self._begin(n)
        tokens = []
        for t in range(self.length):
            logits, state = self._advance(state, t)
            if hasattr(self, "banned"):  # tokens trained on but never drawn (constraints.never_sample)
                logits = logits.masked_fill(self.banned, float("-inf"))
            index = categorical(logits, temperature, min_p)  # (n,)
            tokens.append(index)
            state = self._feed(state, index)
        return torch.stack(tokens, dim=1)  # (n, L)

    def rollout(self, prefix: torch.Tensor, length: int | None = None,
                generator: torch.Generator | None = None) -> torch.Tensor:
        """Complete ``prefix`` ``(B, t)`` to ``(B, length)`` (default: the model's length) by
        sampling the rest at temperature 1: Monte Carlo rollouts for policy-gradient recipes. The
        prefix is kept as given; ``generator`` (a seeded ``torch.Generator`` on the model's device)
        makes the completions reproducible without touching the global RNG. No gradients."""
        length = self.length if length is None else length
        batch, given = prefix.shape
        if not 0 <= given <= length <= self.length:
            raise ValueError(f"rollout needs 0 <= prefix length {given} <= length {length} <= {self.length}")
        with torch.no_grad():
            state = self._begin(batch)
            tokens = list(prefix.unbind(dim=1))  # t x (B,)
            for t in range(length):
                logits, state = self._advance(state, t)  # (B, V)
                if t >= given:
                    probs = logits.float().softmax(dim=-1)  # (B, V)
                    tokens.append(torch.multinomial(probs, 1, generator=generator).squeeze(1))  # (B,)
                state = self._feed(state, tokens[t])
        if not tokens:
            return prefix.new_zeros(batch, 0)
        return torch.stack(tokens, dim=1)  # (B, length)


class Discriminator(Family, nn.Module, ABC):
    """A discriminator family: ``forward`` scores one-hot (or straight-through) sequences."""

    pack = 1  # sequences scored together (PacGAN); a batch is a whole number of packs

    @classmethod
    def packs(cls, options: Any) -> int:
        """Sequences this family scores together when built with ``options`` (1: one at a time)."""
        return 1

    @abstractmethod
    def forward(self, seqs: torch.Tensor) -> torch.Tensor:
        """One-hots ``(B, L, V)`` -> raw scores ``(B / pack, 1)``."""
