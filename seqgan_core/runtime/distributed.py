"""Data-parallel training: several processes, one run, launched by torchrun.

    torchrun --nproc-per-node 2 -m seqgan_core train --rule palindrome      # or:
    seqgan train --rule palindrome --nproc 2                                 # starts torchrun itself

Every process (a *rank*) holds the same generator and discriminator and trains on its own
batch: its own real-data stream and its own noise, seeded from the run's seed and its rank, so
the global batch is ranks x per-rank batch. After each backward pass the gradients of the module
that just learned are averaged over the ranks (one all-reduce per module: D's after D's step,
G's after G's — D's gradients never travel during G's step), so every rank takes the same
optimiser step and the weights, the optimiser state and the EMA generator stay identical without
ever being sent. The models are built from the same seed on every rank and broadcast from rank 0
once, to be sure.

Rank 0 alone checks, logs and writes the run folder; the others train. At the end of every step
the ranks agree (one tiny all-reduce) on what happens next: a signal seen by any rank, a
diverged loss on any rank, and rank 0's stopping decision reach every rank at the same step.

A checkpoint holds every rank's random-number state, so it resumes with the same number of
processes only; another number is refused with one line (the data and noise streams of the
missing or extra ranks would not exist).

Why gradients are averaged by hand rather than by ``DistributedDataParallel``: the recipes train
through methods that are not ``forward`` (``generate``, ``nll``), and G's step may run two of them
before one backward pass, which DDP's reducer does not allow. One flat all-reduce per module and
step is what DDP would send, minus the overlap of communication with the backward pass.

A process group has a timeout (``SEQGAN_DDP_TIMEOUT`` seconds, default 25): a rank that dies or
hangs makes the others stop with one line instead of waiting for ever. A check on rank 0 that
takes longer than that (huge ``eval_samples``) needs a larger timeout.
"""

from __future__ import annotations

import datetime
import os
import re
import sys
from dataclasses import dataclass

import torch
from torch import nn

from seqgan_core.errors import EXIT_FAILED, EXIT_LOST, LAUNCHED_ENV, LostPeers, SeqganError

TIMEOUT_ENV = "SEQGAN_DDP_TIMEOUT"
DEFAULT_TIMEOUT = 25.0  # seconds: a hung rank ends the others in this + torchrun's 30 s grace (a dead one at once)
RANK_SEED_OFFSET = 5_000_011  # rank r draws noise and real data from seed + r x this


@dataclass
class Context:
    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    backend: str

    @property
    def writer(self) -> bool:
        """Rank 0 alone writes the run folder and prints progress."""
        return self.rank == 0


_context: Context | None = None


# what torchrun sets for each rank: (name, smallest value); checked once, each in one line
RANK_ENV = (("WORLD_SIZE", 1), ("RANK", 0), ("LOCAL_RANK", 0), ("LOCAL_WORLD_SIZE", 1), ("GROUP_RANK", 0),
            ("MASTER_PORT", 1))
LAUNCHER_PID_ENV = "SEQGAN_LAUNCHER_PID"  # set by launch(): each rank dies with this process


