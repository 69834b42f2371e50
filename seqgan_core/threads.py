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

Results are reproducible for a given thread count (the count is printed at the start and kept
in config.json as ``threads_used``): a different count may change the last bits of floating-point
sums, and so the run. Pass ``--threads N`` to pin it where the automatic choice could differ
(large models, on a machine whose load changes).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import torch

from .config import TrainConfig
from .rule import Rule

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
    batch = int(config.options.get("batch_size", 1))
    work = batch * rule.length * len(rule.vocabulary)
    if work < MULTI_THREAD_WORK:
        return 1
    free = available_cores() - round(machine_load() if load is None else load)
    return max(1, min(MAX_AUTO_THREADS, free))


def configure_threads(config: TrainConfig, rule: Rule) -> Callable[[], None]:
    """Set torch's intra-op threads for this run; returns a function that restores the old count."""
    before = torch.get_num_threads()
    torch.set_num_threads(choose_threads(config, rule))
    return lambda: torch.set_num_threads(before)
