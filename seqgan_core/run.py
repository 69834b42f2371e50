"""A run folder: what ``seqgan train`` writes and ``sample`` / ``evaluate`` / ``plot`` read.

    generator.pt | generator.pt2   the sampler (TorchScript or torch.export)
    config.json                    target, preset, hyper-parameters, seed, steps, best distance, versions
    history.jsonl                  every distance check: step, distance, best, losses
    metrics.jsonl                  full metrics every `metrics_every` steps, and for the saved model
    checkpoint.pt                  everything needed to resume (`seqgan train --resume RUN_DIR`)

Every file is written atomically: a run killed mid-write keeps the previous version.
"""

from __future__ import annotations

import json
import math
import platform
from pathlib import Path

import torch

from . import __version__
from .atomic import atomic_path, write_text
from .errors import ModelFileError, SeqganError
from .export import FORMATS, metadata, save_sampler
from .metrics import Reference, evaluate
from .rule import Rule
from .target import Target, rule_target
from .training import CHECKPOINT_VERSION, Progress, Trainer, TrainResult

CHECKPOINT_FILE = "checkpoint.pt"
CONFIG_FILE = "config.json"
HISTORY_FILE = "history.jsonl"
METRICS_FILE = "metrics.jsonl"
METRICS_SAMPLES = 2000  # sequences sampled for each periodic metrics line
# any of these in a folder means it holds a run that a fresh `train` must not overwrite
RUN_FILES = (*FORMATS.values(), CONFIG_FILE, CHECKPOINT_FILE, HISTORY_FILE, METRICS_FILE)


def finite(value: float) -> float | None:
    """JSON has no inf or NaN: None stands for 'no value yet'."""
    return value if math.isfinite(value) else None


def summary(result: TrainResult, target: Target) -> dict:
    return {
        "rule": target.rule.name,
        "plugin": target.rule.plugin,
        "target": target.record,
        "preset": result.config.preset,
        "config": result.config.to_dict(),
        "seed": result.config.seed,
        "steps": result.steps,
        "best_distance": finite(result.best_distance),
        "best_step": result.best_step if result.best_step >= 0 else None,
        "stop_reason": result.stop_reason,
        "message": result.message,
        "seconds": round(result.seconds, 3),
        "versions": {
            "seqgan": __version__,
            "torch": torch.__version__,
            "python": platform.python_version(),
        },
    }


def _jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


class MetricsLog:
    """Callback: every ``every`` steps, evaluate a sample and rewrite metrics.jsonl atomically."""

    def __init__(self, out_dir: str | Path, target: Target, every: int, n: int = METRICS_SAMPLES,
                 resume_at: int = 0):
        self.path = Path(out_dir) / METRICS_FILE
        self.target, self.every, self.n = target, every, n
        self.reference = Reference.from_rule(target.rule)
        # a resumed run continues its file up to its checkpoint: no summary row of the interruption,
        # no row written after the checkpoint (those steps are about to be trained again)
        self.rows: list[dict] = [
            r for r in (read_jsonl(self.path) if resume_at else [])
            if isinstance(r.get("step"), int) and r["step"] <= resume_at
        ]

    def __call__(self, p: Progress) -> None:
        if p.step % self.every == 0:
            self.add({"step": p.step, **p.losses}, p.sample(self.n))

    def add(self, fields: dict, seqs: torch.Tensor) -> None:
        row = {**fields, **evaluate(seqs, self.reference), **self.target.extra_metrics(seqs)}
        self.rows.append(row)
        write_text(self.path, _jsonl(self.rows))


class Checkpointer:
    """Callback: save the trainer's state to checkpoint.pt every ``every`` steps."""

    def __init__(self, out_dir: str | Path, every: int, target: Target, fmt: str = "torchscript"):
        self.path, self.every, self.target, self.format = Path(out_dir) / CHECKPOINT_FILE, every, target, fmt

    def __call__(self, p: Progress) -> None:
        if p.step % self.every == 0:
            self.save(p.trainer)

    def save(self, trainer: Trainer, stop_reason: str | None = None) -> None:
        """``stop_reason``: how the run ended (None while it is still going, "interrupted")."""
        state = {**trainer.state_dict(), "target": self.target.record, "stop_reason": stop_reason,
                 "format": self.format}
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
    finished = state.get("stop_reason")
    if finished == "diverged":
        raise SeqganError(f"the run in {str(run)!r} diverged at step {state['step']}; start a new one with a lower --lr")
    if finished in ("early_stopping", "max_steps"):
        raise SeqganError(
            f"the run in {str(run)!r} already finished ({finished.replace('_', ' ')} at step {state['step']}); "
            "nothing to resume"
        )
    return state


def save_run(out_dir: str | Path, result: TrainResult, target: Target | Rule, fmt: str = "torchscript") -> Path:
    """Write the model first, then config.json and history.jsonl; each atomically."""
    if isinstance(target, Rule):
        target = rule_target(target)
    out = Path(out_dir)
    info = summary(result, target)
    info["format"] = fmt
    meta = metadata(target.rule, config=info["config"], target=target.record, steps=result.steps,
                    best_distance=finite(result.best_distance))
    model = save_sampler(result.generator, meta, out / FORMATS[fmt], fmt)
    write_text(out / CONFIG_FILE, json.dumps(info, indent=2) + "\n")
    write_text(out / HISTORY_FILE, _jsonl(result.history))
    return model


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
