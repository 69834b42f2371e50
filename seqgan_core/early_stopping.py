"""Early stopping on any distance where lower is better (0.0 = perfect)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class EarlyStopping:
    patience: int  # checks without improvement before stopping
    min_delta: float = 0.0  # an improvement must beat the best by more than this
    best: float = math.inf  # best distance seen so far
    best_step: int = -1  # the step at which `best` was seen
    since_best: int = 0  # checks since the last improvement

    def update(self, value: float, step: int) -> bool:
        """Record one check; return True when ``value`` is a new best."""
        if value < self.best - self.min_delta:
            self.best, self.best_step, self.since_best = value, step, 0
            return True
        self.since_best += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.since_best >= self.patience
