"""``oracle``: the SeqGAN synthetic benchmark — sequences from a randomly initialised LSTM.

Yu et al. (SeqGAN, AAAI 2017), then RankGAN, LeakGAN and Texygen, test sequence GANs on an
*oracle*: an LSTM with embedding 32, hidden 32, a vocabulary of V = 5 000 tokens and every
parameter drawn from N(0, 1). Fed the start token 0 and then its own samples (temperature 1), it
writes sequences of L = 20 tokens; 9 984 of them are the training set. A model is scored by

- **NLL_oracle** (quality): the oracle's negative log-likelihood per token of the model's samples
  (``distance``; lower is better, and the oracle's own samples reach the *floor*, its entropy rate);
- **NLL_test** (diversity): the model's own NLL per token of fresh oracle samples (``heldout``),
  which seqgan's ``evaluate`` computes.

Our oracle is not the paper's (its parameters came from a pickle we do not ship): the parameters
are drawn from ``torch.Generator().manual_seed(PARAM_SEED)`` with ``PARAM_SEED = 88``, so
figures are comparable between runs of seqgan, not with the papers' (floor 5.75, uniform random
tokens about 10.3). Ours: floor 6.00 nats per token (``nll_oracle_floor`` in ``metrics``), the
training set 6.01, uniform random tokens 11.12. NLL_oracle rewards playing safe: a generator that
repeats the oracle's likeliest sequences scores *below* the floor, which NLL_test exposes.

The token of index i is the integer i; token 0 is both the start token and an ordinary token, as
in SeqGAN. Nothing is built at import (plugin discovery imports every plugin on every command):
the oracle, the training set (``TRAIN_SEED``) and the floor (``FLOOR_SEED``) are built on first
use and kept for the process.

>>> import torch; s = heldout(3, torch.Generator().manual_seed(0))  # three fresh draws
>>> tuple(s.shape), bool(is_valid(s).all()), 5.0 < nll_oracle(s) < 7.0
((3, 20), True, True)
"""

from __future__ import annotations

import functools

import torch
from torch import nn

from seqgan_core import Rule, hookimpl
from seqgan_core.errors import RuleError
from seqgan_core.rules.likelihood import OracleLikelihood

VOCAB_SIZE = 5_000
LENGTH = 20
EMBED = 32
HIDDEN = 32
START = 0  # the first input; also an ordinary token
TRAIN_SIZE = 9_984  # SeqGAN's generated_num 10 000, rounded down to whole batches of 64
PARAM_SEED = 88  # the oracle's parameters (SeqGAN's own SEED)
# heldout(n, g) is g's first n draws, so only a generator on TRAIN_SEED would redraw training data
TRAIN_SEED = 20_170_088  # the training set: TRAIN_SIZE draws from the oracle
FLOOR_SEED = 20_170_089  # the floor: FLOOR_SIZE fresh draws scored by the oracle
FLOOR_SIZE = 10_000
CHUNK = 128  # positions per output-layer block of (128, 5 000) logits: measured fastest
VOCAB = list(range(VOCAB_SIZE))


