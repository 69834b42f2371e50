"""What a sequence may hold, applied to a generator's logits: per-position domains and a rule's
"allowed next tokens".

Two kinds of constraint, both masks over the vocabulary (True = allowed):

- a **position mask** ``(L, V)``: the tokens position t may hold (a CSV column's values; no end
  token at position 0 when real data has no empty sequence). Plain tensors: it is a buffer of the
  exported sampler (``MaskedSampler``), so a TorchScript, torch.export or weights-only file never
  draws a token outside its position's domain, with or without seqgan;
- ``allowed_next(prefix (B, t)) -> (B, V)``: a rule's own Python function. It cannot travel in an
  exported file; seqgan's sampler (``seqgan sample RUN``, ``SeqGAN.sample``) applies it by loading
  the rule (``seqgan_core.rules.conditions``), a bare exported file does not.

Training normalises over the allowed tokens only: disallowed logits are -inf before the softmax
and the NLL (``apply_mask``), so probability mass is never spent on what cannot occur and the
sampler never leaves the constraint. Masks apply to autoregressive generators (the only ones with
per-token conditionals); ``constrain`` leaves any other generator as it is.

Sampling under a mask recomputes the teacher-forced logits of the prefix at each position
(``masked_sample``): one generator-agnostic loop, at L (L + 1) / 2 steps per batch instead of L
(measured 8x the time at L = 12, 14x at L = 24). A mask that restricts only the first position (no
end token first: free-length data) is met instead by redrawing the rows that broke it — exact, as
renormalising the first conditional is the same as conditioning on the first token being allowed
— at ``REDRAWS`` + 1 times the plain sampler's cost in the exported file (a fixed number of draws,
which torch.export can trace; a row keeps a forbidden first token with probability p^3), and in
seqgan's own sampler only the offending rows, then the exact loop for any left.

A third, simpler kind: tokens **never sampled** but trained on and scored (a text data run's
``<unk>``, which stands for every word outside the vocabulary: the model must give it a probability,
so that a held-out or reference sequence with an unseen word has a finite NLL, yet no user should
see it in a sample). ``never_sample`` gives the generator a ``banned`` buffer ``(V,)``; every
sampler sets those logits to -inf at each step (the same one-step loop as unbanned sampling, so no
extra cost) and ``teacher_forced_logits`` / ``token_log_probs`` leave them as they are. Being a
buffer, it travels in checkpoints and in every exported file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Optional

import torch
from torch import nn

from seqgan_core.models.base import AutoregressiveGenerator
from seqgan_core.models.sampler import LikelihoodSampler
from seqgan_core.models.sampling import categorical

MASK_MAX_LENGTH = 64  # longest free-length sequences that get the end-token mask at all
REDRAWS = 2  # first-token-only masks, exported file: rows redrawn this often (a bad first token stays with p^3)
EAGER_REDRAWS = 8  # ... seqgan's own sampler: rounds of redrawing the bad rows before the exact masked loop
AllowedNext = Callable[[torch.Tensor], torch.Tensor]  # prefix (B, t) -> BoolTensor (B, V)


def apply_mask(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``logits`` ``(..., V)`` with every token where ``mask`` (bool, broadcastable) is False set
    to -inf: softmax gives it probability 0, sampling never draws it."""
    return logits.masked_fill(~mask, float("-inf"))


def never_sample(generator: nn.Module, tokens) -> nn.Module:
    """``generator`` (itself, changed) never drawing the token indices ``tokens`` in any sample,
    while still training on them and scoring them: a ``banned`` buffer ``(V,)`` on the generator
    that draws (the inner one of a ``ConstrainedGenerator``), read by every family's ``sample``."""
    own = generator.inner if isinstance(generator, ConstrainedGenerator) else generator
    banned = torch.zeros(own.vocab_size, dtype=torch.bool)
    banned[torch.as_tensor(list(tokens), dtype=torch.long)] = True
    if isinstance(getattr(own, "banned", None), torch.Tensor):
        own.banned = own.banned | banned.to(own.banned.device)
    else:
        device = next((t.device for t in own.parameters()), torch.device("cpu"))
        own.register_buffer("banned", banned.to(device))
    return generator


def banned_tokens(generator: nn.Module) -> torch.Tensor | None:
    """The ``(V,)`` tokens ``generator`` never samples (``never_sample``), or None."""
    banned = getattr(generator, "banned", None)
    return banned if isinstance(banned, torch.Tensor) else None


