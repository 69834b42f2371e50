"""The training loop: steps, checks, phases, early stopping that cannot declare victory early.

The loop knows nothing about architectures: a recipe (the ``Recipe`` contract,
``seqgan_core.engine.recipes.base``) owns its models, optimisers, phases and one ``step``; the
``Trainer`` owns the runtime (device, ranks, random streams: ``seqgan_core.runtime.runtime``),
checks, stopping, divergence, which generator is kept, and a ``state_dict`` from which an interrupted run resumes bit-for-bit
on the CPU.

Every ``eval_every`` steps (and at the end of each phase) a **check** samples ``eval_samples``
sequences from the recipe's ``eval_generator`` on the same noise each time (common random
numbers, so successive checks are comparable) and measures validity, pooled token TV and the
stopping distance; autoregressive generators also get their per-token NLL of a fixed held-out
set. A phase ends when its signal (held-out NLL in the maximum-likelihood phase, the distance
otherwise) has not improved by more than its own noise for ``patience`` checks; the last phase
ends the run — but never while validity is far below real data's (``until_valid``), only at
``max_steps``. The generator kept is the one with the best distance over all checks.

With ``stop_on="heldout_nll"`` (data runs: ``api.plan``) held-out NLL is the signal of every
phase and picks the generator kept, and it is not reset between phases: a later phase must beat
the best held-out NLL so far within ``patience`` checks. The run ends when the model stops
generalising to sequences it never saw, whatever the distance to the training part does — and
at the end of a phase whose last held-out NLL is worse than the best by more than noise, or
at two such checks in a row (``memorising``): the model has begun to learn the training part by
heart, and the next phase would only start from it.
"""

from __future__ import annotations

import copy
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from seqgan_core.runtime.runtime import STREAMS, Runtime
from seqgan_core.engine.config import TrainConfig
from seqgan_core.engine.early_stopping import EarlyStopping
from seqgan_core.errors import SeqganError
from seqgan_core.evaluation.metrics import paired_nll_se, per_token_nll, quality_distance, reference, token_mask
from seqgan_core.engine.recipes import get_recipe
from seqgan_core.rules.rule import Rule

CHECKPOINT_VERSION = 2
EVAL_SEED_OFFSET = STREAMS["eval"]  # checks sample with their own seed (callers pass offsets of it)
NOISE_REPEATS = 4  # real batches behind the noise estimate
HELDOUT_SIZE = 1000  # held-out sequences behind the NLL check
CHUNK_CELLS = 1 << 24  # logits cells held at once when checks sample or score: 64 MB of float32, at any V
FAR_BELOW = 0.9  # validity under this share of real data's is "far below"


@dataclass
class Progress:
    """What callbacks see after every step."""

    step: int
    max_steps: int
    phase: str
    losses: dict[str, float]
    check: dict | None  # the history row of this step's check, None on steps without one
    best: float  # best distance so far
    generated: torch.Tensor | None  # (n, length) indices G produced this step; None if it produced none (MLE)
    sample: Callable[[int], torch.Tensor]  # n -> (n, length) from the generator being checked
    trainer: Trainer


@dataclass
class TrainResult:
    generator: nn.Module  # the generator to save: best checked or final (config.keep)
    config: TrainConfig
    steps: int
    best_distance: float
    best_step: int
    stop_reason: str  # early_stopping | memorising (data) | budget (the last phase's) | max_steps | interrupted | diverged
    seconds: float
    history: list[dict] = field(default_factory=list)  # one row per check
    message: str = ""  # diverged: which loss went bad at which step; memorising: the rise that ended it
    real_validity: float = 1.0  # share of the rule's own samples that it accepts
    kept_on: str = "distance"  # what picked the generator kept: distance | heldout_nll
    best_nll: float | None = None  # held-out NLL of the generator kept, when it was picked by it
    cuts: list[int] = field(default_factory=list)  # steps at which a plateau cut the learning rates
    thread_changes: list[list] = field(default_factory=list)  # [step, threads, others' cores] (threads.py)


@dataclass
class Noise:
    """What real data itself scores on a check of this size: the distance's floor and spread."""

    floor: float  # mean distance of real batches
    spread: float  # their standard deviation
    validity: float  # share of real sequences the rule accepts


class NonFiniteDistance(SeqganError):
    """A check's distance was NaN or infinite: the run cannot be judged any further."""


