"""Progress on stderr: a tqdm bar with live distance on a terminal, plain lines otherwise.

Every ``log_every`` steps a decoded generated sequence is shown, so a user can watch the
generator learn the rule.
"""

from __future__ import annotations

import sys

from tqdm import tqdm

from .training import Progress
from .vocabulary import Vocabulary


class ProgressReporter:
    def __init__(self, vocabulary: Vocabulary, max_steps: int, log_every: int, stream=None):
        self.vocabulary = vocabulary
        self.log_every = log_every
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty()
        self.bar = tqdm(total=max_steps, file=self.stream, unit="step", dynamic_ncols=True,
                        disable=not self.interactive, leave=False)

    def _write(self, line: str) -> None:
        if self.interactive:
            self.bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)

    def __call__(self, p: Progress) -> None:
        self.bar.update(1)
        if p.distance is not None and self.interactive:
            self.bar.set_postfix(distance=f"{p.distance:.4f}", best=f"{p.best:.4f}", refresh=False)
        if p.step % self.log_every == 0:
            sample = " ".join(str(t) for t in self.vocabulary.decode(p.generated[0]))
            dist = "-" if p.distance is None else f"{p.distance:.4f}"
            self._write(f"step {p.step:>6}  distance {dist}  best {p.best:.4f}  sample: {sample}")

    def close(self) -> None:
        self.bar.close()
