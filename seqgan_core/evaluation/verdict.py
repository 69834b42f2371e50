"""Did the run learn its rule? One line a user can read, stored in config.json, shown by evaluate.

A generator has learned a rule when, on a large sample, it is as valid as real data (at least 99 %,
or real data's own rate when the rule's sampler is not always valid), about as diverse (its
share of distinct sequences at least 0.9 x real data's) and its token frequencies are close
(pooled TV at most 0.05, or twice what real data scores on a sample of this size, whichever is
larger). Otherwise the verdict names the biggest miss and the one thing to try next.

A data file has no rule to be valid against, and "occurs in the file" rewards copying; a data
run (``judge_data``) has learned its data when it predicts the held-out part better than the best
bigram model of the training part does (held-out NLL, for generators that give likelihoods), its
samples are locally plausible about as often as held-out data is (every adjacent pair seen in
training — what a data run's "validity" measures, and all it measures; the verdict names it so —
at least 0.9 x held-out data's rate), it invents (novel samples at least a tenth
of held-out data's own share of sequences absent from training) and it is about as diverse as real
data. The figures it reports are copies, novelty and the nearest-training distance of novel samples.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from seqgan_core.advice import Advice, Alternatives, as_flags, as_keywords, either, one

VALIDITY_FLOOR = 0.99  # learned means at least this valid (or real data's own rate, if lower)
VALIDITY_SLACK = 0.01  # ... minus this much sampling slack when real data itself is not always valid
UNIQUE_SHARE = 0.9  # unique-sequence ratio at least this share of real data's
TV_CEILING = 0.05  # pooled token TV at most this (or twice real data's own TV at this sample size)
DATA_VALIDITY_SHARE = 0.9  # data runs: validity at least this share of held-out data's
NOVEL_SHARE = 0.1  # data runs: novel samples at least this share of held-out data's own novelty
PAIRS_CHECK = "adjacent pairs seen in training"  # what a data run's validity is, named where it is shown


@dataclass(frozen=True)
class Verdict:
    learned: bool
    summary: str  # the figures, in units a user reads: validity vs real data's, diversity, TV
    problem: str = ""  # the biggest miss, when not learned
    tries: Alternatives = ()  # what to try next, when not learned: settings, not flag text
    keywords: bool = False  # render ``tries`` as SeqGAN keyword arguments (the Python API), not as flags

    @property
    def advice(self) -> str:
        """What to try next, as flags (``--patience 8``) or, for the API, keywords (``patience=8``)."""
        return as_keywords(self.tries) if self.keywords else as_flags(self.tries)

    @property
    def line(self) -> str:
        if self.learned:
            return f"learned: {self.summary}"
        return f"not learned: {self.problem} ({self.summary}); try {self.advice}"

    def for_python(self) -> Verdict:
        """The same verdict, its advice in keyword arguments of ``SeqGAN``."""
        return replace(self, keywords=True)

    def to_dict(self) -> dict:
        return {"learned": self.learned, "summary": self.summary, "problem": self.problem, "advice": self.advice,
                "tries": [[a.to_dict() for a in group] for group in self.tries], "line": self.line}


def validity_needed(real_validity: float) -> float:
    """The validity a rule run must reach to be learned."""
    return min(VALIDITY_FLOOR, real_validity - VALIDITY_SLACK)


SMALLER_GENERATOR = Advice("generator.hidden", 64, "a smaller generator")
MEMORISING_ADVICE = either(
    Advice("", why="more training data"),
    Advice("generator.dropout", 0.5, "more dropout in the GRU generator; runs on finite data use 0.3"),
    SMALLER_GENERATOR)
ANOTHER_START = either(Advice("seed", how="another"), Advice("lr", how="a lower"))


def more_training(stop_reason: str, steps: int, max_steps: int, patience: int) -> Alternatives:
    """Settings for a longer run, naming both budgets: a run that hit ``max_steps`` gets twice the
    steps *and* keeps its patience, one that plateaued gets twice the patience *and* keeps its
    step budget — so following the advice twice never undoes the first (``--patience 8`` then
    ``--max-steps 8000`` alone would fall back to the default patience)."""
    if stop_reason == "max_steps":
        return one(Advice("max_steps", max(2 * max_steps, steps * 2)), Advice("patience", patience))
    if stop_reason == "budget":  # maximum likelihood alone used its budget: it began at step 0
        return one(Advice("pretrain_steps", 2 * steps), Advice("max_steps", max(max_steps, 2 * steps)))
    return one(Advice("patience", 2 * patience), Advice("max_steps", max_steps))


def judge(metrics: dict, *, steps: int, max_steps: int, stop_reason: str, autoregressive: bool,
          patience: int, data: bool = False) -> Verdict:
    """The verdict on ``metrics`` (``seqgan_core.evaluation.metrics.evaluate`` of the saved generator);
    ``data``: the run learned a data file (``judge_data``)."""
    if data and "novel" in metrics.get("rule_metrics", {}):
        return judge_data(metrics, steps=steps, max_steps=max_steps, stop_reason=stop_reason, patience=patience)
    validity, real_validity = metrics["validity"], metrics["real_validity"]
    unique, real_unique = metrics["unique_ratio"], metrics["real_unique_ratio"]
    tv, real_tv = metrics["tv"], metrics["real_tv"]
    summary = (f"validity {validity:.1%} (real data {real_validity:.1%}), "
               f"distinct sequences {unique / max(real_unique, 1e-12):.2f} x real data's, token TV {tv:.3f}")
    if metrics.get("temperature", 1.0) != 1.0:
        summary += f", sampled at temperature {metrics['temperature']:g}"
    if metrics.get("min_p", 0.0):
        summary += f", min-p {metrics['min_p']:g}"
    need_validity = validity_needed(real_validity)
    tv_ceiling = max(TV_CEILING, 2 * real_tv)
    more = more_training(stop_reason, steps, max_steps, patience)
    if stop_reason == "memorising":  # training longer only memorises more (training.Trainer.memorising)
        more = MEMORISING_ADVICE
    if validity < need_validity:
        problem = f"validity {validity:.2%} is below {need_validity:.2%}"  # 2 decimals: 98.98% is not 99.0%
        if not autoregressive and validity < 0.5 * real_validity:
            advice = one(Advice("preset", "autoregressive", "positions may depend on each other"))
        else:
            advice = more
        return Verdict(False, summary, problem, advice)
    if unique < UNIQUE_SHARE * real_unique:
        problem = f"too few distinct sequences ({unique:.3f} against real data's {real_unique:.3f})"
        return Verdict(False, summary, problem, ANOTHER_START)
    if tv > tv_ceiling:
        problem = f"token frequencies are off (TV {tv:.4f} > {tv_ceiling:.4f})"
        return Verdict(False, summary, problem, more)
    return Verdict(True, summary)


def judge_data(metrics: dict, *, steps: int, max_steps: int, stop_reason: str, patience: int) -> Verdict:
    """The verdict of a data run: held-out NLL against a bigram model, plausibility, novelty."""
    rm = metrics["rule_metrics"]
    validity, held_validity = metrics["validity"], rm["heldout_validity"]
    novel, held_novel = rm["novel"], 1 - rm["heldout_copied"]
    unique, real_unique = metrics["unique_ratio"], metrics["real_unique_ratio"]
    nll, bigram = metrics.get("heldout_nll"), metrics.get("bigram_heldout_nll")
    parts = []
    if nll is not None and bigram is not None:
        parts.append(f"held-out NLL {nll:.3f} nats/token (best bigram model {bigram:.3f})")
    parts += [f"{rm['copied']:.1%} copied from training, {novel:.1%} novel "
              f"(held-out data: {held_novel:.1%} not in training)",
              f"{PAIRS_CHECK} {validity:.1%} (held-out data {held_validity:.1%})"]
    columns = [k for k in rm if k.startswith("column_tv_")]
    if columns:  # a table: each column's values against held-out rows'
        worst = max(columns, key=lambda k: rm[k])
        parts.append(f"column TV to held-out rows at most {rm[worst]:.3f} ({worst[len('column_tv_'):]})")
    if "length_tv" in rm:
        parts.append(f"length TV to held-out data {rm['length_tv']:.3f}")
    nearest = [k for k in rm if k.startswith("nearest_") and k.endswith("_median")]
    if nearest:
        unit = "differing cells" if nearest[0].startswith("nearest_hamming") else "edits"
        parts.append(f"novel samples a median {rm[nearest[0]]:g} {unit} from the nearest training sequence")
    summary = ", ".join(parts)
    keep_going = more_training(stop_reason, steps, max_steps, patience)
    if stop_reason == "memorising":  # training longer only memorises more (training.Trainer.memorising)
        keep_going = MEMORISING_ADVICE
    if nll is not None and bigram is not None and nll > bigram:
        # copying far more than held-out data would is memorising: more steps make it worse
        memorised = novel < 0.5 * held_novel
        advice = either(Advice("stop_on", "heldout_nll"), SMALLER_GENERATOR) if memorised else keep_going
        return Verdict(False, summary, f"held-out NLL {nll:.3f} is no better than a bigram model's {bigram:.3f}"
                       + (" (it memorised the training part)" if memorised else ""), advice)
    if validity < DATA_VALIDITY_SHARE * held_validity:
        return Verdict(False, summary, f"{PAIRS_CHECK} {validity:.1%} is below {DATA_VALIDITY_SHARE:.0%} of "
                       f"held-out data's {held_validity:.1%}", keep_going)
    if novel < NOVEL_SHARE * held_novel:
        return Verdict(False, summary, f"it mostly copies training data ({novel:.1%} novel)",
                       either(Advice("", why="more data"), SMALLER_GENERATOR))
    if unique < UNIQUE_SHARE * real_unique:
        problem = f"too few distinct sequences ({unique:.3f} against real data's {real_unique:.3f})"
        return Verdict(False, summary, problem, ANOTHER_START)
    return Verdict(True, summary)
