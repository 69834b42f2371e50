"""A run folder: what ``seqgan train`` writes (generator.pt, config.json) and later commands read."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import torch

from . import __version__
from .atomic import write_text
from .export import metadata, save_torchscript
from .rule import Rule
from .training import TrainResult

MODEL_FILE = "generator.pt"
CONFIG_FILE = "config.json"


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


def save_run(out_dir: str | Path, result: TrainResult, rule: Rule) -> Path:
    """Write the model first, then config.json; each file atomically. Returns the model path."""
    out = Path(out_dir)
    info = summary(result, rule)
    meta = metadata(rule, config=info["config"], steps=result.steps, best_distance=result.best_distance)
    model = save_torchscript(result.generator, meta, out / MODEL_FILE)
    write_text(out / CONFIG_FILE, json.dumps(info, indent=2) + "\n")
    return model
