"""Progress on stderr, in units a user reads: phase, validity against real data's, token TV, the
stopping distance, sequences per second and the time left at most (the run may stop earlier).

On a terminal: a tqdm bar with those figures. Elsewhere (a log file, CI): a plain line at every
check that is due (``log_every`` steps) and at least every ``PLAIN_EVERY_S`` seconds, each with
a decoded sample so a user can watch the generator learn.
"""

from __future__ import annotations

import sys
import time

from tqdm import tqdm

from . import distributed
from .config import TrainConfig
from .rule import Rule
from .training import Progress

PLAIN_EVERY_S = 30.0  # off a terminal, a line at least this often


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class ProgressReporter:
    def __init__(self, rule: Rule, config: TrainConfig, stream=None, format_sequence=None):
        self.rule, self.config = rule, config
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty()
        self.format_sequence = format_sequence or (lambda seq: " ".join(map(str, rule.strip(rule.vocabulary.decode(seq)))))  # noqa: E501
        self.bar = tqdm(total=config.max_steps, file=self.stream, unit="step", dynamic_ncols=True,
                        disable=not self.interactive, leave=False)
        self.last_check: dict | None = None
        self.started = time.perf_counter()
        self.start_step: int | None = None
        self.last_line = self.started

    def _write(self, line: str) -> None:
        if self.interactive:
            self.bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)
        self.last_line = time.perf_counter()

    def figures(self, p: Progress) -> str:
        """The check's figures and the pace, as one short string."""
        parts = [p.phase]
        c = self.last_check
        if c is not None:
            real = p.trainer.noise.validity
            parts.append(f"valid {c['validity']:.1%} (real {real:.0%})")
            parts.append(f"TV {c['tv']:.3f}")
            if "nll" in c:
                parts.append(f"NLL {c['nll']:.3f}")
            parts.append(f"distance {c['distance']:.4f} (best {p.best:.4f})")
        elapsed = time.perf_counter() - self.started
        steps = p.step - (self.start_step or 0)
        if elapsed > 0 and steps > 0:
            rate = steps / elapsed
            global_batch = p.trainer.recipe.batch_size * distributed.world_size()  # all ranks together
            parts.append(f"{rate * global_batch:,.0f} seq/s")
            parts.append(f"<= {duration((p.max_steps - p.step) / rate)} left")
        return ", ".join(parts)

    def __call__(self, p: Progress) -> None:
        if self.start_step is None:
            self.start_step = p.step - 1
        self.bar.update(1)
        if p.check is not None:
            self.last_check = p.check
            if self.interactive:
                self.bar.set_description_str(self.figures(p), refresh=False)
        due = p.step % self.config.log_every == 0
        overdue = not self.interactive and time.perf_counter() - self.last_line >= PLAIN_EVERY_S
        if due or overdue:
            sample = self.format_sequence(p.generated[0])
            self._write(f"step {p.step:>6}  {self.figures(p)}  sample: {sample}")

    def close(self) -> None:
        self.bar.close()