def env_int(name: str, default: int) -> int:
    """An integer environment variable of torchrun's; anything else is one line naming it."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    least = dict(RANK_ENV).get(name, 0)
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or number < least:
        raise SeqganError(f"environment variable {name}={value!r} must be a whole number of at least {least} "
                          "(torchrun sets it for each process); unset it to train in one process")
    return number


def check_environment() -> None:
    """Every variable torchrun sets, checked before any work: numbers, and a complete set once
    WORLD_SIZE says there are several processes."""
    values = {name: env_int(name, -1) for name, _ in RANK_ENV}
    size = values["WORLD_SIZE"]
    if size > 1:
        missing = [name for name in ("RANK",) if values[name] < 0]
        if missing:
            raise SeqganError(f"WORLD_SIZE={size} is set but {', '.join(missing)} is not: start data-parallel "
                              "training with `seqgan train --nproc N` or torchrun, or unset WORLD_SIZE")
        if values["RANK"] >= size:
            raise SeqganError(f"RANK={values['RANK']} is not below WORLD_SIZE={size}; start the processes with "
                              "torchrun or `seqgan train --nproc N`")
    if values["LOCAL_WORLD_SIZE"] > 0 and values["LOCAL_RANK"] >= values["LOCAL_WORLD_SIZE"]:
        raise SeqganError(f"LOCAL_RANK={values['LOCAL_RANK']} is not below LOCAL_WORLD_SIZE="
                          f"{values['LOCAL_WORLD_SIZE']}; start the processes with torchrun or `seqgan train --nproc N`")
    timeout()


def launched() -> bool:
    """True in a process that torchrun started as one of several."""
    return env_int("WORLD_SIZE", 1) > 1


def current() -> Context | None:
    """The process group this process belongs to, or None when it trains alone."""
    return _context


def world_size() -> int:
    return _context.world_size if _context else 1


def is_writer() -> bool:
    return _context is None or _context.writer


def timeout() -> float:
    value = os.environ.get(TIMEOUT_ENV, "")
    try:
        seconds = float(value) if value else DEFAULT_TIMEOUT
    except ValueError:
        raise SeqganError(f"{TIMEOUT_ENV} must be a number of seconds, got {value!r}") from None
    if not seconds > 0:
        raise SeqganError(f"{TIMEOUT_ENV} must be positive, got {value!r}")
    return seconds


def rank_device(name: str, local_rank: int) -> torch.device:
    """The device of one rank: cuda:LOCAL_RANK for cuda (or auto with a GPU), else the CPU."""
    from seqgan_core.runtime.device import resolve_device

    if name.startswith("cuda:"):
        raise SeqganError(f"--device {name} names one GPU, but every process needs its own; give --device cuda "
                          "(process r of a machine uses cuda:r)")
    device = resolve_device(name)
    if device.type != "cuda":
        return device
    if local_rank >= torch.cuda.device_count():
        raise SeqganError(f"process {local_rank} on this machine has no GPU: it has {torch.cuda.device_count()}; "
                          "start at most that many processes per machine")
    return torch.device("cuda", local_rank)


def setup(device_name: str) -> Context | None:
    """Join the process group torchrun prepared (gloo on the CPU, NCCL on CUDA); None when alone."""
    global _context
    if _context is not None or not launched():
        return _context
    import torch.distributed as dist

    check_environment()
    die_with_launcher()
    rank, size = env_int("RANK", 0), env_int("WORLD_SIZE", 1)
    local_rank = env_int("LOCAL_RANK", 0)
    device = rank_device(device_name, local_rank)
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    seconds = timeout()
    try:
        kwargs = {"device_id": device} if device.type == "cuda" else {}
        dist.init_process_group(backend, timeout=datetime.timedelta(seconds=seconds), **kwargs)
    except Exception as e:  # noqa: BLE001 - rendezvous failures come in many types
        raise SeqganError(f"process {rank} of {size} could not join the others ({_reason(e)})") from None
    _context = Context(rank, size, local_rank, device, backend)
    return _context


PR_SET_PDEATHSIG = 1  # prctl(2) option: the signal a process gets when its parent dies


def die_with_launcher() -> None:
    """A rank started by ``seqgan train --nproc`` stops with its launcher: the kernel sends it
    SIGTERM when the launcher dies (prctl PR_SET_PDEATHSIG, Linux), and SIGTERM stops a run
    between two steps and saves it. A launcher already gone before this ran is seen by the parent
    pid: the rank exits at once. Elsewhere (no prctl) the ranks outlive a killed launcher until
    their process group times out."""
    launcher = os.environ.get(LAUNCHER_PID_ENV, "")
    if not launcher.isdigit():
        return  # started by torchrun itself: torchrun's agent looks after its workers
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if not _alive(int(launcher)):
        raise LostPeers(f"the launcher (process {launcher}) is gone; this process stops too")
    if os.getppid() != int(launcher):  # started through another process: the death signal is its
        import threading

        threading.Thread(target=_watch_launcher, args=(int(launcher),), daemon=True,
                         name="seqgan-launcher-watch").start()


def _watch_launcher(pid: int, every: float = 1.0) -> None:
    """Poll the launcher; once it is gone, SIGTERM this process (which stops the run and saves)."""
    import signal
    import time

    while _alive(pid):
        time.sleep(every)
    os.kill(os.getpid(), signal.SIGTERM)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie, dead but not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def teardown(graceful: bool = True) -> None:
    """Leave the process group (``graceful=False``: only forget it, the process is about to exit)."""
    global _context
    if _context is None:
        return
    import torch.distributed as dist

    _context = None
    if graceful and dist.is_initialized():
        dist.destroy_process_group()


def _reason(e: BaseException) -> str:
    """The first sentence of a backend error, without gloo's source location."""
    lines = str(e).strip().splitlines()
    text = re.sub(r"^\[[^\]]*\]\s*", "", lines[0] if lines else "") or type(e).__name__
    return text.split(". ")[0].rstrip(".")[:160]


