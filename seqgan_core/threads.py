"""How many threads torch uses: chosen from the model's size, never torch's default.

Torch's default (one thread per core) makes small models *slower* — every tiny kernel pays for
waking the other threads — and on a busy machine a 1-second run can take 100 s. seqgan uses one
thread unless a step has enough arithmetic for more to pay off (measured with
``benchmarks/benchmark.py threads``); ``--threads N`` overrides. Results are reproducible for a
given thread count; a different count may change the last bits of floating-point sums, and so
the run.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import torch

from .config import TrainConfig
from .rule import Rule

# batch x length x vocabulary above which a second thread measured faster (see benchmark)
MULTI_THREAD_WORK = 2_000_000
MAX_AUTO_THREADS = 4


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def choose_threads(config: TrainConfig, rule: Rule) -> int:
    if config.threads:
        return config.threads
    batch = int(config.options.get("batch_size", 1))
    work = batch * rule.length * len(rule.vocabulary)
    if work < MULTI_THREAD_WORK:
        return 1
    return max(1, min(MAX_AUTO_THREADS, available_cores()))


def configure_threads(config: TrainConfig, rule: Rule) -> Callable[[], None]:
    """Set torch's intra-op threads for this run; returns a function that restores the old count."""
    before = torch.get_num_threads()
    torch.set_num_threads(choose_threads(config, rule))
    return lambda: torch.set_num_threads(before)
