"""One object for where and how a run executes: device, data-parallel rank, threads, random streams.

The trainer builds a ``Runtime`` once (``Runtime.create``) and hands it to the recipe
(``Recipe(rule, options, runtime)``). A recipe updates a model with ``runtime.step(loss, optimizer,
module)``: backward, gradients averaged over the ranks when several train (one flat all-reduce per
module, ``distributed.average_gradients``), optimiser step — so no recipe calls a collective
itself. Every seed a run derives from its own is a named stream here (``STREAMS``): one place that
says which numbers feed what, so no two streams share bits.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from seqgan_core.evaluation.temperature import CHOICE_SEED_OFFSET
from seqgan_core.runtime import distributed
from seqgan_core.runtime.device import resolve_device

# stream -> what it adds to the run's seed. Rank r of a data-parallel run adds r x RANK on top for
# the streams in PER_RANK (its own noise and data); every rank shares the others.
STREAMS = {
    "noise": 0,  # model init (the same on every rank) and G's noise: torch's global RNG
    "eval": 1_000_003,  # checks sample with their own seed, so they never shift training's RNG
    "data": 2_000_029,  # real data has its own stream, apart from G's noise
    "check_noise": 3_000_017,  # real batches that measure the check's own noise
    "heldout": 4_000_037,  # the fixed held-out set of NLL checks
    "rank": distributed.RANK_SEED_OFFSET,  # rank r draws noise and real data from seed + r x this
    "choice": CHOICE_SEED_OFFSET,  # the samples that choose a temperature, apart from the verdict's
    "rollout": 6_000_011,  # Monte Carlo rollouts of policy-gradient recipes
}
PER_RANK = ("noise", "data", "rollout")


@dataclass
class Runtime:
    device: torch.device  # where the models live
    seed: int = 0  # the run's seed; every stream is an offset of it
    rank: int = 0  # this process among the data-parallel ones (0 alone)
    world_size: int = 1  # processes training the one run (1 alone)
    threads: int = 0  # torch intra-op threads asked for; 0 = chosen from the model's size (threads.py)

    @classmethod
    def create(cls, device: str = "auto", seed: int = 0, threads: int = 0) -> Runtime:
        """This process's runtime: the process group's rank and device when torchrun started it
        (``distributed.setup`` ran), else one process on ``device``."""
        ctx = distributed.current()
        if ctx is None:
            return cls(resolve_device(device), seed, 0, 1, threads)
        return cls(ctx.device, seed, ctx.rank, ctx.world_size, threads)

    @property
    def is_main(self) -> bool:
        """Rank 0 alone checks, logs and writes the run folder."""
        return self.rank == 0

    @property
    def data_parallel(self) -> bool:
        return self.world_size > 1

    # -- random streams

    def seed_for(self, stream: str) -> int:
        """The seed of one named stream (``STREAMS``), this rank's own for the per-rank ones."""
        if stream not in STREAMS:
            raise KeyError(f"unknown random stream {stream!r}; streams: {', '.join(STREAMS)}")
        rank = self.rank * STREAMS["rank"] if stream in PER_RANK else 0
        return self.seed + STREAMS[stream] + rank

    def generator(self, stream: str, device: torch.device | str = "cpu") -> torch.Generator:
        """A ``torch.Generator`` seeded for ``stream`` (on the CPU unless ``device``)."""
        return torch.Generator(device=device).manual_seed(self.seed_for(stream))

    # -- gradients across ranks

    def average_gradients(self, module: nn.Module) -> None:
        """``module``'s gradients averaged over the ranks (nothing to do alone)."""
        if self.data_parallel:
            distributed.average_gradients(module)

    def step(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer, *modules: nn.Module) -> None:
        """One update: gradients cleared, ``loss`` backward, each of ``modules``' gradients averaged
        over the ranks (each module's own all-reduce: D's never travel during G's step), then the
        optimiser's step."""
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        for module in modules:
            self.average_gradients(module)
        optimizer.step()

    def broadcast(self, modules: list[nn.Module]) -> None:
        """Every rank's weights made rank 0's (after building them from the same seed)."""
        if self.data_parallel:
            distributed.broadcast_modules(modules)

    def agree(self, flags: list[int]) -> list[int]:
        """The maximum of each flag over the ranks."""
        return distributed.agree(flags) if self.data_parallel else list(flags)

    def gather(self, obj) -> list:
        """``obj`` of every rank, in rank order (small objects: random-number states)."""
        return distributed.gather(obj) if self.data_parallel else [obj]

    def check_consistent(self, modules: dict[str, nn.Module]) -> None:
        """Before a checkpoint: every rank must hold the same weights (nothing to check alone)."""
        if self.data_parallel:
            distributed.check_consistent(modules)

    def refuse_other_world(self, saved: int, where: str) -> None:
        """A checkpoint resumes with the number of processes that wrote it."""
        distributed.refuse_other_world(saved, where)
