"""Threads: one for small steps, free cores only for large ones, --threads wins, and a given count
reproduces a run exactly."""

import pytest
import torch

from seqgan_core.plugins import get_plugin_manager, load_rules
from seqgan_core.presets import preset_config
from seqgan_core.threads import MAX_AUTO_THREADS, available_cores, choose_threads, configure_threads
from seqgan_core.training import train

RULES = load_rules(get_plugin_manager(entry_points=False))


def test_small_steps_use_one_thread_whatever_the_load():
    config = preset_config("independent")  # batch 64 x length 10 x vocabulary 20
    assert choose_threads(config, RULES["multiples5"], load=0.0) == 1


def test_large_steps_use_free_cores_only():
    big = preset_config("autoregressive", batch_size=256)
    oracle = RULES["oracle"]  # 20 tokens of 5 000: 25.6 M per step
    idle = choose_threads(big, oracle, load=0.0)
    assert idle == max(1, min(MAX_AUTO_THREADS, available_cores()))
    # measured: 2 threads took 3.6x longer than 1 on a 2-core machine with its cores taken
    assert choose_threads(big, oracle, load=float(available_cores())) == 1


def test_threads_flag_overrides():
    assert choose_threads(preset_config("independent", threads=3), RULES["multiples5"], load=99.0) == 3


@pytest.mark.parametrize("threads", [1, 2])
def test_same_seed_and_same_thread_count_give_the_same_generator(threads):
    # few steps: with the machine's cores taken, 2 threads ran 40 steps in 121 s against 2.6 s for 1
    config = preset_config("independent", seed=4, max_steps=6, eval_every=3, eval_samples=100, threads=threads)
    restore = configure_threads(config, RULES["multiples5"])
    try:
        assert torch.get_num_threads() == threads
        a, b = (train(RULES["multiples5"], config).generator.state_dict() for _ in range(2))
    finally:
        restore()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_busy_cores_are_measured_now_not_from_the_load_average(monkeypatch):
    # the 1-minute load average lags: just after a run ends it still says a core is busy
    from seqgan_core import threads

    readings = iter([(1_000, 2_000), (1_150, 2_200)])  # 150 of 200 jiffies idle: a quarter busy
    monkeypatch.setattr(threads, "_cpu_times", lambda: next(readings))
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 4)
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (3.0, 3.0, 3.0))
    assert threads.machine_load(sample_s=0) == pytest.approx(1.0)  # 0.25 x 4 cores


def test_without_proc_stat_the_load_average_is_used(monkeypatch):
    from seqgan_core import threads

    monkeypatch.setattr(threads, "_cpu_times", lambda: None)
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (1.5, 1.0, 1.0))
    assert threads.machine_load(sample_s=0) == 1.5


def test_proc_stat_reads_as_idle_and_total_jiffies():
    from seqgan_core import threads

    times = threads._cpu_times()
    if times is None:
        pytest.skip("no /proc/stat on this platform")
    idle, total = times
    assert 0 <= idle <= total and total > 0