class Constraint:
    """A position mask ``(L, V)`` and/or a rule's ``allowed_next``; either may be None.

    ``step_mask(prefix)`` is what position ``prefix.shape[1]`` may hold after ``prefix`` ``(B, t)``;
    ``teacher_mask(seqs)`` the same for every position of ``seqs`` ``(n, L)`` at once ``(n, L, V)``."""

    def __init__(self, position_mask: torch.Tensor | None = None, allowed_next: AllowedNext | None = None):
        self.position_mask = None if position_mask is None else position_mask.bool()
        self.allowed_next = None if allowed_next is None else _Shared(allowed_next)

    @property
    def exportable(self) -> bool:
        """Whether an exported file carries all of it (a position mask alone)."""
        return self.allowed_next is None

    def step_mask(self, prefix: torch.Tensor, vocab_size: int) -> torch.Tensor:
        t, n = prefix.shape[1], prefix.shape[0]
        mask = torch.ones(n, vocab_size, dtype=torch.bool, device=prefix.device)  # (B, V)
        if self.position_mask is not None:
            mask = mask & self.position_mask[t].to(prefix.device)
        if self.allowed_next is not None:
            mask = mask & self.allowed_next(prefix.cpu()).to(prefix.device).bool()
        return mask

    def teacher_mask(self, seqs: torch.Tensor, vocab_size: int) -> torch.Tensor:
        length = seqs.shape[1]
        return torch.stack([self.step_mask(seqs[:, :t], vocab_size) for t in range(length)], dim=1)  # (n, L, V)


def first_only(mask: torch.Tensor | None) -> bool:
    """Whether ``mask`` ``(L, V)`` restricts the first position only (redraws meet it exactly)."""
    return mask is not None and bool(mask[1:].all())


class _Shared:
    """A rule's function, shared by every copy of a generator (``copy.deepcopy`` of the EMA and
    of the best state would otherwise copy the rule behind a bound method)."""

    def __init__(self, fn: AllowedNext):
        self.fn = fn.fn if isinstance(fn, _Shared) else fn

    def __call__(self, prefix: torch.Tensor) -> torch.Tensor:
        return self.fn(prefix)

    def __deepcopy__(self, memo) -> _Shared:
        return self


def masked_sample(logits_of: Callable[[torch.Tensor], torch.Tensor], n: int, length: int, vocab_size: int,
                  step_mask: Callable[[torch.Tensor], torch.Tensor], temperature: float = 1.0, min_p: float = 0.0,
                  fixed: torch.Tensor | None = None, device: torch.device | str = "cpu") -> torch.Tensor:
    """``n`` sequences ``(n, length)`` drawn position by position from an autoregressive model
    whose teacher-forced logits are ``logits_of(seqs (n, L)) -> (n, L, V)``, never outside
    ``step_mask(prefix (n, t)) -> (n, V)``. ``fixed`` ``(length,)`` (-1 = free) holds tokens that
    are set, not drawn: exact conditioning on a prefix; at a later position it only forces the
    token (what came before was drawn without knowing it)."""
    seqs = torch.zeros(n, length, dtype=torch.long, device=device)
    for t in range(length):
        if fixed is not None and int(fixed[t]) >= 0:
            seqs[:, t] = int(fixed[t])
            continue
        logits = logits_of(seqs[:, : t + 1])[:, t]  # (n, V): position t sees tokens 0 .. t - 1 only
        seqs[:, t] = categorical(apply_mask(logits, step_mask(seqs[:, :t])), temperature, min_p)
    return seqs


