"""Scores of a saved generator against a reference file of real sequences, as text-GAN papers
report them (``seqgan evaluate RUN --reference FILE``):

- BLEU-2..5 of the generated sequences against every sequence of FILE (``bleu.bleu_scores``);
- Self-BLEU-4/5 of the generated sequences (each against the others; high = little diversity);
- NLL_gen: the model's own negative log-likelihood per token of FILE's sequences, under the
  sampling temperature's distribution, before any min-p cut (autoregressive
  generators saved as TorchScript). A text data run's model has the unknown token ``<unk>``
  (``rules/data.py``): a word it does not know is scored as ``<unk>``, and how many tokens and
  lines were is reported (``nll_gen_unk_tokens``, ``nll_gen_unk_lines``). A model without one (a
  rule's, a table's, a run from before ``<unk>``) cannot score a line with an unknown token; such
  lines, and lines longer than it writes, are counted instead (``nll_gen_skipped``);
- the share of generated sequences copied verbatim from FILE.

FILE is read like a ``--data`` file (whitespace tokens, ``--chars`` for a character run). Tokens
are compared as strings, so a model of integer tokens can be scored against a text file of them.
"""

from __future__ import annotations

from pathlib import Path

import torch

from seqgan_core.evaluation.bleu import bleu_scores, self_bleu_scores
from seqgan_core.rules.data import read_sequences
from seqgan_core.evaluation.metrics import per_token_nll

BLEU_SAMPLES = 2000  # generated sequences behind BLEU and Self-BLEU (Self-BLEU grows with the count)


def as_strings(rows) -> list[tuple[str, ...]]:
    return [tuple(str(t) for t in row) for row in rows]


def score_against(model, samples: list[list], path: str | Path, chars: bool = False,
                  bleu_samples: int = BLEU_SAMPLES, temperature: float | None = None) -> dict:
    """Figures of ``samples`` (decoded, end tokens stripped) and of ``model`` against FILE."""
    refs = read_sequences(path, chars=chars)
    hyps = as_strings(samples[:bleu_samples])
    out = {"reference": str(path), "reference_size": len(refs), "bleu_samples": len(hyps)}
    out.update(bleu_scores(hyps, refs, orders=(2, 3, 4, 5)))
    out.update(self_bleu_scores(hyps, orders=(4, 5)))
    known = set(refs)
    out["copied"] = sum(h in known for h in as_strings(samples)) / max(len(samples), 1)
    if model.scores_likelihood:
        out.update(nll_of(model, refs, temperature))
    return out


def encode(model, refs: list[tuple[str, ...]]) -> tuple[torch.Tensor, int]:
    """FILE's sequences as the model's indices ``(n, L)``, padded with its end token, and the
    count of sequences it cannot score (too long, shorter without an end token, or with an unknown
    token when the model has no ``<unk>`` to score it as)."""
    seqs, skipped, _ = encode_counted(model, refs)
    return seqs, skipped


def encode_counted(model, refs: list[tuple[str, ...]]) -> tuple[torch.Tensor, int, list[int]]:
    """``encode``, and per scored sequence the count of its tokens scored as the model's ``<unk>``
    (words it never saw, and FILE's own ``<unk>``); all 0 for a model without one."""
    tokens = [str(t) for t in model.vocabulary.tokens]
    index = {t: i for i, t in enumerate(tokens)}
    eos = None if model.eos is None else index.get(str(model.eos))
    unk = None if getattr(model, "unk", None) is None else index.get(str(model.unk))
    rows, skipped, unknown = [], 0, []
    for seq in refs:
        if len(seq) > model.length or (len(seq) < model.length and eos is None) or (
                unk is None and any(t not in index for t in seq)):
            skipped += 1
            continue
        row = [index.get(t, unk) for t in seq]
        rows.append(row + [eos] * (model.length - len(seq)))
        unknown.append(0 if unk is None else row.count(unk))
    return torch.tensor(rows, dtype=torch.long).view(-1, model.length), skipped, unknown


def nll_of(model, refs: list[tuple[str, ...]], temperature: float | None = None) -> dict:
    """NLL_gen of FILE's sequences ``refs``: per token (nats) and its standard error, the count of
    sequences not scored, and for a model with ``<unk>`` the tokens and lines scored as it."""
    seqs, skipped, unknown = encode_counted(model, refs)
    out = {"nll_gen_skipped": skipped}
    if getattr(model, "unk", None) is not None:
        out.update(nll_gen_unk_tokens=sum(unknown), nll_gen_unk_lines=sum(1 for k in unknown if k))
    if len(seqs):
        eos = None if model.eos is None else [str(t) for t in model.vocabulary.tokens].index(str(model.eos))
        out["nll_gen"], out["nll_gen_se"] = per_token_nll(model.token_log_probs(seqs, temperature).double(), seqs, eos)
    return out


def heldout_nll(model, target, n: int = 5000, seed: int = 20_240_919, temperature: float | None = None) -> dict:
    """The model's NLL per token of the target's held-out real data (NLL_test on the oracle):
    a data file's whole held-out part, else ``n`` seeded draws of the rule's held-out sampler."""
    if not model.scores_likelihood:
        return {}
    rule = target.rule
    if target.dataset is not None:
        seqs = target.dataset.heldout
    else:
        draw = rule.heldout or rule.sample
        seqs = rule.canonical(draw(n, torch.Generator().manual_seed(seed)))
    mean, se = per_token_nll(model.token_log_probs(seqs, temperature).double(), seqs, rule.eos_index)
    return {"heldout_nll": mean, "heldout_nll_se": se}
