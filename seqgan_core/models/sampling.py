"""Drawing tokens from logits: exact categorical draws for sampling, and straight-through or
relaxed (RelGAN) Gumbel-softmax one-hots for adversarial training."""

from __future__ import annotations

import torch


def gumbel_noise(shape: list[int], device: torch.device) -> torch.Tensor:
    """Gumbel(0, 1) noise from ``torch.rand`` (several times faster here than ``exponential_``)."""
    eps = 1e-10
    # -log(-log(u + eps) + eps), in place: the same numbers without four temporaries
    return torch.rand(shape, device=device).add_(eps).log_().neg_().add_(eps).log_().neg_()


def categorical(logits: torch.Tensor, temperature: float = 1.0, min_p: float = 0.0) -> torch.Tensor:
    """One draw per row from softmax(logits / temperature) ``(..., V)`` -> indices ``(...)``, by
    inverse CDF, never drawing a token whose probability is below ``min_p`` times the row's most
    likely token's (min-p sampling; 0 = every token, as trained).

    Needs one uniform number per token where Gumbel-max needs V, which makes sampling a few
    times faster; both are exact draws from the same distribution. ``temperature`` must be
    positive; towards 0 the draw becomes the argmax (greedy), above 1 it flattens the
    distribution. ``min_p`` in [0, 1) cuts the tail a maximum-likelihood model keeps on tokens
    the data never has, without flattening or sharpening the rest (``truncate``). Either may
    also be a 0-d tensor (the torch.export sampler passes its buffers).
    """
    probs = truncate((logits / temperature).softmax(dim=-1), min_p)  # (..., V)
    cdf = probs.cumsum(dim=-1)  # (..., V)
    u = torch.rand(list(logits.shape[:-1]) + [1], device=logits.device) * cdf[..., -1:]  # (..., 1)
    # the first index whose cumulative probability exceeds u; never a zero-probability token
    index = torch.searchsorted(cdf, u, right=True).squeeze(-1)  # (...)
    return index.clamp(max=logits.shape[-1] - 1)


def truncate(probs: torch.Tensor, min_p: float) -> torch.Tensor:
    """``probs`` ``(..., V)`` with every token below ``min_p`` x its row's largest probability set
    to 0 (not renormalised: the inverse CDF scales by the total, the log-probabilities renormalise).
    The row's most likely token always stays. ``min_p`` 0 returns ``probs`` itself."""
    if isinstance(min_p, float) and min_p == 0.0:  # a Python 0: nothing to cut, skip the ops
        return probs
    floor = probs.amax(dim=-1, keepdim=True) * min_p  # (..., 1); a buffer tensor under torch.export
    return probs * (probs >= floor)


def straight_through(logits: torch.Tensor, tau: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Straight-through Gumbel-softmax: hard one-hots forward, soft gradients backward.

    ``logits`` ``(..., V)`` -> one-hots ``(..., V)`` (exactly one-hot in value) and their
    indices ``(...)``.
    """
    y = gumbel_noise(list(logits.shape), logits.device).add_(logits)  # logits + noise
    if tau != 1.0:  # x / 1 is x: skip the op on the hot path
        y = y / tau
    soft = y.softmax(dim=-1)
    index = y.argmax(dim=-1)
    hard = one_hot(index, logits.shape[-1], soft.dtype)
    return hard - soft.detach() + soft, index


def gumbel_softmax(logits: torch.Tensor, beta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """RelGAN's relaxed draw (Nie et al., 2019): with Gumbel noise ``g``, the token is
    ``argmax(logits + g)`` (an exact draw from softmax(logits)) and its relaxation
    ``softmax(beta * (logits + g))``, whose gradient reaches ``logits``; ``beta`` is the inverse
    temperature (towards infinity the relaxation becomes the one-hot of the token).

    ``logits`` ``(..., V)`` -> soft one-hots ``(..., V)`` and the indices ``(...)``.
    """
    y = gumbel_noise(list(logits.shape), logits.device).add_(logits)  # logits + noise
    return (y * beta).softmax(dim=-1), y.argmax(dim=-1)


def one_hot(index: torch.Tensor, size: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``F.one_hot(index, size).to(dtype)`` in one float tensor (no int64 intermediate):
    indices ``(...)`` -> ``(..., size)``."""
    return torch.zeros(list(index.shape) + [size], dtype=dtype, device=index.device).scatter_(
        -1, index.unsqueeze(-1), 1.0)
