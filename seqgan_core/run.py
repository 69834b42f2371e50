"""A run folder, and the run policy: train into a folder, resume from it, finish it safely.

    generator.pt | generator.pt2   the sampler (TorchScript or torch.export)
    config.json                    target, preset and why, settings, steps, verdict, versions
    history.jsonl                  every check: step, phase, validity, TV, distance, NLL, losses
    metrics.jsonl                  full metrics every `metrics_every` steps, and a "final" row
    checkpoint.pt                  everything needed to resume (`seqgan train --resume RUN_DIR`)

Every file is written atomically: a run killed mid-write keeps the previous version. At the end
the generator and config.json are written before the checkpoint says the run is finished, so
a run stopped at any moment leaves either a resumable checkpoint or a finished model.

``train_run`` is what ``seqgan train`` calls; it takes plain values and returns a ``RunOutcome``.
"""

from __future__ import annotations

import json
import math
import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from . import __version__, distributed
from .atomic import atomic_path, write_text
from .config import TrainConfig
from .errors import ModelFileError, SeqganError
from .export import FORMATS, metadata, save_sampler
from .metrics import evaluate, reference
from .rule import Rule
from .target import Target, rule_target
from .training import CHECKPOINT_VERSION, Progress, StopRequest, Trainer, TrainResult
from .verdict import Verdict, judge

CHECKPOINT_FILE = "checkpoint.pt"
CONFIG_FILE = "config.json"
HISTORY_FILE = "history.jsonl"
METRICS_FILE = "metrics.jsonl"
METRICS_SAMPLES = 2000  # sequences sampled for each periodic metrics line
FINAL_SAMPLES = 5000  # sequences behind the final metrics and the verdict
# any of these in a folder means it holds a run that a fresh `train` must not overwrite
RUN_FILES = (*FORMATS.values(), CONFIG_FILE, CHECKPOINT_FILE, HISTORY_FILE, METRICS_FILE)


def finite(value: float) -> float | None:
    """JSON has no inf or NaN: None stands for 'no value yet'."""
    return value if math.isfinite(value) else None


def _jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


@dataclass
class RunOutcome:
    out: Path  # the run folder
    model: Path  # the saved generator
    result: TrainResult
    metrics: dict  # the final metrics of the saved generator
    verdict: Verdict
    resumed_at: int = 0  # the step a resumed run continued from (0 for a fresh run)


class MetricsLog:
    """Callback: every ``every`` steps, evaluate a sample and rewrite metrics.jsonl atomically."""

    def __init__(self, out_dir: str | Path, target: Target, every: int, n: int = METRICS_SAMPLES,
                 resume_at: int = 0):
        self.path = Path(out_dir) / METRICS_FILE
        self.target, self.every, self.n = target, every, n
        # a resumed run continues its file up to its checkpoint: no summary row of the interruption,
        # no row written after the checkpoint (those steps are about to be trained again)
        self.rows: list[dict] = [
            r for r in (read_jsonl(self.path) if resume_at else [])
            if isinstance(r.get("step"), int) and r["step"] <= resume_at
        ]

    def __call__(self, p: Progress) -> None:
        if p.step % self.every == 0:
            self.add({"step": p.step, "phase": p.phase, **p.losses}, p.sample(self.n))

    def add(self, fields: dict, seqs: torch.Tensor) -> dict:
        row = {**fields, **evaluate(seqs, reference(self.target.rule))}
        extra = self.target.extra_metrics(seqs)
        if extra:
            row["rule_metrics"] = extra
        self.rows.append(row)
        write_text(self.path, _jsonl(self.rows))
        return row


class Checkpointer:
    """Callback: save the trainer's state to checkpoint.pt every ``every`` steps."""

    def __init__(self, out_dir: str | Path, every: int, target: Target, fmt: str = "torchscript", choice: str = ""):
        self.path, self.every, self.target, self.format = Path(out_dir) / CHECKPOINT_FILE, every, target, fmt
        self.choice = choice

    def __call__(self, p: Progress) -> None:
        if p.step % self.every == 0:
            self.save(p.trainer)

    def save(self, trainer: Trainer, stop_reason: str | None = None, state: dict | None = None) -> None:
        """``stop_reason``: how the run ended (None while it is still going, "interrupted").

        Under data-parallel training every rank calls this (``trainer.state_dict()`` gathers from
        all of them) and rank 0 alone writes; ``state`` is one gathered earlier."""
        state = state if state is not None else trainer.state_dict()
        if not distributed.is_writer():
            return
        state = {**state, "target": self.target.record, "stop_reason": stop_reason,
                 "format": self.format, "choice": self.choice}
        with atomic_path(self.path) as tmp:
            torch.save(state, tmp)


def load_checkpoint(run_dir: str | Path) -> dict:
    """The checkpoint of a run folder, opened with ``weights_only=True`` (no pickled code runs)."""
    run = Path(run_dir)
    path = run / CHECKPOINT_FILE
    if not run.is_dir():
        raise SeqganError(f"--resume {str(run)!r} is not a run folder")
    if not path.is_file():
        raise SeqganError(f"{str(run)!r} has no {CHECKPOINT_FILE} to resume from")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        version = int(state["checkpoint_version"])
        state["config"], state["target"], state["step"]  # noqa: B018 - presence check
    except Exception as e:  # noqa: BLE001 - damaged archives raise many types
        raise SeqganError(f"{path} is damaged and cannot be resumed ({type(e).__name__})") from None
    if version > CHECKPOINT_VERSION:
        raise SeqganError(f"{path} was written by a newer seqgan (checkpoint version {version}); upgrade seqgan")
    if version < CHECKPOINT_VERSION:
        raise SeqganError(f"{path} was written by an older seqgan (checkpoint version {version}) and cannot be "
                          "resumed by this one; start a new run")
    finished = state.get("stop_reason")
    if finished == "diverged":
        raise SeqganError(f"the run in {str(run)!r} diverged at step {state['step']}; start a new one with a lower --lr")
    if finished in ("early_stopping", "max_steps"):
        raise SeqganError(
            f"the run in {str(run)!r} already finished ({finished.replace('_', ' ')} at step {state['step']}); "
            "nothing to resume"
        )
    return state