def _collective(what: str, fn, *args, **kwargs):
    """Run a collective; a lost or hung peer becomes one line instead of a traceback."""
    try:
        return fn(*args, **kwargs)
    except RuntimeError as e:  # DistBackendError and gloo's errors are RuntimeErrors
        ctx = _context
        who = f"process {ctx.rank} of {ctx.world_size}" if ctx else "this process"
        raise LostPeers(
            f"{who} lost the others during {what} ({_reason(e)}): a process died or hung "
            f"(the timeout is {timeout():g} s, {TIMEOUT_ENV}); the last checkpoint can be resumed with the "
            "same number of processes"
        ) from None


def seed_offset() -> int:
    """What this rank adds to the run's seed for its own noise and data streams (0 on rank 0)."""
    return _context.rank * RANK_SEED_OFFSET if _context else 0


def broadcast_modules(modules: list[nn.Module]) -> None:
    """Make every rank's weights (and buffers) rank 0's."""
    if _context is None:
        return
    import torch.distributed as dist

    for module in modules:
        for tensor in module.state_dict().values():
            _collective("the first broadcast of the weights", dist.broadcast, tensor, 0)


def average_gradients(module: nn.Module) -> None:
    """Average ``module``'s gradients over the ranks: one flat all-reduce (a no-op alone)."""
    if _context is None:
        return
    import torch.distributed as dist

    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])  # (total parameters,)
    _collective("a gradient all-reduce", dist.all_reduce, flat)
    flat /= _context.world_size
    offset = 0
    for g in grads:
        g.copy_(flat[offset:offset + g.numel()].view_as(g))
        offset += g.numel()


def agree(flags: list[int]) -> list[int]:
    """The maximum of each flag over the ranks: a stop seen anywhere is seen everywhere."""
    if _context is None:
        return list(flags)
    import torch.distributed as dist

    t = torch.tensor(flags, dtype=torch.int64, device=_context.device)
    _collective("the end-of-step agreement", dist.all_reduce, t, op=dist.ReduceOp.MAX)
    return [int(v) for v in t.tolist()]


def gather(obj) -> list:
    """``obj`` of every rank, in rank order, on every rank (small objects: RNG states)."""
    if _context is None:
        return [obj]
    import torch.distributed as dist

    out = [None] * _context.world_size
    _collective("a checkpoint", dist.all_gather_object, out, obj)
    return out


def fingerprint(modules: dict[str, nn.Module]) -> dict[str, tuple[float, float]]:
    """Sum and sum of squares of every module's weights, in float64: equal on ranks that agree."""
    out = {}
    for name, module in modules.items():
        with torch.no_grad():
            values = [t.detach().double() for t in module.state_dict().values() if t.is_floating_point()]
            out[name] = (sum(v.sum().item() for v in values), sum((v * v).sum().item() for v in values))
    return out


