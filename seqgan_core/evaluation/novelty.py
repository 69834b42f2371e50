"""Novelty: does a generator invent sequences, or copy the ones it was trained on?

For generated sequences and the training and held-out parts of a data file (index tensors
``(n, L)``, canonical: after the first end token only end tokens):

- ``copied``: share of generated sequences that occur in the training part;
- ``novel``: the rest, ``1 - copied``; ``novel_in_heldout``: share of generated sequences that
  are not in the training part but are in the held-out part (real sequences the model was never
  shown: invention that is verifiably right);
- ``heldout_copied``: the same ``copied`` figure for the held-out part itself — what a perfect
  model of the data would score, since a file may repeat sequences;
- ``nearest_*``: for each novel sample (the first ``MAX_MEASURED`` / ``MAX_MEASURED_EDIT``), the distance to its nearest
  training sequence — the privacy-style check (SDV's "distance to closest record"): a novel
  sample one token away from a training sequence is a near copy. Fixed-length data (a CSV) uses
  Hamming distance (differing positions); variable-length data the edit (Levenshtein) distance of
  the tokens before the end token.
"""

from __future__ import annotations

import statistics

import torch

MAX_MEASURED = 1000  # novel samples whose nearest training sequence is searched (Hamming)
MAX_MEASURED_EDIT = 250  # ... by edit distance: ~10x the work per pair (6 s for 1000 x 3000 words of <= 8)
CHUNK_CELLS = 4_000_000  # (queries x training sequences x positions) compared per tensor operation


def novelty(generated: torch.Tensor, train: torch.Tensor, heldout: torch.Tensor,
            eos_index: int | None = None) -> dict:
    """The figures above, as a flat dict of floats."""
    train_set = {tuple(r) for r in train.tolist()}
    held_rows = [tuple(r) for r in heldout.tolist()]
    held_set = set(held_rows)
    rows = [tuple(r) for r in generated.tolist()]
    n = max(len(rows), 1)
    novel = [r for r in rows if r not in train_set]
    out = {
        "copied": 1 - len(novel) / n,
        "novel": len(novel) / n,
        "novel_in_heldout": sum(r in held_set for r in novel) / n,
        "heldout_copied": sum(r in train_set for r in held_rows) / max(len(held_rows), 1),
    }
    most = MAX_MEASURED if eos_index is None else MAX_MEASURED_EDIT
    measured = torch.tensor(novel[:most], dtype=torch.long).view(-1, generated.shape[1])
    if len(measured):
        if eos_index is None:
            kind, d = "hamming", nearest_hamming(measured, train)
        else:
            kind, d = "edit", nearest_edit(measured, train, eos_index)
        values = d.tolist()
        out.update({f"nearest_{kind}_min": float(min(values)),
                    f"nearest_{kind}_median": float(statistics.median(values)),
                    f"nearest_{kind}_mean": float(statistics.fmean(values))})
    return out


def nearest_hamming(queries: torch.Tensor, train: torch.Tensor) -> torch.Tensor:
    """For each query ``(q, L)``, the fewest positions in which it differs from a training
    sequence ``(n, L)``; returns ``(q,)``."""
    step = max(1, CHUNK_CELLS // max(train.numel(), 1))
    out = []
    for i in range(0, len(queries), step):
        diff = queries[i : i + step, None, :] != train[None, :, :]  # (chunk, n, L)
        out.append(diff.sum(-1).min(-1).values)
    return torch.cat(out)


def nearest_edit(queries: torch.Tensor, train: torch.Tensor, eos_index: int) -> torch.Tensor:
    """For each query, the smallest edit distance to a training sequence, both cut at their first
    end token; returns ``(q,)``. Dynamic programming over the query's tokens, vectorised over every
    training sequence (and queries of one length at a time)."""
    def lengths(seqs):
        is_eos = seqs == eos_index
        return torch.where(is_eos.any(-1), is_eos.int().argmax(-1), torch.full((len(seqs),), seqs.shape[1]))

    train = torch.unique(train, dim=0)  # a file's repeats cost nothing
    t_len = lengths(train)  # (n,)
    width = int(t_len.max()) if len(train) else 0
    t = train[:, :width]  # (n, W): tokens past a sequence's end never reach its own column
    cols = torch.arange(width + 1, dtype=torch.int16)  # (W + 1,): distances <= 2 x 256 fit in int16
    q_len = lengths(queries)
    out = torch.empty(len(queries), dtype=torch.int16)
    for m in q_len.unique().tolist():
        which = (q_len == m).nonzero().flatten()
        step = max(1, CHUNK_CELLS // max(len(train) * (width + 1), 1))
        for i in range(0, len(which), step):
            idx = which[i : i + step]
            q = queries[idx, :m]  # (b, m)
            row = cols.expand(len(idx), len(train), width + 1)  # (b, n, W + 1): distance from the empty prefix
            for k in range(m):
                sub = row[..., :-1] + (q[:, k, None, None] != t[None]).to(torch.int16)  # (b, n, W): substitute or match
                cand = torch.cat([row[..., :1] + 1, torch.minimum(row[..., 1:] + 1, sub)], dim=-1)  # delete
                # insertions: row[j] = min over i <= j of cand[i] + (j - i), a running minimum
                row = (cand - cols).cummin(dim=-1).values + cols
            out[idx] = row.gather(-1, t_len.expand(len(idx), -1)[..., None]).squeeze(-1).min(-1).values
    return out.long()
