"""Sampling a saved model under conditions (``--where COLUMN=VALUE``) and under its rule's
``allowed_next`` constraint: seqgan's own sampler, around a loaded model file.

How a condition is met, in order of preference:

- **exact, by construction**: the fixed positions form a prefix (the first columns) and the model
  is autoregressive with its generator in the file (TorchScript ``generator.pt`` or weights-only
  ``generator.weights.pt``): the prefix tokens are set, the rest is drawn from the model's
  conditionals given them (``models.constraints.masked_sample``);
- **exact, by rejection** otherwise (a later column, a non-autoregressive model, a torch.export
  file): rows are drawn in batches and the matching ones kept, up to ``REJECTION_BUDGET`` x n drawn
  rows (at least ``MIN_BUDGET``); a rarer condition is one error line saying so, not a wait.

A rule's ``allowed_next`` is Python and is not in the exported file: this sampler applies it (by
loading the rule), a bare ``torch.jit.load(...)(n)`` does not. It needs the generator itself, so a
torch.export file of such a rule is refused with one line.
"""

from __future__ import annotations

import torch

from seqgan_core.errors import SeqganError
from seqgan_core.models.constraints import Constraint, masked_sample
from seqgan_core.models.base import AutoregressiveGenerator

REJECTION_BUDGET = 200  # rows drawn per row wanted before a condition counts as too rare
MIN_BUDGET = 20_000  # ... but never fewer than this many rows drawn
BATCH = 8_192  # rows drawn per try while rejecting
MAX_VALUES_SHOWN = 12  # values an error line lists


class ConditionError(SeqganError):
    """A ``--where`` that names no column, a value its column never takes, or a condition too rare."""


def parse_where(items: list[str] | dict | None) -> dict[str, str]:
    """``["region=north", ...]`` (the CLI's) or ``{"region": "north"}`` (the API's) -> a dict."""
    if not items:
        return {}
    if isinstance(items, dict):
        return {str(k): v for k, v in items.items()}
    out = {}
    for item in items:
        column, sep, value = item.partition("=")
        if not sep or not column.strip():
            raise ConditionError(f"--where {item!r}: write COLUMN=VALUE, e.g. --where region=north")
        out[column.strip()] = value.strip()
    return out


def column_names(model) -> list[str]:
    """A name per position of ``model``: a CSV header's (or an event log's context columns, first),
    else the positions 1 .. L."""
    record = model.meta.get("target") or {}
    named = list(record.get("columns") or record.get("context_columns") or [])  # an event log names its context
    return named + [str(i + 1) for i in range(len(named), model.length)]


def position_mask(model) -> torch.Tensor | None:
    """What each position may be drawn from ``(L, V)``: the mask the model file carries
    (``models.constraints.MaskedSampler``) less the tokens it never samples (a text data run's
    ``<unk>``, ``constraints.never_sample``), or None when neither restricts anything."""
    mask = getattr(model.sampler, "position_mask", None)
    mask = mask.bool().cpu() if isinstance(mask, torch.Tensor) else None
    banned = getattr(getattr(model.sampler, "generator", None), "banned", None)
    if isinstance(banned, torch.Tensor):
        base = torch.ones(model.length, len(model.vocabulary), dtype=torch.bool) if mask is None else mask
        mask = base & ~banned.bool().cpu()
    return mask


def resolve(where: dict, model) -> torch.Tensor | None:
    """``where`` (column name or 1-based position -> token) as ``(L,)`` token indices, -1 where free;
    None for no condition. A value its column never takes in the training data is one error line."""
    if not where:
        return None
    names = column_names(model)
    mask = position_mask(model)
    tokens = list(model.vocabulary.tokens)
    fixed = torch.full((model.length,), -1, dtype=torch.long)
    for column, value in where.items():
        if column in names:
            pos = names.index(column)
        elif column.isdigit() and 1 <= int(column) <= model.length:
            pos = int(column) - 1
        else:
            raise ConditionError(f"--where {column}=...: no column {column!r}; columns: {', '.join(names)}")
        allowed = [i for i in range(len(tokens)) if mask is None or bool(mask[pos, i])]
        allowed = [i for i in allowed if tokens[i] != model.eos]
        match = [i for i in allowed if str(tokens[i]) == str(value)]
        if not match:
            values = [str(tokens[i]) for i in allowed]
            shown = ", ".join(values[:MAX_VALUES_SHOWN]) + (", ..." if len(values) > MAX_VALUES_SHOWN else "")
            raise ConditionError(f"{column}={value} never occurs in column {names[pos]!r} of the training data; "
                                 f"values: {shown}")
        fixed[pos] = match[0]
    return fixed