class OracleLSTM(nn.Module):
    """The oracle: a one-layer LSTM language model with N(0, 1) parameters, as in SeqGAN.

    Parameters are drawn in this order from one ``torch.Generator().manual_seed(seed)``, in
    float64 and then rounded to float32 (so every platform gets the same float32 numbers):
    embedding ``(V, E)``, input weights ``(E, 4H)``, hidden weights ``(H, 4H)``, one gate bias
    ``(4H,)``, output weights ``(H, V)``, output bias ``(V,)``. Gate columns: input, forget,
    output, candidate (SeqGAN's Wi, Wf, Wog, Wc). The state starts at zero.
    """

    def __init__(self, seed: int = PARAM_SEED, params: dict[str, torch.Tensor] | None = None):
        """Parameters drawn from ``seed``, or given as ``params`` (the names above: ``embedding``,
        ``w_input``, ``w_hidden``, ``bias``, ``w_out``, ``b_out``, float32 tensors)."""
        super().__init__()
        generator = torch.Generator().manual_seed(seed)

        def draw(name: str, *shape: int) -> nn.Parameter:
            if params is not None:
                values = torch.as_tensor(params[name], dtype=torch.float32)
                if tuple(values.shape) != shape:
                    raise RuntimeError(f"oracle parameter {name}: shape {tuple(values.shape)}, expected {shape}")
            else:
                values = torch.randn(shape, generator=generator, dtype=torch.float64).float()
            return nn.Parameter(values, requires_grad=False)

        self.embedding = draw("embedding", VOCAB_SIZE, EMBED)
        self.w_input = draw("w_input", EMBED, 4 * HIDDEN)
        self.w_hidden = draw("w_hidden", HIDDEN, 4 * HIDDEN)
        self.bias = draw("bias", 4 * HIDDEN)
        self.w_out = draw("w_out", HIDDEN, VOCAB_SIZE)
        self.b_out = draw("b_out", VOCAB_SIZE)
        # |h| < 1, so every logit is within this bound (48.5 for PARAM_SEED, 47.7 for the paper's
        # parameters); below 75, exp() and a sum of 5 000 of them cannot overflow float32, so
        # logsumexp needs no max subtraction
        bound = float((self.b_out.abs() + self.w_out.norm(dim=0) * HIDDEN**0.5).max())
        if bound > 75:
            raise RuntimeError(f"oracle parameters: logits up to {bound:.0f} could overflow exp()")

    def token_gates(self, dtype: torch.dtype) -> torch.Tensor:
        """Every token's input contribution to the gates ``(V, 4H)``: looked up, not multiplied.

        ``dtype`` float64 is for sampling; the float32 parameters are exact in float64.
        """
        return self.embedding.to(dtype) @ self.w_input.to(dtype) + self.bias.to(dtype)

    def step(self, token_gates: torch.Tensor, w_hidden: torch.Tensor, tokens: torch.Tensor,
             h: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Feed ``tokens`` ``(n,)`` with state ``h, c`` ``(n, H)``; returns the new ``h, c``."""
        gates = token_gates[tokens] + h @ w_hidden  # (n, 4H)
        i, f, o, g = gates.chunk(4, dim=-1)  # (n, H) each
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        return o.sigmoid() * c.tanh(), c

    def hidden_states(self, seqs: torch.Tensor) -> torch.Tensor:
        """The states that predict each token of ``seqs`` ``(n, L)``: ``(n, L, H)`` float32."""
        n, length = seqs.shape
        token_gates = self.token_gates(torch.float32)
        h = c = torch.zeros(n, HIDDEN)
        inputs = torch.cat([seqs.new_full((n, 1), START), seqs[:, :-1]], dim=1)  # (n, L)
        states = []
        for t in range(length):
            h, c = self.step(token_gates, self.w_hidden, inputs[:, t], h, c)
            states.append(h)
        return torch.stack(states, dim=1)

    def nll(self, seqs: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood of each token of ``seqs`` ``(n, L)``: ``(n, L)`` float64."""
        return torch.cat([self._nll(part) for part in seqs.split(4096)])  # bounded memory

    def _nll(self, seqs: torch.Tensor) -> torch.Tensor:
        n, length = seqs.shape
        states = self.hidden_states(seqs).reshape(n * length, HIDDEN)
        targets = seqs.reshape(n * length, 1)
        out = torch.empty(n * length, dtype=torch.float64)
        for i in range(0, n * length, CHUNK):
            logits = torch.addmm(self.b_out, states[i:i + CHUNK], self.w_out)  # (chunk, V)
            target = logits.gather(1, targets[i:i + CHUNK]).squeeze(1)
            log_total = logits.exp_().sum(dim=1).log_()  # logsumexp; no overflow (see bound)
            out[i:i + CHUNK] = log_total - target
        return out.view(n, length)

    def generate(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` sequences ``(n, L)`` sampled at temperature 1, from ``generator`` alone.

        Inverse CDF with one uniform ``u`` per token (drawn up front, so the result does not
        depend on block sizes): the token is the first whose cumulative weight exceeds ``u``
        times the total. Computed in float64, so that rounding differences between machines
        (another BLAS, another CPU) do not move one of the 200 000 draws across a token
        boundary, as float32 might; it costs less than twice float32's time.
        """
        uniforms = torch.rand(n, LENGTH, generator=generator, dtype=torch.float64)  # (n, L)
        token_gates = self.token_gates(torch.float64)
        w_hidden, w_out, b_out = (p.double() for p in (self.w_hidden, self.w_out, self.b_out))
        seqs = torch.empty(n, LENGTH, dtype=torch.long)
        for start in range(0, n, CHUNK):
            rows = slice(start, start + CHUNK)
            token = torch.full((len(uniforms[rows]),), START, dtype=torch.long)
            h = c = torch.zeros(len(token), HIDDEN, dtype=torch.float64)
            for t in range(LENGTH):
                h, c = self.step(token_gates, w_hidden, token, h, c)
                weights = torch.addmm(b_out, h, w_out).exp_()  # (chunk, V), unnormalised
                token = _inverse_cdf(weights, uniforms[rows, t])
                seqs[rows, t] = token
        return seqs


def _inverse_cdf(weights: torch.Tensor, u: torch.Tensor, block: int = 100) -> torch.Tensor:
    """For each row of ``weights`` ``(n, V)``, the first index whose running sum exceeds
    ``u * row total`` — in two levels (blocks, then within the block) to skip a full cumsum."""
    n, vocab = weights.shape
    blocks = weights.view(n, vocab // block, block)  # (n, B, S)
    cum_blocks = blocks.sum(dim=2).cumsum(dim=1)  # (n, B)
    target = (u * cum_blocks[:, -1]).unsqueeze(1)  # (n, 1)
    b = torch.searchsorted(cum_blocks, target, right=True).clamp_(max=vocab // block - 1)  # (n, 1)
    before = torch.where(b > 0, cum_blocks.gather(1, (b - 1).clamp(min=0)), 0.0)  # (n, 1)
    inside = blocks[torch.arange(n), b.squeeze(1)].cumsum(dim=1)  # (n, S)
    j = torch.searchsorted(inside, target - before, right=True).clamp_(max=block - 1)
    return (b * block + j).squeeze(1)


@functools.cache
def oracle() -> OracleLSTM:
    """The oracle, built on first use."""
    return OracleLSTM(PARAM_SEED)


@functools.cache
def training_set() -> torch.Tensor:
    """The 9 984 training sequences ``(TRAIN_SIZE, L)``, generated once per process."""
    return oracle().generate(TRAIN_SIZE, torch.Generator().manual_seed(TRAIN_SEED))


@functools.cache
def floor() -> float:
    """NLL_oracle of the oracle's own samples (its entropy rate): what real data scores."""
    return nll_oracle(heldout(FLOOR_SIZE, torch.Generator().manual_seed(FLOOR_SEED)))


def sample(n: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` training sequences ``(n, L)``, drawn uniformly with replacement."""
    return training_set()[torch.randint(TRAIN_SIZE, (n,), generator=generator)]


def heldout(n: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` fresh oracle sequences ``(n, L)``: the held-out test set for NLL_test. They are the
    generator's first ``n`` draws: a larger ``n`` on the same seed extends the same list."""
    return oracle().generate(n, generator)


def is_valid(seqs: torch.Tensor) -> torch.Tensor:
    """Every sequence is valid: the oracle gives every token sequence some probability."""
    return torch.ones(len(seqs), dtype=torch.bool)


class Likelihood(OracleLikelihood):
    """The oracle's likelihood, for ``evaluate --sweep``; ``model`` builds the oracle on first use."""

    def __init__(self, model, rule: str):
        self.model, self.rule = model, rule

    def token_nll(self, seqs: torch.Tensor) -> torch.Tensor:
        seqs = torch.as_tensor(seqs).detach().cpu()
        if seqs.dim() != 2 or seqs.shape[1] != LENGTH or len(seqs) == 0:
            raise RuleError(f"rule {self.rule!r}: NLL_oracle needs sequences of shape (n, {LENGTH}), "
                            f"got {tuple(seqs.shape)}")
        if seqs.dtype != torch.long or int(seqs.min()) < 0 or int(seqs.max()) >= VOCAB_SIZE:
            raise RuleError(f"rule {self.rule!r}: NLL_oracle needs token indices 0..{VOCAB_SIZE - 1} "
                            f"(torch.long), got dtype {seqs.dtype}, range {int(seqs.min())}..{int(seqs.max())}")
        with torch.no_grad():
            return self.model().nll(seqs)


LIKELIHOOD = Likelihood(oracle, "oracle")


def nll_oracle(seqs: torch.Tensor) -> float:
    """The oracle's NLL per token (nats) of ``seqs`` ``(n, L)``: NLL_oracle, lower is better."""
    return LIKELIHOOD.nll(seqs)


def metrics(seqs: torch.Tensor) -> dict:
    return {"nll_oracle": nll_oracle(seqs), "nll_oracle_floor": floor()}


@hookimpl
def register_rules(register):
    register(Rule(
        name="oracle",
        description="SeqGAN's synthetic benchmark: 20 tokens of 5 000 from a random LSTM (NLL_oracle)",
        vocab=VOCAB, length=LENGTH, sample=sample, is_valid=is_valid, distance=nll_oracle,
        heldout=heldout, metrics=metrics, oracle=LIKELIHOOD,
    ))
