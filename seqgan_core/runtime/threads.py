"""How many threads torch uses: chosen for the work and the machine, never torch's default.

Torch's default (one thread per core) makes small models *slower* — every tiny kernel pays for
waking the other threads — and on a busy machine it is far worse: a thread that waits for a core
another process holds stalls every step. Measured here (2 cores, shared with other jobs, load
average 7-12; torch 2.13, whole `seqgan train` processes):

    seqgan train --rule oracle --preset autoregressive --max-steps 20 --pretrain-steps 10 \\
        --set d_warmup=2 --patience 100000 --threads N     (batch x length x vocabulary = 25.6 M)
    N=1: 69.7 s of training, N=2: 253.4 s
    seqgan train --rule palindrome --preset autoregressive --max-steps 200 --pretrain-steps 100 \\
        --set d_warmup=5 --patience 100000 --threads N
    N=1: 25.8 s, N=2: still running after 6 min (stopped)

and ``python benchmarks/benchmark.py threads`` (README, "Threads and speed") for the small, medium
and large models of that section, with and without a competing busy process: no size measured
faster with a second thread on a machine whose cores were taken. So seqgan uses one thread unless
a step has a lot of arithmetic (``MULTI_THREAD_WORK``) *and* cores are free now; then up to
``MAX_AUTO_THREADS``. ``--threads N`` overrides.

"Free now" is the idle share of the cores over ``IDLE_SAMPLE_S`` (``/proc/stat`` read twice), not
the 1-minute load average, which lags: a run started just after another one ended saw a load of
0.9 on an idle 2-core machine and took one thread, and COCO's steps ran at 1.9 s instead of about
1 s. Where ``/proc/stat`` is missing the load average is used. Only a large step pays the wait.

The cores free at the start are not the cores free for the whole run. Two large runs started at
the same moment each saw an idle machine and took 2 threads; with 4 threads on 2 cores each step
of the suite's ``pairs`` rule took 237 ms instead of 31 ms (one run alone, 2 threads) or 53 ms
(alone, 1 thread) — 2 000 steps in 8 minutes where the whole run takes 1.5 alone. So a run whose
thread count was chosen automatically looks again every ``GOVERN_EVERY_S`` seconds
(``ThreadGovernor``): the cores the machine's *other* processes use (all cores' busy share from
/proc/stat, less this process's own CPU time) decide the count, as at the start, up to the start's
ceiling; a new count needs two readings in a row, is printed, and is listed in config.json as
``thread_changes``.

Results are reproducible for a given thread count (the count is printed at the start and kept
in config.json as ``threads_used``): a different count may change the last bits of floating-point
sums, and so the run. For the default GRU generator 1 and 2 threads gave bit-identical weights
(the suite's ``pairs`` rule, 300 steps, seed 0), so a change mid-run does not change it there.
Pass ``--threads N`` to pin the count (and turn the governor off).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import os
import time
from collections.abc import Callable

import torch

from seqgan_core.advice import Advice, Alternatives, as_flags, one

if TYPE_CHECKING:  # annotations only: this layer must not import the one above it
    from seqgan_core.engine.config import TrainConfig
    from seqgan_core.rules.rule import Rule


# batch x length x vocabulary below which one thread is always used: below it, a step's kernels are
# too small for a second thread to pay for waking it (no measured gain at any size on a busy machine)
MULTI_THREAD_WORK = 2_000_000
MAX_AUTO_THREADS = 4


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


IDLE_SAMPLE_S = 0.25  # how long the idle share of the cores is measured before a large run


def _cpu_times() -> tuple[int, int] | None:
    """(idle, total) jiffies over all cores since boot, from /proc/stat; None without it."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    if len(fields) < 5:
        return None
    return fields[3] + fields[4], sum(fields[:8])  # idle + iowait; user..steal


def machine_load(sample_s: float = IDLE_SAMPLE_S) -> float:
    """How many cores are busy now: the busy share of all cores over ``sample_s`` seconds, times
    the cores (/proc/stat); where that is missing, the 1-minute load average (0 if none)."""
    before = _cpu_times()
    if before is not None:
        time.sleep(sample_s)
        after = _cpu_times()
        if after is not None and after[1] > before[1]:
            busy = 1.0 - (after[0] - before[0]) / (after[1] - before[1])
            return max(0.0, busy) * (os.cpu_count() or 1)
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0


def choose_threads(config: TrainConfig, rule: Rule, load: float | None = None) -> int:
    """``config.threads`` if set; else 1, or the free cores (at most 4) for a large step."""
    if config.threads:
        return config.threads
    if step_work(config, rule) < MULTI_THREAD_WORK:
        return 1
    free = available_cores() - round(machine_load() if load is None else load)
    return max(1, min(MAX_AUTO_THREADS, free))


