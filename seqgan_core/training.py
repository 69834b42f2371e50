"""The training loop: steps, periodic distance checks, early stopping, checkpoints, callbacks.

The loop knows nothing about architectures: a GAN recipe (see ``GANS``) owns its models,
optimisers and one ``step``; the ``Trainer`` owns seeding, stopping, divergence, which generator is
kept, and a ``state_dict`` from which an interrupted run resumes bit-for-bit on the CPU.
A recipe exposes ``generator`` (what trains), ``sampler_generator`` (what is checked and
exported: the same module, or a moving average of it) and ``parts()`` (everything with state).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

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
CHECKPOINT_VERSION = 1
DISTANCE_REFERENCE_SIZE = 20_000  # real sequences behind tv/js stopping distances (cheap to build)
EVAL_SEED_OFFSET = 1_000_003  # checks sample with their own seed, so they never shift training's RNG
DATA_SEED_OFFSET = 2_000_029  # real data has its own stream, apart from G's noise


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
    trainer: Trainer


@dataclass
class TrainResult:
    generator: nn.Module  # the generator to export: final, or best checked (see stop_reason)
    config: TrainConfig
    steps: int
    best_distance: float
    best_step: int
    stop_reason: str  # early_stopping | max_steps | interrupted | diverged
    seconds: float
    history: list[dict] = field(default_factory=list)  # one entry per check
    message: str = ""  # for diverged: which loss went bad at which step


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise SeqganError(f"device {name!r} requested but CUDA is not available; use --device cpu")
        try:
            device = torch.device(name)
        except RuntimeError:
            raise SeqganError(f"unknown device {name!r}; use cuda or cuda:N") from None
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise SeqganError(f"device {name!r} does not exist: this machine has {torch.cuda.device_count()} GPU(s)")
        return device
    raise SeqganError(f"unknown device {name!r}; use auto, cpu or cuda")


def distance_function(rule: Rule, name: str, invalid_weight: float = 1.0) -> Callable[[torch.Tensor], float]:
    """``rule``: the rule's own distance. ``tv`` / ``js``: pooled token distance to the rule's real
    data plus ``invalid_weight`` x the share of invalid sequences. Both terms are lower bounds of
    the distance between the generated and real distributions over whole sequences."""
    if name == "rule":
        return rule.score
    if name not in ("tv", "js"):
        raise SeqganError(f"unknown distance {name!r}; use rule, tv or js")
    reference = Reference.from_rule(rule, n=DISTANCE_REFERENCE_SIZE)
    pooled = reference.tv if name == "tv" else reference.js

    def distance(seqs: torch.Tensor) -> float:
        invalid = 1.0 - rule.valid(seqs).float().mean().item()
        return pooled(seqs) + invalid_weight * invalid

    return distance


class Trainer:
    def __init__(self, rule: Rule, config: TrainConfig, callbacks: list[Callable[[Progress], None]] = ()):
        self.rule, self.config, self.callbacks = rule, config.validate(), list(callbacks)
        self.device = resolve_device(config.device)
        self.distance_of = distance_function(rule, config.distance, config.invalid_weight)
        torch.manual_seed(config.seed)  # model init and G's noise
        # real sequences, on the CPU; its own stream, so real data and noise never share bits
        self.data_rng = torch.Generator().manual_seed(config.seed + DATA_SEED_OFFSET)
        self.gan = GANS[config.gan](rule, config, self.device)
        self.stopper = EarlyStopping(patience=config.patience, min_delta=config.min_delta)
        self.best_state: dict | None = None  # the checked generator at its best distance
        self.history: list[dict] = []
        self.step = 0
        self.seconds = 0.0
        self.stop_requested = False  # set by a signal handler; honoured between steps

    def real(self, n: int) -> torch.Tensor:
        return self.rule.sample_checked(n, self.data_rng).to(self.device)

    def sample(self, n: int, generator: nn.Module | None = None) -> torch.Tensor:
        """``n`` sequences from the checked generator (or ``generator``), on a fixed seed of their own."""
        checked = generator if generator is not None else self.gan.sampler_generator
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(self.config.seed + EVAL_SEED_OFFSET)
            was_training = checked.training
            checked.eval()
            with torch.no_grad():
                out = checked.sample(n).cpu()
            checked.train(was_training)
        return out

    def run(self) -> TrainResult:
        cfg, gan = self.config, self.gan
        started = time.perf_counter() - self.seconds
        stop_reason, message = "max_steps", ""
        while self.step < cfg.max_steps:
            if self.stop_requested:
                stop_reason = "interrupted"
                break
            self.step += 1
            gan.generator.train()
            losses, generated = gan.step(self.real, self.step)
            bad = [k for k, v in losses.items() if not math.isfinite(v)]
            if bad:
                stop_reason = "diverged"
                message = f"loss {bad[0]} became {losses[bad[0]]} at step {self.step}"
                break
            distance = None
            if self.step % cfg.eval_every == 0:
                if cfg.eval_samples:
                    generated = self.sample(cfg.eval_samples)
                distance = self.distance_of(generated.cpu())
                if not math.isfinite(distance):
                    raise SeqganError(f"rule {self.rule.name!r} returned distance {distance} at step {self.step}")
                if self.stopper.update(distance, self.step):
                    self.best_state = copy.deepcopy(gan.sampler_generator.state_dict())
                self.history.append({"step": self.step, "distance": distance, "best": self.stopper.best, **losses})
            progress = Progress(self.step, cfg.max_steps, losses, distance, self.stopper.best, generated,
                                self.sample, self)
            for callback in self.callbacks:
                callback(progress)
            self.seconds = time.perf_counter() - started
            if self.stopper.should_stop:
                stop_reason = "early_stopping"
                break
        self.seconds = time.perf_counter() - started
        return self.result(stop_reason, message)

    def result(self, stop_reason: str, message: str = "") -> TrainResult:
        generator = copy.deepcopy(self.gan.sampler_generator)
        keep_best = self.config.export == "best" or stop_reason in ("diverged", "interrupted")
        if keep_best and self.best_state is not None:
            generator.load_state_dict(self.best_state)
        return TrainResult(
            generator=generator.eval(), config=self.config, steps=self.step,
            best_distance=self.stopper.best, best_step=self.stopper.best_step,
            stop_reason=stop_reason, seconds=self.seconds, history=list(self.history), message=message,
        )

    # -- checkpoints: plain tensors and containers only, so torch.load(weights_only=True) opens them

    def state_dict(self) -> dict:
        rng = {"torch": torch.get_rng_state(), "data": self.data_rng.get_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        return {
            "checkpoint_version": CHECKPOINT_VERSION,
            "rule": self.rule.name,
            "config": self.config.to_dict(),
            "step": self.step,
            "seconds": self.seconds,
            "parts": {name: part.state_dict() for name, part in self.gan.parts().items()},
            "rng": rng,
            "stopper": asdict(self.stopper),
            "best_state": self.best_state,
            "history": self.history,
        }

    def load_state_dict(self, state: dict) -> None:
        for name, part in self.gan.parts().items():
            part.load_state_dict(state["parts"][name])
        torch.set_rng_state(state["rng"]["torch"])
        self.data_rng.set_state(state["rng"]["data"])
        if "cuda" in state["rng"] and self.device.type == "cuda":
            torch.cuda.set_rng_state(state["rng"]["cuda"], self.device)
        self.stopper = EarlyStopping(**state["stopper"])
        self.best_state = state["best_state"]
        self.history = list(state["history"])
        self.step = int(state["step"])
        self.seconds = float(state["seconds"])


def train(rule: Rule, config: TrainConfig, callbacks: list[Callable[[Progress], None]] = ()) -> TrainResult:
    """Train from scratch; see ``Trainer`` for resuming."""
    return Trainer(rule, config, callbacks).run()
