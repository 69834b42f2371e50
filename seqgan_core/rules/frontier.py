"""A method's quality-diversity frontier: its figures over a knob, as a curve, not one point
(``seqgan evaluate RUN --sweep``).

One sampling temperature gives one point; lowering it trades diversity for quality, so methods
compare by their curves (Caccia et al., "Language GANs Falling Short", ICLR 2020). The axes
depend on what the target can tell:

- a rule that declares an oracle likelihood (``Rule.oracle``, ``rules/likelihood.py``) — or a data
  run scored against one with ``--oracle RULE`` (a file of that oracle's samples) — gets
  **NLL_oracle** (the oracle's NLL per token of the samples: quality, lower is better) against
  **NLL_test** (the model's NLL per token, at that temperature, of ``TEST_SIZE`` fresh oracle
  samples: diversity and coverage, lower is better);
- any other rule or data file gets **validity** and **token TV** to real data (quality) against
  the **distinct** share of the samples (diversity).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from seqgan_core.errors import SeqganError
from seqgan_core.evaluation.metrics import evaluate, per_token_nll, reference
from seqgan_core.rules.reference_file import encode_counted
from seqgan_core.rules.rule import Rule
from seqgan_core.rules.target import Target

TEMPERATURES = (1.0, 0.9, 0.8, 0.7, 0.6)  # the default sweep: as trained, then ever more careful
TEST_SIZE = 2000  # fresh oracle samples behind NLL_test (Caccia et al.'s size)
TEST_SEED = 20_240_919  # their draw: the same test set for every point and every run


@dataclass
class Frontier:
    """The curve: ``points`` in knob order, each a dict of the knob's value and the figures."""

    knob: str  # what was swept: "temperature"
    quality: list[str]  # the quality figures' keys, first the one a plot puts on its y axis
    diversity: str  # the diversity figure's key (x axis)
    points: list[dict] = field(default_factory=list)
    oracle: str | None = None  # the rule whose oracle scored the samples
    notes: dict = field(default_factory=dict)  # test-set size, unscored sequences, ...

    def to_dict(self) -> dict:
        return {"knob": self.knob, "quality": self.quality, "diversity": self.diversity,
                "oracle": self.oracle, **self.notes, "points": self.points}


def sweep(model, target: Target, values: tuple[float, ...] = TEMPERATURES, n: int = 10_000,
          seed: int | None = 0, oracle_rule: Rule | None = None) -> Frontier:
    """``model``'s figures at every temperature of ``values`` on ``n`` samples drawn with ``seed``.
    The oracle axes where ``target``'s rule declares an oracle, or ``oracle_rule`` is given."""
    if oracle_rule is None and target.rule.oracle is not None:
        oracle_rule = target.rule
    if oracle_rule is not None:
        return _oracle_sweep(model, oracle_rule, values, n, seed)
    frontier = Frontier("temperature", ["validity", "tv"], "unique_ratio")
    ref = reference(target.rule)
    for t in values:
        m = evaluate(model.sample(n, seed=seed, temperature=t), ref)
        frontier.points.append({"temperature": t, "validity": m["validity"], "tv": m["tv"],
                                "unique_ratio": m["unique_ratio"]})
    return frontier


def _oracle_sweep(model, rule: Rule, values, n: int, seed: int | None) -> Frontier:
    if rule.oracle is None:
        raise SeqganError(f"--oracle {rule.name!r}: that rule declares no oracle likelihood; "
                          "name a rule with one (e.g. seqgan-oracle)")
    if model.length != rule.length:
        raise SeqganError(f"--oracle {rule.name!r}: its sequences have {rule.length} tokens, the model "
                          f"writes {model.length}; score against the oracle the run's data came from")
    if not model.scores_likelihood:
        raise SeqganError(f"{model.path}: NLL_test needs the model's likelihood, which this file lacks; "
                          "sweep the run's TorchScript generator.pt")
    to_oracle = _translation(model, rule)
    fresh = rule.vocabulary.decode(rule.heldout_checked(TEST_SIZE, torch.Generator().manual_seed(TEST_SEED)))
    test, skipped, unknown = encode_counted(model, [tuple(str(t) for t in row) for row in fresh])
    if not len(test):
        raise SeqganError(f"no fresh sample of {rule.name!r} uses only tokens the model knows: NLL_test "
                          "cannot be measured; was the run trained on this oracle's samples?")
    eos = None if model.eos is None else [str(t) for t in model.vocabulary.tokens].index(str(model.eos))
    frontier = Frontier("temperature", ["nll_oracle"], "nll_test", oracle=rule.name,
                        notes={"test_size": TEST_SIZE, "test_unscored": skipped,
                               # tokens of the test set the model scores as its <unk> class (text data runs)
                               "test_unk_tokens": sum(unknown), "test_unk_lines": sum(1 for k in unknown if k)})
    for t in values:
        samples = to_oracle[model.sample(n, seed=seed, temperature=t)]  # (n, L) oracle indices
        nll_test, se = per_token_nll(model.token_log_probs(test, t).double(), test, eos)
        frontier.points.append({"temperature": t, "nll_oracle": rule.oracle.nll(samples),
                                "nll_test": nll_test, "nll_test_se": se})
    return frontier


def _translation(model, rule: Rule) -> torch.Tensor:
    """The oracle rule's index of each of the model's tokens ``(V_model,)``, matched as strings."""
    index = {str(t): i for i, t in enumerate(rule.vocab)}
    tokens = [str(t) for t in model.vocabulary.tokens]
    unk = getattr(model, "unk", None)
    if unk is not None:  # the model scores unseen tokens as <unk> but never draws it: any index will do
        index = {**index, str(unk): 0}
    unknown = [t for t in tokens if t not in index]
    if unknown:
        raise SeqganError(f"the model writes tokens the oracle rule {rule.name!r} does not have "
                          f"({', '.join(unknown[:3])}...); score against the oracle the run's data came from")
    return torch.tensor([index[t] for t in tokens], dtype=torch.long)
