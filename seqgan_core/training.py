"""The training loop: steps, periodic distance checks, early stopping, progress callbacks.

The loop knows nothing about architectures: a GAN recipe (see ``GANS``) owns its models,
optimisers and one ``step``; the loop owns seeding, stopping and which generator is kept.
A recipe exposes ``generator`` (what trains) and ``sampler_generator`` (what is checked and
exported: the same module, or an exponential moving average of it).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from .article import ArticleGAN
from .config import TrainConfig
from .early_stopping import EarlyStopping
from .errors import SeqganError
from .metrics import Reference
from .rule import Rule
from .sequence_gan import SequenceGAN

GANS = {"article": ArticleGAN, "sequence": SequenceGAN}


@dataclass
class Progress:
    """What callbacks see after every step."""

    step: int
    max_steps: int
    losses: dict[str, float]
    distance: float | None  # None on steps without a check
    best: float
    generated: torch.Tensor  # (n, length) indices G produced for this step or check
    sample: Callable[[int], torch.Tensor]  # n -> (n, length) from the generator being checked


@dataclass
class TrainResult:
    generator: nn.Module  # the generator to export (final or best, per config.export)
    config: TrainConfig
    steps: int
    best_distance: float
    best_step: int
    stop_reason: str  # "early_stopping" | "max_steps"
    seconds: float
    history: list[dict] = field(default_factory=list)  # one entry per check


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise SeqganError(f"device {name!r} requested but CUDA is not available; use --device cpu")
        return torch.device(name)
    raise SeqganError(f"unknown device {name!r}; use auto, cpu or cuda")


def distance_function(rule: Rule, name: str, reference: Reference | None = None) -> Callable[[torch.Tensor], float]:
    """``rule``: the rule's own distance; ``tv`` / ``js``: pooled token distance to real data."""
    if name == "rule":
        return rule.score
    reference = reference or Reference.from_rule(rule)
    if name == "tv":
        return reference.tv
    if name == "js":
        return reference.js
    raise SeqganError(f"unknown distance {name!r}; use rule, tv or js")


def train(
    rule: Rule,
    config: TrainConfig,
    callbacks: list[Callable[[Progress], None]] = (),
) -> TrainResult:
    config.validate()
    device = resolve_device(config.device)
    distance_of = distance_function(rule, config.distance)
    torch.manual_seed(config.seed)  # model init and G's noise
    data_rng = torch.Generator().manual_seed(config.seed)  # real sequences, on the CPU
    gan = GANS[config.gan](rule, config, device)
    checked = gan.sampler_generator

    def real(n: int) -> torch.Tensor:
        return rule.sample_checked(n, data_rng).to(device)

    def sample(n: int) -> torch.Tensor:
        was_training = checked.training
        checked.eval()
        with torch.no_grad():
            out = checked.sample(n).cpu()
        checked.train(was_training)
        return out

    stopper = EarlyStopping(patience=config.patience, min_delta=config.min_delta)
    best_state = None
    history: list[dict] = []
    started = time.perf_counter()
    stop_reason = "max_steps"
    step = 0
    for step in range(1, config.max_steps + 1):
        gan.generator.train()
        losses, generated = gan.step(real)
        distance = None
        if step % config.eval_every == 0:
            if config.eval_samples:
                generated = sample(config.eval_samples)
            distance = distance_of(generated.cpu())
            if not math.isfinite(distance):
                raise SeqganError(f"rule {rule.name!r} returned distance {distance} at step {step}")
            if stopper.update(distance, step) and config.export == "best":
                best_state = copy.deepcopy(checked.state_dict())
            history.append({"step": step, "distance": distance, "best": stopper.best, **losses})
        progress = Progress(step, config.max_steps, losses, distance, stopper.best, generated, sample)
        for callback in callbacks:
            callback(progress)
        if stopper.should_stop:
            stop_reason = "early_stopping"
            break
    seconds = time.perf_counter() - started
    if best_state is not None:
        checked.load_state_dict(best_state)
    checked.eval()
    return TrainResult(
        generator=checked,
        config=config,
        steps=step,
        best_distance=stopper.best,
        best_step=stopper.best_step,
        stop_reason=stop_reason,
        seconds=seconds,
        history=history,
    )
