"""Threads: one for small steps, free cores only for large ones, --threads wins, and a given count
reproduces a run exactly."""

from types import SimpleNamespace

import pytest
import torch

from seqgan_core.plugins.manager import get_plugin_manager, load_rules
from seqgan_core.engine.presets import preset_config
from seqgan_core.runtime.threads import MAX_AUTO_THREADS, available_cores, choose_threads, configure_threads
from seqgan_core.engine.training import train

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
    from seqgan_core.runtime import threads

    readings = iter([(1_000, 2_000), (1_150, 2_200)])  # 150 of 200 jiffies idle: a quarter busy
    monkeypatch.setattr(threads, "_cpu_times", lambda: next(readings))
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 4)
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (3.0, 3.0, 3.0))
    assert threads.machine_load(sample_s=0) == pytest.approx(1.0)  # 0.25 x 4 cores


def test_without_proc_stat_the_load_average_is_used(monkeypatch):
    from seqgan_core.runtime import threads

    monkeypatch.setattr(threads, "_cpu_times", lambda: None)
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (1.5, 1.0, 1.0))
    assert threads.machine_load(sample_s=0) == 1.5


def test_proc_stat_reads_as_idle_and_total_jiffies():
    from seqgan_core.runtime import threads

    times = threads._cpu_times()
    if times is None:
        pytest.skip("no /proc/stat on this platform")
    idle, total = times
    assert 0 <= idle <= total and total > 0


class FakeMachine:
    """A 2-core machine whose clocks the test advances: wall seconds, this process's CPU seconds,
    and /proc/stat's (idle, total) jiffies at 100 a second per core."""

    def __init__(self):
        self.wall = self.cpu = 0.0
        self.idle = self.total = 0
        self.threads = 2

    def advance(self, seconds: float, own_cores: float, other_cores: float) -> None:
        self.wall += seconds
        self.cpu += own_cores * seconds
        busy = min(2.0, own_cores + other_cores)
        self.total += int(200 * seconds)
        self.idle += int(100 * (2.0 - busy) * seconds)

    def governor(self, **kw):
        from seqgan_core.runtime.threads import ThreadGovernor

        return ThreadGovernor(2, cores=2, every_s=5.0, clock=lambda: self.wall, own_cpu=lambda: self.cpu,
                              machine=lambda: (self.idle, self.total), machine_cores=2,
                              get_threads=lambda: self.threads, set_threads=lambda n: setattr(self, "threads", n), **kw)


def at(step: int, trainer) -> SimpleNamespace:
    """What the governor reads of a step's Progress."""
    return SimpleNamespace(step=step, trainer=trainer)


def test_governor_drops_to_one_thread_when_another_process_takes_a_core():
    # measured on the suite's pairs rule: two runs of 2 threads each on 2 cores, 237 ms a step
    # against 53 ms for one thread alone
    trainer = SimpleNamespace(thread_changes=[])
    m, said = FakeMachine(), []
    gov = m.governor(say=said.append)
    m.advance(5, own_cores=1.9, other_cores=0.0)  # alone: both cores are ours
    gov(at(100, trainer))
    assert m.threads == 2 and not said
    m.advance(5, own_cores=1.0, other_cores=1.0)  # another run starts: one reading is not enough
    gov(at(200, trainer))
    assert m.threads == 2
    m.advance(5, own_cores=1.0, other_cores=1.0)
    gov(at(300, trainer))
    assert m.threads == 1
    assert trainer.thread_changes == [[300, 1, 1.0]]
    assert said == ["threads: 2 -> 1 at step 300: other processes use 1.0 of 2 cores (set --threads to pin the count)"]


def test_governor_goes_back_up_when_the_other_process_ends_but_not_above_its_ceiling():
    trainer = SimpleNamespace(thread_changes=[])
    m = FakeMachine()
    m.threads = 1
    gov = m.governor()
    for step in (1, 2):
        m.advance(5, own_cores=1.0, other_cores=0.0)
        gov(at(step, trainer))
    assert m.threads == 2  # the ceiling: 2 cores
    for step in (3, 4, 5):
        m.advance(5, own_cores=1.9, other_cores=0.0)
        gov(at(step, trainer))
    assert m.threads == 2 and trainer.thread_changes == [[2, 2, 0.0]]


def test_governor_ignores_one_busy_reading_and_waits_between_readings():
    trainer = SimpleNamespace(thread_changes=[])
    m = FakeMachine()
    gov = m.governor()
    m.advance(5, own_cores=1.0, other_cores=1.0)
    gov(at(1, trainer))  # one reading says 1 thread
    m.advance(5, own_cores=1.9, other_cores=0.0)
    gov(at(2, trainer))  # the next does not agree: nothing changes
    m.advance(4, own_cores=1.0, other_cores=1.0)
    gov(at(3, trainer))  # under every_s since the last reading: not a reading
    assert m.threads == 2 and trainer.thread_changes == []


def test_no_governor_where_the_count_is_pinned_or_the_step_is_small():
    from seqgan_core.runtime.threads import governor_for

    assert governor_for(preset_config("independent"), RULES["multiples5"]) is None  # small steps
    big = preset_config("autoregressive", batch_size=256)
    assert governor_for(preset_config("autoregressive", batch_size=256, threads=2), RULES["oracle"]) is None
    if available_cores() >= 2:
        assert governor_for(big, RULES["oracle"]) is not None


def test_a_run_records_its_thread_changes_in_config_json(tmp_path, monkeypatch):
    # a governor that changes the count at its first call: the change reaches config.json
    import json

    from seqgan_core.runtime import threads
    from seqgan_core.io.run import train_run
    from seqgan_core.api import load_target

    class Once:
        def __call__(self, p):
            if not p.trainer.thread_changes:
                p.trainer.thread_changes.append([p.step, torch.get_num_threads(), 0.5])

    config = preset_config("independent", seed=0, max_steps=4, eval_every=2, eval_samples=50)
    restore = threads.configure_threads(config, RULES["multiples5"])
    try:
        train_run(load_target("multiples5"), config, tmp_path / "run", callbacks=[Once()])
    finally:
        restore()
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["thread_changes"] == [[1, saved["threads_used"], 0.5]]
