"""A run folder: what ``seqgan train`` writes and ``sample`` / ``evaluate`` / ``plot`` read.

    generator.pt | generator.pt2   the sampler (TorchScript or torch.export)
    config.json                    rule, preset, hyper-parameters, seed, steps, best distance, versions
    history.jsonl                  every distance check: step, distance, best, losses
    metrics.jsonl                  full metrics every `metrics_every` steps, and for the saved model
"""

from __future__ import annotations

import json
import platform
from pathlib import Path

import torch

from . import __version__
from .atomic import write_text
from .errors import ModelFileError
from .export import FORMATS, metadata, save_sampler
from .metrics import Reference, evaluate
from .rule import Rule
from .training import Progress, TrainResult

CONFIG_FILE = "config.json"
HISTORY_FILE = "history.jsonl"
METRICS_FILE = "metrics.jsonl"
METRICS_SAMPLES = 2000  # sequences sampled for each periodic metrics line


def summary(result: TrainResult, rule: Rule) -> dict:
    return {
        "rule": rule.name,
        "plugin": rule.plugin,
        "preset": result.config.preset,
        "config": result.config.to_dict(),
        "seed": result.config.seed,
        "steps": result.steps,
        "best_distance": result.best_distance,
        "best_step": result.best_step,
        "stop_reason": result.stop_reason,
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

    def __init__(self, out_dir: str | Path, reference: Reference, every: int, n: int = METRICS_SAMPLES):
        self.path = Path(out_dir) / METRICS_FILE
        self.reference, self.every, self.n = reference, every, n
        self.rows: list[dict] = []

    def __call__(self, p: Progress) -> None:
        if p.step % self.every == 0:
            self.add({"step": p.step, **p.losses}, p.sample(self.n))

    def add(self, fields: dict, seqs: torch.Tensor) -> None:
        row = {**fields, **evaluate(seqs, self.reference)}
        self.rows.append(row)
        write_text(self.path, _jsonl(self.rows))


def save_run(out_dir: str | Path, result: TrainResult, rule: Rule, fmt: str = "torchscript") -> Path:
    """Write the model first, then config.json and history.jsonl; each atomically."""
    out = Path(out_dir)
    info = summary(result, rule)
    info["format"] = fmt
    meta = metadata(rule, config=info["config"], steps=result.steps, best_distance=result.best_distance)
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