def _logits_of(model):
    """The teacher-forced logits of the generator inside ``model``'s file, or None when the file has
    none to give (a torch.export program; a non-autoregressive generator)."""
    generator = getattr(model.sampler, "generator", None)
    if generator is None or model.format == "export":
        return None
    if model.format == "torchscript" and not hasattr(model.sampler, "token_log_probs"):
        return None
    if model.format == "weights" and not isinstance(generator, AutoregressiveGenerator):
        return None
    return generator.teacher_forced_logits


def sample(model, n: int, where: dict | None = None, constraint: Constraint | None = None,
           seed: int | None = None, temperature: float | None = None, min_p: float | None = None) -> torch.Tensor:
    """``n`` index sequences ``(n, L)`` from a loaded ``model`` (``io.export.LoadedModel``) meeting
    ``where`` and a rule's ``constraint`` (``allowed_next``); see the module docstring for how."""
    fixed = resolve(parse_where(where), model)
    if fixed is None and (constraint is None or constraint.allowed_next is None):
        return model.sample(n, seed=seed, temperature=temperature, min_p=min_p)
    logits_of = _logits_of(model)
    needs_loop = constraint is not None and constraint.allowed_next is not None
    if needs_loop and logits_of is None:
        raise ConditionError(f"{str(model.path)!r} cannot apply its rule's allowed_next: the file holds no "
                             "autoregressive generator to step (a torch.export program); use generator.pt "
                             "or generator.weights.pt")
    if seed is not None:
        torch.manual_seed(seed)
    t = model.temperature if temperature is None else float(temperature)
    m = model.min_p if min_p is None else float(min_p)
    mask = position_mask(model)
    full = Constraint(mask, constraint.allowed_next if constraint is not None else None)
    V = len(model.vocabulary)

    def draw(k: int, prefix: torch.Tensor | None = None) -> torch.Tensor:
        if logits_of is None:
            return model.sample(k, temperature=temperature, min_p=min_p)
        with torch.no_grad():
            out = masked_sample(logits_of, k, model.length, V, lambda p: full.step_mask(p, V), t, m, fixed=prefix)
        return model._checked(out.cpu(), k)

    free = fixed is None or (fixed < 0).all()
    prefix_len = 0 if free else int((fixed >= 0).long().cumprod(0).sum())
    exact = not free and logits_of is not None and int((fixed >= 0).sum()) == prefix_len
    if free or exact:
        return torch.cat([draw(min(BATCH, n - i), None if free else fixed) for i in range(0, n, BATCH)]) \
            if n else torch.zeros(0, model.length, dtype=torch.long)
    return _reject(draw, n, fixed, model)


def _reject(draw, n: int, fixed: torch.Tensor, model) -> torch.Tensor:
    """Rows from ``draw(k)`` whose fixed positions hold ``fixed``'s tokens, until ``n``; one error
    line when the budget is drawn first."""
    budget = max(MIN_BUDGET, REJECTION_BUDGET * n)
    keep = fixed >= 0  # (L,)
    kept, have, drawn = [], 0, 0
    while have < n:
        if drawn >= budget:
            names = column_names(model)
            cond = ", ".join(f"{names[i]}={model.vocabulary.tokens[int(fixed[i])]}" for i in range(len(fixed)) if keep[i])
            raise ConditionError(f"the condition {cond} is too rare for this model: {have} of {drawn:,} drawn rows "
                                 f"met it, {n} wanted; ask for fewer rows, or condition on the first columns "
                                 "(sampled exactly, no rejection)")
        rows = draw(BATCH)
        drawn += len(rows)
        seen = rows
        if model.eos is not None:  # after a sequence's end nothing is its own: compare it as ended
            end = list(model.vocabulary.tokens).index(model.eos)
            after = (rows == end).long().cummax(dim=1).values.bool()  # (k, L)
            seen = rows.masked_fill(after, end)
        ok = (seen[:, keep] == fixed[keep]).all(dim=1)
        kept.append(rows[ok][: n - have])
        have += len(kept[-1])
    return torch.cat(kept)
