"""A rule's exact likelihood of any sequence: the capability that makes it an *oracle*.

A rule whose real data comes from a known language model (the SeqGAN oracle LSTM) can score any
sequence under that model. It declares so by giving ``Rule(oracle=...)`` an ``OracleLikelihood``;
``seqgan evaluate --sweep`` then measures a method's curve as NLL_oracle (the oracle's NLL of the
method's samples: quality) against NLL_test (the method's NLL of fresh oracle samples: diversity),
where rules without one get validity / token TV against the share of distinct sequences.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch


class OracleLikelihood(ABC):
    """The oracle's negative log-likelihood of sequences of the rule's vocabulary indices."""

    @abstractmethod
    def token_nll(self, seqs: torch.Tensor) -> torch.Tensor:
        """NLL (nats) of every token of ``seqs`` ``(n, L)`` given the tokens before it: ``(n, L)``."""

    def nll(self, seqs: torch.Tensor) -> float:
        """NLL_oracle: the mean NLL per token of ``seqs`` ``(n, L)``; lower is better."""
        with torch.no_grad():
            return self.token_nll(seqs).double().mean().item()