def step_work(config: TrainConfig, rule: Rule) -> int:
    """batch_size x length x vocabulary: a step's arithmetic, as far as the thread choice cares (the
    configured batch, before a recipe's cap on tokens per step)."""
    return int(config.options.get("batch_size", 1)) * rule.length * len(rule.vocabulary)


def configure_threads(config: TrainConfig, rule: Rule, processes: int = 1) -> Callable[[], None]:
    """Set torch's intra-op threads for this run; returns a function that restores the old count.

    ``processes``: how many training processes share this machine's cores (data-parallel ranks);
    an automatic count then takes at most their share."""
    before = torch.get_num_threads()
    threads = choose_threads(config, rule)
    if processes > 1 and not config.threads:
        threads = max(1, min(threads, available_cores() // processes))
    torch.set_num_threads(threads)
    return lambda: torch.set_num_threads(before)


GOVERN_EVERY_S = 5.0  # how often a run with an automatic thread count looks at the machine again
PIN_THREADS = one(Advice("threads", how="set"))  # what turns the governor off


class ThreadGovernor:
    """Callback for ``Trainer``: keeps an automatic thread count fitted to the cores free *now*.

    Every ``every_s`` seconds: the cores other processes used over the interval (the machine's busy
    cores from /proc/stat less this process's CPU time) give ``cores - others`` threads, between 1
    and ``ceiling``. A new count takes two readings in a row that agree (one busy moment changes
    nothing); it is set, recorded on the trainer (``thread_changes``: step, threads, others' cores)
    and reported through ``say``, with the setting that pins the count in ``render``'s words (flags
    for the CLI, keywords for the API). Clocks and readers are injectable for tests.
    """

    def __init__(self, ceiling: int, cores: int | None = None, every_s: float = GOVERN_EVERY_S,
                 say: Callable[[str], None] | None = None, render: Callable[[Alternatives], str] = as_flags,
                 clock=time.perf_counter, own_cpu=time.process_time,
                 machine=_cpu_times, machine_cores: int | None = None,
                 get_threads=torch.get_num_threads, set_threads=torch.set_num_threads):
        self.ceiling, self.every_s, self.say, self.render = ceiling, every_s, say, render
        self.cores = cores or available_cores()
        self.machine_cores = machine_cores or os.cpu_count() or 1
        self.clock, self.own_cpu, self.machine = clock, own_cpu, machine
        self.get_threads, self.set_threads = get_threads, set_threads
        self.pending: int | None = None
        self._start()

    def _start(self) -> None:
        self.t0, self.cpu0, self.m0 = self.clock(), self.own_cpu(), self.machine()

    def others(self) -> float | None:
        """Cores the machine's other processes used since the last reading (None: unknown)."""
        wall, m = self.clock() - self.t0, self.machine()
        if wall <= 0 or m is None or self.m0 is None or m[1] <= self.m0[1]:
            return None
        busy = (1.0 - (m[0] - self.m0[0]) / (m[1] - self.m0[1])) * self.machine_cores
        own = (self.own_cpu() - self.cpu0) / wall
        return max(0.0, busy - own)

    def want(self, others: float) -> int:
        return max(1, min(self.ceiling, self.cores - round(others)))

    def __call__(self, progress) -> None:
        if self.clock() - self.t0 < self.every_s:
            return
        others = self.others()
        self._start()
        if others is None:
            return
        want, now = self.want(others), self.get_threads()
        if want == now:
            self.pending = None
            return
        if self.pending != want:  # the next reading must agree
            self.pending = want
            return
        self.pending = None
        self.set_threads(want)
        progress.trainer.thread_changes.append([progress.step, want, round(others, 2)])
        if self.say is not None:
            self.say(f"threads: {now} -> {want} at step {progress.step}: other processes use {others:.1f} of "
                     f"{self.cores} cores ({self.render(PIN_THREADS)} to pin the count)")


def governor_for(config: TrainConfig, rule: Rule, say: Callable[[str], None] | None = None,
                 render: Callable[[Alternatives], str] = as_flags) -> ThreadGovernor | None:
    """A governor for a run whose thread count seqgan chose and whose steps could use more than one
    thread; None where the count is pinned (``--threads``), the step is small or there is one core."""
    ceiling = min(MAX_AUTO_THREADS, available_cores())
    if config.threads or step_work(config, rule) < MULTI_THREAD_WORK or ceiling < 2:
        return None
    return ThreadGovernor(ceiling, say=say, render=render)