class StopRequest:
    """Set ``requested`` (from a signal handler, another thread...) to stop between two steps."""

    requested = False


class Trainer:
    def __init__(self, rule: Rule, config: TrainConfig, callbacks: list[Callable[[Progress], None]] = (),
                 stop: StopRequest | None = None):
        self.rule, self.config, self.callbacks = rule, config.validate(), list(callbacks)
        self.runtime = Runtime.create(config.device, config.seed, config.threads)
        recipe_cls = get_recipe(config.recipe)
        if self.runtime.data_parallel and not recipe_cls.data_parallel:
            raise SeqganError(f"the {config.recipe} recipe trains in one process only; run it without torchrun "
                              "or --nproc")
        self.device = self.runtime.device
        torch.manual_seed(config.seed)  # model init (the same on every rank) and G's noise
        # real sequences, on the CPU; its own stream, so real data and noise never share bits
        # (and each rank its own, rank 0's being a one-process run's)
        self.data_rng = self.runtime.generator("data")
        self.recipe = recipe_cls(rule, config.recipe_options(), self.runtime)
        if self.runtime.data_parallel:
            self.runtime.broadcast(list(self.modules().values()))
            if self.runtime.rank:
                torch.manual_seed(self.runtime.seed_for("noise"))  # this rank's own noise, after the shared init
        self.plateau = EarlyStopping(patience=config.patience, min_delta=config.min_delta or 0.0)
        self.best = EarlyStopping(patience=config.patience)  # over stop_on's signal: the generator kept
        self.best_distance = math.inf  # best distance of any check, whatever picks the generator kept
        self.best_state: dict | None = None  # the checked generator at its best distance
        self.history: list[dict] = []
        self.cuts: list[int] = []  # steps at which a plateau cut the learning rates (recipe.cut_learning_rates)
        self.thread_changes: list[list] = []  # [step, threads, others' cores]: threads.ThreadGovernor, this process
        self.step = 0
        self.seconds = 0.0
        self.stop = stop or StopRequest()  # honoured between steps
        self._noise: Noise | None = None
        self.heldout_terms: tuple[torch.Tensor, torch.Tensor] | None = None  # last held-out NLL, per sequence
        self.best_nll_terms: torch.Tensor | None = None  # ... at the phase's best check
        self._heldout: torch.Tensor | None = None
        self.on_nll = config.stop_on == "heldout_nll"
        if self.on_nll and not self.recipe.autoregressive:
            raise SeqganError("stop_on=heldout_nll needs an autoregressive generator (one that gives likelihoods); "
                              "use --preset autoregressive or --set stop_on=distance")

    @property
    def stop_requested(self) -> bool:
        return self.stop.requested

    @stop_requested.setter
    def stop_requested(self, value: bool) -> None:
        self.stop.requested = value

    def modules(self) -> dict[str, nn.Module]:
        """The recipe's models (not its optimisers): what every rank must hold identically."""
        return self.recipe.trainable()

    # -- real data and checks

    def real(self, n: int) -> torch.Tensor:
        return self.rule.sample_checked(n, self.data_rng).to(self.device)

    def distance(self, seqs: torch.Tensor) -> float:
        if self.config.distance == "rule":
            return self.rule.score(seqs)
        return quality_distance(seqs, reference(self.rule))

    @property
    def noise(self) -> Noise:
        """Real data's own score on checks of this size (measured once, on its own seed)."""
        if self._noise is None:
            n = self.config.eval_samples or self.recipe.batch_size
            g = self.runtime.generator("check_noise")
            batches = [self.rule.sample_checked(n, g) for _ in range(NOISE_REPEATS)]
            # a rule's NaN or infinite distance is answered at the check that meets it (NonFiniteDistance),
            # in one line naming the rule; the noise is the finite scores' alone, so the run's end still saves
            scores = [score for score in (self.distance(b) for b in batches) if math.isfinite(score)]
            validity = statistics.fmean(self.rule.valid(b).float().mean().item() for b in batches)
            self._noise = Noise(statistics.fmean(scores) if scores else math.nan,
                                statistics.stdev(scores) if len(scores) > 1 else 0.0, validity)
        return self._noise

    @property
    def heldout(self) -> torch.Tensor:
        """A fixed held-out set ``(n, L)`` for the NLL check of autoregressive generators."""
        if self._heldout is None:
            g = self.runtime.generator("heldout")
            self._heldout = self.rule.canonical(self.rule.heldout_checked(HELDOUT_SIZE, g))
        return self._heldout

    def sample(self, n: int, generator: nn.Module | None = None, temperature: float = 1.0,
               seed_offset: int = EVAL_SEED_OFFSET, min_p: float = 0.0) -> torch.Tensor:
        """``n`` sequences from the checked generator (or ``generator``) at ``temperature`` and
        ``min_p`` (models/sampling.py), on a fixed seed of their own."""
        checked = generator if generator is not None else self.recipe.eval_generator
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(self.config.seed + seed_offset)
            was_training = checked.training
            checked.eval()
            with torch.no_grad():  # in chunks: 5 000 rows x V = 50 000 would be 1 GB of logits at once
                rows = max(1, CHUNK_CELLS // len(self.rule.vocab))
                out = torch.cat([checked.sample(min(rows, n - i), temperature, min_p).cpu() for i in range(0, n, rows)])
            checked.train(was_training)
        return out

    def heldout_nll(self, generator: nn.Module, seqs: torch.Tensor | None = None) -> tuple[float, float]:
        """Per-token NLL of the held-out set (or of ``seqs`` ``(n, L)``), and its standard error. For
        the held-out set, keeps the per-sequence NLL sums ``(n,)`` in ``self.heldout_terms`` for
        paired comparisons between checks."""
        own = seqs is None
        seqs = self.heldout if own else self.rule.canonical(seqs)
        was_training = generator.training
        generator.eval()
        rows = max(1, CHUNK_CELLS // (len(self.rule.vocab) * seqs.shape[1]))  # logits (rows, L, V) at once
        with torch.no_grad():
            log_probs = torch.cat([generator.token_log_probs(seqs[i:i + rows].to(self.device)).cpu()
                                   for i in range(0, len(seqs), rows)])
        generator.train(was_training)
        if own:
            mask = token_mask(seqs, self.rule.eos_index).to(log_probs.dtype)  # (n, L)
            self.heldout_terms = (-(log_probs * mask).sum(-1), mask.sum(-1))  # (n,), (n,)
        return per_token_nll(log_probs, seqs, self.rule.eos_index)

    def check(self, generated: torch.Tensor, losses: dict) -> dict:
        """Measure the checked generator; returns the history row."""
        cfg, recipe = self.config, self.recipe
        if cfg.eval_samples or generated is None:  # a maximum-likelihood step generates nothing of its own
            seqs = self.sample(cfg.eval_samples or self.recipe.batch_size)
        else:
            seqs = generated.cpu()
        seqs = self.rule.canonical(seqs)
        distance = self.distance(seqs)
        if not math.isfinite(distance):
            raise NonFiniteDistance(f"rule {self.rule.name!r} (plugin {self.rule.plugin}) returned distance "
                                    f"{distance} at step {self.step}")
        ref = reference(self.rule)
        row = {"step": self.step, "phase": recipe.phase, "lr_scale": float(recipe.lr_scale),
               "distance": distance,
               "validity": self.rule.valid(seqs).float().mean().item(), "tv": ref.tv(seqs)}
        if recipe.autoregressive:
            row["nll"], row["nll_se"] = self.heldout_nll(recipe.eval_generator)
        self.best_distance = min(self.best_distance, distance)
        kept_signal = row["nll"] if self.on_nll else distance
        if kept_signal < self.best.best:  # the generator kept: the best signal over all checks
            self.best.update(kept_signal, self.step)
            self.best_state = copy.deepcopy(recipe.eval_generator.state_dict())
        row["best"] = self.best_distance
        if self.on_nll:
            row["best_nll"] = self.best.best
        # the phase's own signal, and the smallest change of it that is more than noise
        on_nll = recipe.current.signal == "heldout_nll" or self.on_nll
        signal = row["nll"] if on_nll else distance
        if cfg.min_delta is None and on_nll:
            # the same held-out sequences at every check: the noise of a change is the paired one
            self.plateau.min_delta = (0.0 if self.best_nll_terms is None else
                                      2 * paired_nll_se(self.best_nll_terms, self.heldout_terms[0], self.heldout_terms[1]))
        elif cfg.min_delta is None and self.plateau.best == math.inf:
            self.plateau.min_delta = 2 * self.noise.spread
        if self.plateau.update(signal, self.step) and on_nll:
            self.best_nll_terms = self.heldout_terms[0]
        if self.on_nll:  # held-out NLL above the best by more than this check's noise: see `memorising`
            row["above_best"] = self.best.best_step < self.step and row["nll"] - self.best.best > self.plateau.min_delta
        row["losses"] = dict(losses)
        self.history.append(row)
        return row

    def memorising(self, row: dict | None, phase_ends: bool) -> str:
        """For a data run at a check: why training on would only memorise, or "".

        A check whose held-out NLL is above the best so far by more than its own noise (the
        paired threshold of ``check``: ``row["above_best"]``) says the model now generalises worse
        than it did: it is learning the training part by heart. That ends the run at the end of a
        phase (a later phase would start from this model and train on the same sequences, and the
        generator kept is the best one anyway), or as soon as two checks in a row say it — a rise,
        not a plateau, so waiting out ``patience`` only costs time. On the word list and a
        10 000-line file the adversarial phase never came back to maximum likelihood's best
        (README, "--data")."""
        if row is None or not row.get("above_best"):
            return ""
        # every check of a data run carries the flag: the one before this is history[-2]
        twice = len(self.history) >= 2 and self.history[-1] is row and self.history[-2].get("above_best")
        if not (phase_ends or twice):
            return ""
        gap = row["nll"] - self.best.best
        when = f"at the end of the {row['phase']} phase" if phase_ends else "for a second check in a row"
        return (f"held-out NLL {row['nll']:.4f} is {gap:.4f} above its best {self.best.best:.4f} (step "
                f"{self.best.best_step}) {when}, more than the check's noise ({self.plateau.min_delta:.4f}): "
                "the model memorises the training part, so training ends here")

    def far_below(self, row: dict | None) -> bool:
        """Validity of the last check far below real data's: the run has not learned the rule."""
        return row is not None and row["validity"] < FAR_BELOW * self.noise.validity

    # -- the loop

    def run(self) -> TrainResult:
        """Train until a phase budget, a plateau, ``max_steps``, a stop request or divergence.

        Under data-parallel training rank 0 alone checks; what happens after each step (go on,
        next phase, stop) is agreed by all ranks at once, so every rank stops at the same step (a
        stop requested by a callback, after the agreement, takes effect one step later).
        """
        cfg, recipe = self.config, self.recipe
        writer, parallel = self.runtime.is_main, self.runtime.data_parallel
        started = time.perf_counter() - self.seconds
        stop_reason, message, last = "max_steps", "", None
        agreed_stop = self.runtime.agree([int(self.stop_requested)])[0]
        while self.step < cfg.max_steps:
            if agreed_stop if parallel else self.stop_requested:
                stop_reason = "interrupted"
                break
            self.step += 1
            if not recipe.generator.training:  # a check leaves it in eval mode
                recipe.generator.train()
            losses, generated = recipe.step(self.real, self.step)
            bad = [k for k, v in losses.items() if not math.isfinite(v)]
            budget_spent = recipe.phase_done(self.step)
            row = None
            failed_check = ""
            if writer and not bad and (self.step % cfg.eval_every == 0 or budget_spent
                                       or self.step == cfg.max_steps):
                try:
                    row = last = self.check(generated, losses)
                except NonFiniteDistance as e:  # ends the run like a bad loss: the best generator is kept
                    failed_check = str(e)
            # a data run stops when held-out NLL stops improving, whatever the phase (it is the point
            # where the model stops generalising); otherwise the recipe may ask for part of a budget first
            plateau = row is not None and self.plateau.should_stop and (self.on_nll or recipe.plateau_counts(self.step))
            may_end = not (cfg.until_valid and self.far_below(last))
            why_memorising = self.memorising(row, budget_spent or plateau)  # rank 0's check; agreed below
            # one small all-reduce: a signal, a bad loss or check, or rank 0's decision reaches every rank
            agreed_stop, any_bad, plateau, may_end, memorising = self.runtime.agree(
                [int(self.stop_requested), int(bool(bad or failed_check)), int(plateau), int(may_end and writer),
                 int(bool(why_memorising))])
            if any_bad:
                stop_reason = "diverged"
                message = (f"loss {bad[0]} became {losses[bad[0]]} at step {self.step}" if bad else failed_check
                           or f"training diverged on another process at step {self.step}")
                break
            progress = Progress(self.step, cfg.max_steps, recipe.phase, losses, row, self.best_distance, generated,
                                self.sample, self)
            for callback in self.callbacks:
                callback(progress)
            self.seconds = time.perf_counter() - started
            if memorising:  # a data run whose model generalises worse than its best: it learns by heart
                stop_reason, message = "memorising", why_memorising
                break
            if plateau and not budget_spent and recipe.cut_learning_rates(self.step):
                self.plateau.since_best = 0  # the phase goes on at its lower rates, against its best so far
                self.cuts.append(self.step)
                continue
            if budget_spent or plateau:
                if recipe.next_phase(self.step):
                    if self.on_nll:  # one signal for the whole run: a new phase must beat the best so far
                        self.plateau.since_best = 0
                    else:
                        self.plateau.reset(None if cfg.min_delta is None else cfg.min_delta)
                    continue
                if budget_spent:  # the last phase used its own budget (maximum likelihood alone)
                    stop_reason = "budget"
                    break
                if may_end:
                    stop_reason = "early_stopping"
                    break
        self.seconds = time.perf_counter() - started
        return self.result(stop_reason, message)

    def result(self, stop_reason: str, message: str = "") -> TrainResult:
        generator = copy.deepcopy(self.recipe.eval_generator)
        keep_best = self.config.keep == "best" or stop_reason in ("diverged", "interrupted")
        if keep_best and self.best_state is not None:
            generator.load_state_dict(self.best_state)
        return TrainResult(
            generator=generator.eval(), config=self.config, steps=self.step,
            best_distance=self.best_distance, best_step=self.best.best_step,
            stop_reason=stop_reason, seconds=self.seconds, history=list(self.history), message=message,
            real_validity=self.noise.validity, kept_on=self.config.stop_on,
            best_nll=self.best.best if self.on_nll and math.isfinite(self.best.best) else None,
            cuts=list(self.cuts), thread_changes=list(self.thread_changes),
        )

    # -- checkpoints: plain tensors and containers only, so torch.load(weights_only=True) opens them

    def _rng_state(self) -> dict:
        rng = {"torch": torch.get_rng_state(), "data": self.data_rng.get_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        return rng

    def state_dict(self) -> dict:
        """Everything to resume from. Under data-parallel training every rank must call it (it
        gathers each rank's random-number state, and checks that the ranks' weights agree)."""
        rng = self._rng_state()
        if self.runtime.data_parallel:
            self.runtime.check_consistent(self.modules())
            rng = {**rng, "ranks": self.runtime.gather(rng)}  # rank r resumes its own streams
        return {
            "checkpoint_version": CHECKPOINT_VERSION,
            "world_size": self.runtime.world_size,
            "rule": self.rule.name,
            "config": self.config.to_dict(),
            "step": self.step,
            "seconds": self.seconds,
            "parts": {name: part.state_dict() for name, part in self.recipe.parts().items()},
            "rng": rng,
            "plateau": asdict(self.plateau),
            "best": asdict(self.best),
            "best_state": self.best_state,
            "best_nll_terms": self.best_nll_terms,
            "best_distance": self.best_distance,
            "history": self.history,
            "cuts": self.cuts,
        }

    def load_state_dict(self, state: dict) -> None:
        self.runtime.refuse_other_world(int(state.get("world_size", 1)), "the checkpoint")
        for name, part in self.recipe.parts().items():
            if name == "phase" and name not in state["parts"]:  # a one-phase recipe's checkpoint may have none
                continue
            part.load_state_dict(state["parts"][name])
        rng = state["rng"]["ranks"][self.runtime.rank] if self.runtime.data_parallel else state["rng"]
        torch.set_rng_state(rng["torch"])
        self.data_rng.set_state(rng["data"])
        if "cuda" in rng and self.device.type == "cuda":
            torch.cuda.set_rng_state(rng["cuda"], self.device)
        self.plateau = EarlyStopping(**state["plateau"])
        self.best = EarlyStopping(**state["best"])
        self.best_state = state["best_state"]
        self.best_nll_terms = state.get("best_nll_terms")
        self.best_distance = float(state.get("best_distance", self.best.best))
        self.history = list(state["history"])
        self.cuts = [int(s) for s in state.get("cuts", [])]  # none in checkpoints from before plateau cuts
        self.step = int(state["step"])
        self.seconds = float(state["seconds"])


def train(rule: Rule, config: TrainConfig, callbacks: list[Callable[[Progress], None]] = ()) -> TrainResult:
    """Train from scratch; see ``Trainer`` for resuming."""
    return Trainer(rule, config, callbacks).run()