def summary(result: TrainResult, target: Target, verdict: Verdict | None = None, choice: str = "") -> dict:
    return {
        "rule": target.rule.name,
        "plugin": target.rule.plugin,
        "target": target.record,
        "preset": result.config.preset,
        "choice": choice,
        "config": result.config.to_dict(),
        "seed": result.config.seed,
        "processes": distributed.world_size(),  # data-parallel ranks; the global batch is this x batch_size
        "steps": result.steps,
        "best_distance": finite(result.best_distance),
        "best_step": result.best_step if result.best_step >= 0 else None,
        "stop_reason": result.stop_reason,
        "message": result.message,
        "seconds": round(result.seconds, 3),
        "verdict": verdict.to_dict() if verdict else None,
        "versions": {
            "seqgan": __version__,
            "torch": torch.__version__,
            "python": platform.python_version(),
        },
    }


def save_run(out_dir: str | Path, result: TrainResult, target: Target | Rule, fmt: str = "torchscript",
             verdict: Verdict | None = None, choice: str = "") -> Path:
    """Write the model first, then config.json and history.jsonl; each atomically."""
    if isinstance(target, Rule):
        target = rule_target(target)
    out = Path(out_dir)
    info = summary(result, target, verdict, choice)
    info["format"] = fmt
    meta = metadata(target.rule, config=info["config"], target=target.record, steps=result.steps,
                    best_distance=finite(result.best_distance), stop_reason=result.stop_reason,
                    verdict=info["verdict"])
    model = save_sampler(result.generator, meta, out / FORMATS[fmt], fmt)
    write_text(out / CONFIG_FILE, json.dumps(info, indent=2) + "\n")
    write_text(out / HISTORY_FILE, _jsonl(result.history))
    return model


def final_verdict(trainer: Trainer, result: TrainResult, metrics: dict) -> Verdict:
    return judge(metrics, steps=result.steps, max_steps=trainer.config.max_steps, stop_reason=result.stop_reason,
                 autoregressive=bool(getattr(trainer.recipe, "autoregressive", False)),
                 patience=trainer.config.patience)


def train_run(target: Target, config: TrainConfig, out: str | Path, fmt: str = "torchscript",
              state: dict | None = None, callbacks: list[Callable[[Progress], None]] = (),
              choice: str = "", stop: StopRequest | None = None) -> RunOutcome:
    """Train ``target`` into the run folder ``out`` (continuing ``state``, a loaded checkpoint).

    Set ``stop.requested`` (a signal handler does) to stop between two steps: the run then saves
    like any other, and its checkpoint can be resumed.

    Under data-parallel training (``seqgan_core.distributed``) every rank calls this; rank 0 alone
    measures and writes, the others return an outcome without metrics or verdict.
    """
    out = Path(out)
    resume_at = int(state["step"]) if state else 0
    checkpointer = Checkpointer(out, config.checkpoint_every, target, fmt, choice)
    writer = distributed.is_writer()
    metrics_log = MetricsLog(out, target, config.metrics_every, resume_at=resume_at) if writer else None
    logs = [metrics_log] if writer else []
    trainer = Trainer(target.rule, config, callbacks=[*callbacks, *logs, checkpointer], stop=stop)
    if state is not None:
        trainer.load_state_dict(state)
    result = trainer.run()
    if not writer:
        checkpointer.save(trainer, result.stop_reason)  # its part of the gather; rank 0 writes
        return RunOutcome(out, out / FORMATS[fmt], result, {}, None, resume_at)
    # the last collective before rank 0's long final measurement, so no rank waits on it for a timeout
    final_state = trainer.state_dict() if trainer.ddp is not None else None
    # the final metrics measure the generator that is saved, on the checks' own noise
    final = trainer.sample(FINAL_SAMPLES, result.generator)
    metrics = metrics_log.add({"step": "final", "steps": result.steps}, final)
    verdict = final_verdict(trainer, result, metrics)
    # the model and config.json first; the checkpoint says "finished" only once they exist
    model = save_run(out, result, target, fmt, verdict, choice)
    checkpointer.save(trainer, result.stop_reason, final_state)
    return RunOutcome(out, model, result, metrics, verdict, resume_at)


def model_path(path: str | Path) -> Path:
    """A model file as given, or the generator inside a run folder."""
    path = Path(path)
    if path.is_dir():
        for name in FORMATS.values():
            if (path / name).is_file():
                return path / name
        raise ModelFileError(
            f"{str(path)!r} is a directory without {' or '.join(FORMATS.values())}; "
            "give a model file or a run folder written by `seqgan train`"
        )
    return path


def read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                raise ModelFileError(f"{path}:{number}: not valid JSON; the run folder is damaged") from None
    return rows