def check_consistent(modules: dict[str, nn.Module]) -> None:
    """Before a checkpoint: every rank must hold the same weights, or the run is no longer one run."""
    if _context is None:
        return
    prints = gather(fingerprint(modules))
    for rank, other in enumerate(prints[1:], 1):
        for name, value in other.items():
            if value != prints[0][name]:
                raise SeqganError(f"the {name} of process {rank} differs from process 0's: the processes "
                                  "no longer train one model (a bug; please report it)")


def refuse_other_world(saved: int, where: str) -> None:
    """A checkpoint resumes with the number of processes that wrote it."""
    now = world_size()
    if saved != now:
        how = "one process (no --nproc, no torchrun)" if saved == 1 else f"{saved} processes (--nproc {saved})"
        raise SeqganError(f"{where} was written by {saved} process(es) and this run has {now}; resume it with {how}")


def launch(nproc: int, argv: list[str]) -> int:
    """Run ``seqgan ARGV`` in ``nproc`` processes on this machine, as torchrun --standalone would.

    Returns rank 0's exit status (3: finished, not learned; 130: interrupted and saved; 1: a
    process died or hung, said here in one line while the survivors stay quiet).
    """
    import logging
    import signal
    import sys
    import uuid

    from torch.distributed.elastic.multiprocessing import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    # torchrun's agent logs every worker's exit as a warning or a traceback: the ranks say it in one line
    for name in list(logging.root.manager.loggerDict):  # each has its own level (LOGLEVEL)
        if name.startswith("torch.distributed"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # seqgan sets each rank's threads itself (threads.py)
    os.environ[LAUNCHED_ENV] = "1"
    os.environ[LAUNCHER_PID_ENV] = str(os.getpid())  # the ranks die with this process (die_with_launcher)
    config = LaunchConfig(min_nodes=1, max_nodes=1, nproc_per_node=nproc, run_id=str(uuid.uuid4()),
                          rdzv_backend="c10d", rdzv_endpoint="localhost:0", max_restarts=0,
                          monitor_interval=0.1)
    try:
        elastic_launch(config, sys.executable)("-m", "seqgan_core", *argv)
    except ChildFailedError as e:
        codes = {rank: failure.exitcode for rank, failure in e.failures.items()}
        resume = f"the last checkpoint resumes with --nproc {nproc}"
        # the first to die by a signal other than the SIGTERM the agent sends the survivors
        killed = sorted((failure.timestamp, rank) for rank, failure in e.failures.items()
                        if failure.exitcode < 0 and failure.exitcode != -signal.SIGTERM)
        if killed:  # the survivors lost it and said nothing (LostPeers.quiet): say which one died, once
            rank = killed[0][1]
            print(f"seqgan: error: process {rank} of {nproc} was killed by signal {-codes[rank]}; "
                  f"the others stopped; {resume}", file=sys.stderr)
            return EXIT_FAILED
        if all(code in (EXIT_LOST, -signal.SIGTERM) for code in codes.values()):
            hung = sorted(rank for rank, code in codes.items() if code == -signal.SIGTERM)
            which = f"process {hung[0]} of {nproc}" if hung else "a process"
            print(f"seqgan: error: {which} stopped answering for {timeout():g} s ({TIMEOUT_ENV}); "
                  f"the others stopped; {resume}", file=sys.stderr)
            return EXIT_FAILED
        # a rank that failed for a reason of its own said why, in its own line
        if codes.get(0) not in (None, EXIT_LOST):
            return codes[0]
        return next((code for code in codes.values() if code > 0 and code != EXIT_LOST), EXIT_FAILED)
    except SignalException:
        return 130  # rank 0 said where it saved
    return 0
