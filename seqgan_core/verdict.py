"""Did the run learn its rule? One line a user can read, stored in config.json, shown by evaluate.

A generator has learned a rule when, on a large sample, it is as valid as real data (at least 99 %,
or real data's own rate when the rule's sampler is not always valid), about as diverse (its
share of distinct sequences at least 0.9 x real data's) and its token frequencies are close
(pooled TV at most 0.05, or twice what real data scores on a sample of this size, whichever is
larger). Otherwise the verdict names the biggest miss and the one thing to try next.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

VALIDITY_FLOOR = 0.99  # learned means at least this valid (or real data's own rate, if lower)
VALIDITY_SLACK = 0.01  # ... minus this much sampling slack when real data itself is not always valid
UNIQUE_SHARE = 0.9  # unique-sequence ratio at least this share of real data's
TV_CEILING = 0.05  # pooled token TV at most this (or twice real data's own TV at this sample size)


@dataclass
class Verdict:
    learned: bool
    summary: str  # the figures, in units a user reads: validity vs real data's, diversity, TV
    problem: str = ""  # the biggest miss, when not learned
    advice: str = ""  # the one thing to try next, when not learned

    @property
    def line(self) -> str:
        if self.learned:
            return f"learned: {self.summary}"
        return f"not learned: {self.problem} ({self.summary}); try {self.advice}"

    def to_dict(self) -> dict:
        return {**asdict(self), "line": self.line}


def judge(metrics: dict, *, steps: int, max_steps: int, stop_reason: str, autoregressive: bool,
          patience: int) -> Verdict:
    """The verdict on ``metrics`` (``seqgan_core.metrics.evaluate`` of the saved generator)."""
    validity, real_validity = metrics["validity"], metrics["real_validity"]
    unique, real_unique = metrics["unique_ratio"], metrics["real_unique_ratio"]
    tv, real_tv = metrics["tv"], metrics["real_tv"]
    summary = (f"validity {validity:.1%} (real data {real_validity:.1%}), "
               f"distinct sequences {unique / max(real_unique, 1e-12):.2f} x real data's, token TV {tv:.3f}")
    need_validity = min(VALIDITY_FLOOR, real_validity - VALIDITY_SLACK)
    tv_ceiling = max(TV_CEILING, 2 * real_tv)
    more_steps = f"--max-steps {max(2 * max_steps, steps * 2)}"
    if validity < need_validity:
        problem = f"validity {validity:.1%} is below {need_validity:.1%}"
        if not autoregressive and validity < 0.5 * real_validity:
            advice = "--preset autoregressive (positions may depend on each other)"
        elif stop_reason == "max_steps":
            advice = more_steps
        else:
            advice = f"--patience {2 * patience}"
        return Verdict(False, summary, problem, advice)
    if unique < UNIQUE_SHARE * real_unique:
        problem = f"too few distinct sequences ({unique:.3f} against real data's {real_unique:.3f})"
        return Verdict(False, summary, problem, "another --seed, or a lower --lr")
    if tv > tv_ceiling:
        problem = f"token frequencies are off (TV {tv:.3f} > {tv_ceiling:.3f})"
        advice = more_steps if stop_reason == "max_steps" else f"--patience {2 * patience}"
        return Verdict(False, summary, problem, advice)
    return Verdict(True, summary)
