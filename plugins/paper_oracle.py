"""``seqgan-oracle``: the SeqGAN paper's own oracle — the LSTM behind every published NLL_oracle.

The built-in ``oracle`` rule draws its LSTM from seed 88 (plugins/oracle.py); this one loads the
parameters SeqGAN's reference code ships (``save/target_params.pkl`` of LantaoYu/SeqGAN, MIT
licence, as float32 numpy arrays in ``data/seqgan_oracle_params.npz``), which SeqGAN, RankGAN,
LeakGAN, Texygen and Caccia et al. ("Language GANs Falling Short", ICLR 2020) all scored against,
so figures here compare with the papers' number for number. Same shape as ``oracle``: V = 5 000,
embedding 32, one LSTM layer of 32, L = 20, fed the embedding of token 0 first; each gate is
``sigmoid(x @ W + h @ U + b)`` with row vectors x, h (the reference code's orientation), and
``logits = h @ Wo + bo``.

- **NLL_oracle** (quality): the oracle's mean NLL per token of a model's samples (the reference
  code's ``target_loss``); the oracle's own samples score 5.74-5.75 (the floor), uniform random
  tokens 11.42;
- **NLL_test** (diversity): a model's NLL per token of fresh oracle samples (``heldout``).

The training set is ``TRAIN_SIZE`` draws on ``TRAIN_SEED``. Nothing is built at import: the
parameters are read, and the training set and floor drawn, on first use.

>>> import torch; s = heldout(3, torch.Generator().manual_seed(0))
>>> tuple(s.shape), 4.0 < nll_oracle(s) < 8.0
((3, 20), True)
"""

from __future__ import annotations

import functools
from pathlib import Path

import torch

from seqgan_core import Rule, hookimpl
from seqgan_core.errors import RuleError
from seqgan_plugins.oracle import LENGTH, TRAIN_SIZE, VOCAB, VOCAB_SIZE, Likelihood, OracleLSTM

PARAMS = Path(__file__).resolve().parent / "data" / "seqgan_oracle_params.npz"
NAME = "seqgan-oracle"
TRAIN_SEED = 20_170_188  # the training set: TRAIN_SIZE draws from the paper's oracle
FLOOR_SEED = 20_170_189  # the floor: FLOOR_SIZE fresh draws scored by the oracle
FLOOR_SIZE = 10_000
GATES = "i", "f", "og", "c"  # the reference code's gate names, in OracleLSTM's column order


def load_params(path: Path = PARAMS) -> dict[str, torch.Tensor]:
    """The reference code's arrays as ``OracleLSTM`` parameters: the four gates' ``W`` ``(E, H)``,
    ``U`` ``(H, H)`` and ``b`` ``(H,)`` side by side in the columns, ``(E, 4H)``, ``(H, 4H)``, ``(4H,)``."""
    import numpy as np

    try:
        arrays = dict(np.load(path))
    except OSError as e:
        raise RuleError(f"rule {NAME!r}: cannot read its parameters {str(path)!r} ({e}); reinstall seqgan") from None
    return {
        "embedding": torch.from_numpy(arrays["embedding"]),
        "w_input": torch.from_numpy(np.concatenate([arrays[f"W{g}"] for g in GATES], axis=1)),
        "w_hidden": torch.from_numpy(np.concatenate([arrays[f"U{g}"] for g in GATES], axis=1)),
        "bias": torch.from_numpy(np.concatenate([arrays[f"b{g}"] for g in GATES])),
        "w_out": torch.from_numpy(arrays["Wo"]),
        "b_out": torch.from_numpy(arrays["bo"]),
    }


@functools.cache
def oracle() -> OracleLSTM:
    """The paper's oracle, read on first use."""
    return OracleLSTM(params=load_params())


@functools.cache
def training_set() -> torch.Tensor:
    """The 9 984 training sequences ``(TRAIN_SIZE, L)``, drawn once per process."""
    return oracle().generate(TRAIN_SIZE, torch.Generator().manual_seed(TRAIN_SEED))


LIKELIHOOD = Likelihood(oracle, NAME)


def nll_oracle(seqs: torch.Tensor) -> float:
    """The oracle's NLL per token (nats) of ``seqs`` ``(n, L)``: NLL_oracle, lower is better."""
    return LIKELIHOOD.nll(seqs)


@functools.cache
def floor() -> float:
    """NLL_oracle of the oracle's own samples (its entropy rate): what real data scores."""
    return nll_oracle(heldout(FLOOR_SIZE, torch.Generator().manual_seed(FLOOR_SEED)))


def sample(n: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` training sequences ``(n, L)``, drawn uniformly with replacement."""
    return training_set()[torch.randint(TRAIN_SIZE, (n,), generator=generator)]


def heldout(n: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` fresh oracle sequences ``(n, L)`` (NLL_test): the generator's first ``n`` draws."""
    return oracle().generate(n, generator)


def is_valid(seqs: torch.Tensor) -> torch.Tensor:
    """Every sequence is valid: the oracle gives every token sequence some probability."""
    return torch.ones(len(seqs), dtype=torch.bool)


def metrics(seqs: torch.Tensor) -> dict:
    return {"nll_oracle": nll_oracle(seqs), "nll_oracle_floor": floor()}


@hookimpl
def register_rules(register):
    register(Rule(
        name=NAME,
        description="the SeqGAN paper's own oracle LSTM (its published parameters): 20 tokens of 5 000 (NLL_oracle)",
        vocab=VOCAB, length=LENGTH, sample=sample, is_valid=is_valid, distance=nll_oracle,
        heldout=heldout, metrics=metrics, oracle=LIKELIHOOD,
    ))
