"""Early stopping on any signal where lower is better: patience counts checks, and only an
improvement by more than ``min_delta`` (set from the check's own sampling noise) counts."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class EarlyStopping:
    patience: int  # checks without a significant improvement before stopping
    min_delta: float = 0.0  # an improvement must beat the best by more than this
    best: float = math.inf  # best value seen so far (in this phase)
    best_step: int = -1  # the step at which `best` was seen
    since_best: int = 0  # checks since the last significant improvement

    def update(self, value: float, step: int) -> bool:
        """Record one check; return True when ``value`` is a significant new best."""
        if value < self.best - self.min_delta:
            self.best, self.best_step, self.since_best = value, step, 0
            return True
        self.since_best += 1
        return False

    def reset(self, min_delta: float | None = None) -> None:
        """Start over for a new phase (and perhaps a new signal with its own noise)."""
        self.best, self.best_step, self.since_best = math.inf, -1, 0
        if min_delta is not None:
            self.min_delta = min_delta

    @property
    def should_stop(self) -> bool:
        return self.since_best >= self.patience
