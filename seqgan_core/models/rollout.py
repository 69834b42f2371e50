"""Monte Carlo rollouts: complete partial sequences by sampling from a generator (SeqGAN's rollout).

Written against two ways of running a generator, so that it can move into a generator base class
later: *stepping* generators (the GRU: ``_first``, ``_step``, ``_seen``, ``_mark`` and ``embed``, the
same weights its ``sample`` steps through) continue from the state the prefix left, one position at a
time; any other autoregressive generator (``teacher_forced_logits``) is rerun over the sequence so far
for each position it completes. Noise comes from torch's global RNG, so ``torch.manual_seed(s)``
makes a rollout reproducible.
"""

from __future__ import annotations

import torch
from torch import nn

from seqgan_core.models.sampling import categorical


def _steps(generator: nn.Module) -> bool:
    return all(hasattr(generator, name) for name in ("_first", "_step", "_seen", "_mark", "embed"))


@torch.no_grad()
def rollout(generator: nn.Module, prefix: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """``prefix`` ``(n, t)`` with ``0 <= t <= L`` -> sequences ``(n, L)`` that start with it, the
    other ``L - t`` tokens drawn from ``generator`` given everything before them."""
    n, t = prefix.shape
    length = generator.length
    if _steps(generator):
        inp, h = generator._first(n)
        seen = generator._seen(n)
        for s in range(t):  # feed the prefix; its logits are not needed
            _, h = generator._step(inp, h, seen)
            inp = generator.embed(prefix[:, s])
            seen = generator._mark(seen, prefix[:, s])
        return torch.cat([prefix, _complete(generator, inp, h, seen, length - t, temperature)], dim=1)
    seqs = torch.cat([prefix, prefix.new_zeros(n, length - t)], dim=1)  # (n, L); the zeros are overwritten
    for s in range(t, length):  # position s sees tokens 0 .. s - 1 only
        seqs[:, s] = categorical(generator.teacher_forced_logits(seqs)[:, s], temperature)
    return seqs


def _complete(generator: nn.Module, inp: torch.Tensor, h: torch.Tensor, seen: torch.Tensor, remaining: int,
              temperature: float) -> torch.Tensor:
    """``remaining`` tokens ``(n, remaining)`` sampled on from a stepping generator's state."""
    tokens = []
    for _ in range(remaining):
        logits, h = generator._step(inp, h, seen)
        index = categorical(logits, temperature)  # (n,)
        tokens.append(index)
        inp = generator.embed(index)
        seen = generator._mark(seen, index)
    if not tokens:
        return inp.new_zeros(inp.shape[0], 0, dtype=torch.long)
    return torch.stack(tokens, dim=1)


@torch.no_grad()
def rollouts(generator: nn.Module, seqs: torch.Tensor, count: int, temperature: float = 1.0):
    """For each prefix length ``t = 1 .. L-1`` of ``seqs`` ``(B, L)``: ``count`` completions of every
    row, ``(count * B, L)`` (row ``r * B + b`` is rollout r of sequence b), yielded as ``(t, completions)``.

    A stepping generator reads each prefix once (the state after ``t`` tokens is the one after
    ``t - 1`` plus one step) and starts the ``count`` copies from it."""
    B, length = seqs.shape
    if not _steps(generator):
        for t in range(1, length):
            yield t, rollout(generator, seqs[:, :t].repeat(count, 1), temperature)
        return
    inp, h = generator._first(B)
    seen = generator._seen(B)
    for t in range(1, length):
        _, h = generator._step(inp, h, seen)  # the state that has read tokens 0 .. t - 2
        inp = generator.embed(seqs[:, t - 1])
        seen = generator._mark(seen, seqs[:, t - 1])
        tail = _complete(generator, inp.repeat(count, 1), h.repeat(count, 1), seen.repeat(count, 1),
                         length - t, temperature)  # (count * B, L - t)
        yield t, torch.cat([seqs[:, :t].repeat(count, 1), tail], dim=1)