class ConstrainedGenerator(AutoregressiveGenerator):
    """An autoregressive generator whose every conditional is renormalised over what ``constraint``
    allows: ``teacher_forced_logits`` (and so ``nll`` and ``token_log_probs``, the maximum-likelihood
    loss and the held-out NLL) and ``sample``. ``generate`` (the adversarial phase's one-hots) is the
    inner generator's, unmasked; the saved sampler masks again. The position mask is a buffer
    (``position_mask``), so checkpoints and the exported file keep it."""

    def __init__(self, inner: AutoregressiveGenerator, constraint: Constraint):
        super().__init__()
        self.inner = inner
        self.vocab_size, self.length = inner.vocab_size, inner.length
        self.allowed_next = constraint.allowed_next
        self.register_buffer("position_mask", constraint.position_mask)

    @property
    def constraint(self) -> Constraint:
        return Constraint(self.position_mask, self.allowed_next)

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:  # anything else the engine asks of a generator: the inner one's
            modules = self.__dict__.get("_modules") or {}
            if "inner" not in modules:  # half-built (copy.deepcopy): no inner yet
                raise
            return getattr(modules["inner"], name)

    def head_parameters(self) -> list[nn.Parameter]:
        return self.inner.head_parameters()

    # the step pieces are the inner generator's: rollouts and incremental logits run unmasked, as
    # ``generate`` does; what is trained on (teacher forcing) and what is sampled are masked
    def _begin(self, n: int):
        return self.inner._begin(n)

    def _advance(self, state, t: int):
        return self.inner._advance(state, t)

    def _feed(self, state, index: torch.Tensor):
        return self.inner._feed(state, index)

    def _feed_soft(self, state, onehot: torch.Tensor):
        return self.inner._feed_soft(state, onehot)

    def teacher_forced_logits(self, seqs: torch.Tensor) -> torch.Tensor:
        logits = self.inner.teacher_forced_logits(seqs)  # (n, L, V)
        return apply_mask(logits, self.constraint.teacher_mask(seqs, self.vocab_size))

    def token_log_probs(self, seqs: torch.Tensor) -> torch.Tensor:
        logp = self.teacher_forced_logits(seqs).log_softmax(dim=-1)  # (n, L, V)
        return logp.gather(-1, seqs.unsqueeze(-1)).squeeze(-1)

    def nll(self, seqs: torch.Tensor) -> torch.Tensor:
        logits = self.teacher_forced_logits(seqs)
        return nn.functional.cross_entropy(logits.reshape(-1, self.vocab_size), seqs.reshape(-1))

    def generate(self, n: int, tau: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        return self.inner.generate(n, tau)

    def _sample_mask(self, prefix: torch.Tensor) -> torch.Tensor:
        """What position ``prefix.shape[1]`` may be drawn from ``(B, V)``: the constraint, less the
        tokens never sampled (which the constraint's NLL keeps)."""
        mask = self.constraint.step_mask(prefix, self.vocab_size)
        banned = banned_tokens(self.inner)
        return mask if banned is None else mask & ~banned.to(mask.device)

    def sample(self, n: int, temperature: float = 1.0, min_p: float = 0.0) -> torch.Tensor:
        if self.allowed_next is None and first_only(self.position_mask):
            rows = self.inner.sample(n, temperature, min_p)  # (n, L)
            for _ in range(EAGER_REDRAWS):  # redraw the rows whose first token the mask forbids: exact
                bad = ~self.position_mask[0][rows[:, 0]]  # (n,)
                if not bool(bad.any()):
                    return rows
                rows[bad] = self.inner.sample(int(bad.sum()), temperature, min_p)
            bad = ~self.position_mask[0][rows[:, 0]]  # a model that keeps drawing them: the masked loop
            if bool(bad.any()):
                rows[bad] = masked_sample(self.inner.teacher_forced_logits, int(bad.sum()), self.length,
                                          self.vocab_size, self._sample_mask, temperature, min_p, device=rows.device)
            return rows
        return masked_sample(self.inner.teacher_forced_logits, n, self.length, self.vocab_size, self._sample_mask,
                             temperature, min_p, device=next(self.inner.parameters()).device)


def constrain(generator: nn.Module, constraint: Constraint | None) -> nn.Module:
    """``generator`` trained and sampled under ``constraint``; itself when there is none or when it
    is not autoregressive (no per-token conditionals to renormalise)."""
    if constraint is None or not isinstance(generator, AutoregressiveGenerator):
        return generator
    if constraint.position_mask is None and constraint.allowed_next is None:
        return generator
    return ConstrainedGenerator(generator, constraint)


class MaskedSampler(LikelihoodSampler):
    """The exported sampler of a generator trained under a position mask: the ``position_mask``
    buffer ``(L, V)`` travels in the file, and ``sampler(n)`` never draws a token outside it
    (``token_log_probs`` scores under the same renormalised distribution). A rule's
    ``allowed_next`` is Python and does not travel: seqgan's sampler applies it."""

    def __init__(self, generator: nn.Module, position_mask: torch.Tensor, temperature: float = 1.0,
                 min_p: float = 0.0):
        super().__init__(generator, temperature, min_p)
        self.register_buffer("position_mask", position_mask.bool().clone())
        self.first_only = first_only(self.position_mask)  # a plain bool: TorchScript keeps one branch
        self.redraws = REDRAWS

    def forward(self, n: int, temperature: Optional[float] = None, min_p: Optional[float] = None) -> torch.Tensor:
        with torch.no_grad():
            if temperature is None and min_p is None:
                return self._masked(n, self._buffered(self.temperature), self._buffered(self.min_p))
            t = float(self.temperature) if temperature is None else temperature
            m = float(self.min_p) if min_p is None else min_p
            return self._masked(n, t, m)

    def _masked(self, n: int, temperature: float, min_p: float) -> torch.Tensor:
        if self.first_only:  # only the first token is restricted: redraw the rows that break it
            rows = self.generator.sample(n, temperature, min_p)  # (n, L)
            for _ in range(self.redraws):
                bad = ~self.position_mask[0][rows[:, 0]]  # (n,)
                rows = torch.where(bad.unsqueeze(1), self.generator.sample(n, temperature, min_p), rows)
            if not torch.jit.is_scripting():  # seqgan's own (eager) sampling is exact; a file keeps p^3
                rows = self._exact(rows, temperature, min_p)
            return rows
        return self._loop(n, temperature, min_p)

    def _loop(self, n: int, temperature: float, min_p: float) -> torch.Tensor:
        length = self.position_mask.shape[0]
        position = torch.arange(length, device=self.position_mask.device).unsqueeze(0)  # (1, L)
        seqs = torch.zeros(n, length, dtype=torch.long, device=self.position_mask.device)  # (n, L)
        for t in range(length):
            logits = self.generator.teacher_forced_logits(seqs[:, : t + 1])[:, t]  # (n, V): causal, the prefix is enough
            allowed = self.position_mask[t]  # (V,)
            if hasattr(self.generator, "banned"):  # trained on, never drawn (never_sample)
                allowed = allowed & ~self.generator.banned
            index = categorical(apply_mask(logits, allowed), temperature, min_p)  # (n,)
            seqs = torch.where(position == t, index.unsqueeze(1), seqs)  # no in-place write: export-friendly
        return seqs

    @torch.jit.unused
    def _exact(self, rows: torch.Tensor, temperature: float, min_p: float) -> torch.Tensor:
        """Rows that still break the first-token mask after the redraws, drawn again by the exact
        masked loop: a weights-only file loaded by seqgan samples exactly. Not while torch.export
        traces the module (the branch depends on the data), so an exported file keeps p^3."""
        is_compiling = getattr(torch.compiler, "is_compiling", None)
        if is_compiling is not None and is_compiling():
            return rows
        bad = ~self.position_mask[0][rows[:, 0]]  # (n,)
        if bool(bad.any()):
            rows = rows.clone()
            rows[bad] = self._loop(int(bad.sum()), temperature, min_p)
        return rows

    @torch.jit.export
    def token_log_probs(self, seqs: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        with torch.no_grad():
            logits = apply_mask(self.generator.teacher_forced_logits(seqs), self.position_mask)  # (n, L, V)
            logp = (logits / temperature).log_softmax(dim=-1)
            return logp.gather(-1, seqs.unsqueeze(-1)).squeeze(-1)


def exported_sampler(generator: nn.Module, temperature: float = 1.0, min_p: float = 0.0) -> nn.Module:
    """The module an export file holds for ``generator``: a ``MaskedSampler`` carrying its position
    mask, else the plain sampler of its kind. A rule's ``allowed_next`` is left out (Python)."""
    from seqgan_core.models.sampler import Sampler

    mask = None
    if isinstance(generator, ConstrainedGenerator):
        mask, generator = generator.position_mask, generator.inner
    if mask is not None:
        return MaskedSampler(generator, mask, temperature, min_p)
    from seqgan_core.models.drs import DRSGenerator, DRSSampler

    if isinstance(generator, DRSGenerator) and isinstance(generator.generator, AutoregressiveGenerator):
        return DRSSampler(generator, temperature, min_p)
    kind = LikelihoodSampler if isinstance(generator, AutoregressiveGenerator) else Sampler
    return kind(generator, temperature, min_p)
