"""Progress on stderr, in units a user reads: phase, validity against real data's (held-out data's
for a data file), token TV, the stopping distance, sequences per second and the time left at most
(the run may stop earlier).

The first check prints what the distance measures and on how many sequences (the presets' distances
differ, and a best of 0 on one sequence per check is luck, not learning). Each line then shows the
distance beside the best so far, and how many checks in a row brought no gain larger than the
check's own noise (``min_delta``): that count reaching ``patience`` is what ends a phase.

On a terminal: a tqdm bar with those figures. Elsewhere (a log file, CI): a plain line at every
check that is due (``log_every`` steps) and at least every ``PLAIN_EVERY_S`` seconds (checked after
each step), each with a decoded sample so a user can watch the generator learn.
"""

from __future__ import annotations

import math
import sys
import time

from seqgan_core.runtime import distributed
from seqgan_core.engine.config import TrainConfig
from seqgan_core.rules.rule import Rule
from seqgan_core.engine.training import EVAL_SEED_OFFSET, Progress

PLAIN_EVERY_S = 30.0  # off a terminal, a line at least this often


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def distance_meaning(config: TrainConfig, batch_size: int) -> str:
    """What the stopping distance measures, and on how many sequences: one line for the log."""
    what = ("the rule's own distance (0 = perfect)" if config.distance == "rule"
            else "share of invalid sequences + mean per-position token TV to real data (0 = perfect)")
    n = config.eval_samples or batch_size
    many = "sequence" if n == 1 else "sequences"
    source = f"{n:,} sampled {many}" if config.eval_samples else f"the step's own {n:,} generated {many}"
    luck = "; with so few, a best of 0 can be luck: judge by the verdict" if n < 100 else ""
    return f"stopping distance: {what}, on {source} per check{luck}"


class ProgressReporter:
    """Callback for ``Trainer``: a tqdm bar on a terminal, plain lines elsewhere.

    ``clock`` (seconds, monotonic) is injectable so tests can check the 30-second promise.
    """

    def __init__(self, rule: Rule, config: TrainConfig, stream=None, format_sequence=None,
                 clock=time.perf_counter):
        self.rule, self.config, self.clock = rule, config, clock
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty()
        self.format_sequence = format_sequence or (lambda seq: " ".join(map(str, rule.strip(rule.vocabulary.decode(seq)))))  # noqa: E501
        self._bar = None
        self.last_check: dict | None = None
        self.started: float | None = None  # clock at the first step seen (pace excludes start-up)
        self.start_step = 0
        self.last_line = clock()
        self.explained = False
        self._real: str | None = None  # real data's validity, as the progress line words it

    @property
    def bar(self):
        if self._bar is None:
            from tqdm import tqdm  # only on a terminal: a log file never pays for the import

            self._bar = tqdm(total=self.config.max_steps, file=self.stream, unit="step", dynamic_ncols=True,
                             leave=False)
        return self._bar

    def write(self, line: str) -> None:
        """One line above the bar on a terminal, a plain line elsewhere."""
        if self.interactive:
            self.bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)
        self.last_line = self.clock()

    def real_validity(self, trainer) -> str:
        """Real data's validity to read a check's against: held-out data's where the rule has a
        held-out part (a data file), since the training part holds every pair seen in training and
        is 100 % valid by definition; else the rule's own samples'."""
        if self._real is None:
            if self.rule.heldout is not None:
                self._real = f"held-out {self.rule.valid(trainer.heldout.cpu()).float().mean().item():.1%}"
            else:
                self._real = f"real {trainer.noise.validity:.0%}"
        return self._real

    def figures(self, p: Progress) -> str:
        """The check's figures and the pace, as one short string."""
        c = self.last_check
        scale = c.get("lr_scale", 1.0) if c is not None else 1.0
        parts = [p.phase if scale == 1.0 else f"{p.phase} at {scale:g}x its learning rates (a plateau)"]
        if c is not None:
            parts.append(f"valid {c['validity']:.1%} ({self.real_validity(p.trainer)})")
            parts.append(f"TV {c['tv']:.3f}")
            if "nll" in c:
                parts.append(f"held-out NLL {c['nll']:.3f} nats/token")
            parts.append(f"distance {c['distance']:.4f} (best {p.best:.4f})")
            plateau = p.trainer.plateau
            if plateau.best != math.inf:  # what ends the phase: checks since a gain larger than the noise
                signal = "NLL" if p.phase == "mle" or p.trainer.on_nll else "distance"
                counted = p.trainer.recipe.plateau_counts(p.step)
                parts.append(f"{plateau.since_best}/{plateau.patience} checks without a {signal} gain "
                             f"> {plateau.min_delta:.4f}" + ("" if counted else " (none ends it before half its budget)"))
        now = self.clock()
        steps = p.step - self.start_step
        if self.started is not None and now > self.started and steps > 0:
            rate = steps / (now - self.started)
            global_batch = p.trainer.recipe.batch_size * distributed.world_size()  # all ranks together
            parts.append(f"{rate * global_batch:,.0f} seq/s")
            parts.append(f"<= {duration((p.max_steps - p.step) / rate)} left")
        return ", ".join(parts)

    def __call__(self, p: Progress) -> None:
        if self.started is None:
            self.started, self.start_step = self.clock(), p.step
        if self.interactive:
            self.bar.update(1)
        if p.check is not None:
            self.last_check = p.check
            if not self.explained:
                self.explained = True
                self.write(distance_meaning(self.config, p.trainer.recipe.batch_size))
            if self.interactive:
                self.bar.set_description_str(self.figures(p), refresh=False)
        due = p.step % self.config.log_every == 0
        overdue = not self.interactive and self.clock() - self.last_line >= PLAIN_EVERY_S
        if due or overdue:
            if p.generated is None:  # a maximum-likelihood step: G generated nothing, so draw one to show
                drawn = p.trainer.sample(1, seed_offset=EVAL_SEED_OFFSET + p.step)[0]
            else:
                drawn = p.generated[0]
            sample = self.format_sequence(drawn)
            self.write(f"step {p.step:>6}  {self.figures(p)}  sample: {sample}")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
