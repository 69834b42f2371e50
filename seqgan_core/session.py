"""One training run, set up the same way whoever asks: ``seqgan train`` and ``SeqGAN.fit`` both call ``train``.

``train`` sets torch's thread count for the run (``runtime.threads``), starts the progress reporter
and the thread governor, may turn SIGINT/SIGTERM into a stop between two steps, calls
``io.run.train_run`` (checkpoints, final metrics, verdict, the run folder) and restores what it
changed. Callers say where its lines go (``say``) and in whose words advice is put (``render``:
flags for the CLI, keyword arguments for the API), and present the ``RunOutcome`` themselves.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from seqgan_core.advice import Advice, Alternatives, as_flags, either

if TYPE_CHECKING:
    from seqgan_core.engine.config import TrainConfig
    from seqgan_core.io.run import RunOutcome
    from seqgan_core.rules.target import Target

DIVERGED_ADVICE = either(Advice("lr", how="a lower"))  # what to try after a run whose losses blew up


def train(target: Target, config: TrainConfig, out: str | Path, *, fmt: str = "torchscript",
          state: dict | None = None, choice: str = "", progress: bool = True,
          say: Callable[[str], None] | None = None, render: Callable[[Alternatives], str] = as_flags,
          ddp=None, stop_on_signals: bool = False) -> RunOutcome:
    """Train ``target`` with ``config`` into the run folder ``out`` and return the outcome.

    ``state``: a loaded checkpoint to continue; ``choice``: why this preset (kept in config.json);
    ``progress``: a progress bar or lines through ``say``'s stream (stderr); ``say``: where the
    start line and the governor's thread changes go (None: nowhere); ``ddp``: the data-parallel
    group (``runtime.distributed.setup``), whose rank 0 alone reports; ``stop_on_signals``: Ctrl-C
    and SIGTERM stop the run between two steps and save it (main thread only), instead of raising.
    """
    import torch

    from seqgan_core.engine.progress import ProgressReporter
    from seqgan_core.engine.training import StopRequest
    from seqgan_core.io.run import train_run
    from seqgan_core.runtime.threads import configure_threads, governor_for

    rule = target.rule
    writer = ddp is None or ddp.writer
    say = say if writer else None
    reporter = ProgressReporter(rule, config, format_sequence=target.format) if progress and writer else None
    tell = reporter.write if reporter is not None else say
    restore_threads = configure_threads(config, rule, processes=_processes_per_machine(ddp))
    if say is not None:
        verb = f"resuming at step {state['step']}" if state else "training"
        why = f" ({choice})" if choice else ""
        say(f"{verb}: {rule.name!r} with preset {config.preset!r}{why}, seed {config.seed}, "
            f"{torch.get_num_threads()} thread(s) -> {out}")
        if ddp is not None:
            batch = config.recipe_options().batch_size
            say(f"data-parallel: {ddp.world_size} processes ({ddp.backend}, {ddp.device.type}) x batch {batch} "
                f"= global batch {ddp.world_size * batch} per step")
    stop = StopRequest()
    previous = _catch_signals(stop, say) if stop_on_signals else {}
    try:
        # the machine's load may change during the run; the automatic thread count follows it
        governor = governor_for(config, rule, say=tell, render=render) if ddp is None else None
        callbacks = [c for c in (reporter, governor) if c is not None]
        return train_run(target, config, Path(out), fmt, state, callbacks=callbacks, choice=choice, stop=stop)
    finally:
        if reporter is not None:
            reporter.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        restore_threads()


def _processes_per_machine(ddp) -> int:
    """How many training processes share this machine's cores (1 without data parallelism)."""
    import os

    if ddp is None:
        return 1
    return int(os.environ.get("LOCAL_WORLD_SIZE", ddp.world_size))


def _catch_signals(stop, say: Callable[[str], None] | None) -> dict:
    """SIGINT and SIGTERM set ``stop.requested`` (honoured between steps; saving is never cut short);
    returns the handlers they replaced. Signal handlers can only be set from the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def request_stop(signum, frame):
        if not stop.requested and say is not None:
            say("\nseqgan: stopping after this step and saving ...")
        stop.requested = True

    return {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
