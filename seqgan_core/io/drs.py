"""A run folder's generator with discriminator rejection sampling (models/drs.py), saved as a model file.

``save_drs(run, real, k, steps)`` rebuilds the run's *final* generator from its checkpoint, takes the
run's own discriminator when it scores index sequences (the seqgan recipe's ``highway_cnn``; else a
fresh ``highway_cnn``), trains it ``steps`` more steps against that generator's samples
(``fit_discriminator``: DRS needs D's ratio for *this* G) and writes ``drs.pt`` (TorchScript) or
``drs.pt2`` (torch.export) next to ``generator.pt``, holding G, D and ``k``. Sampling from it is a
choice made at sample time: ``seqgan sample RUN/drs.pt --trust`` draws with the correction (the file
is a program, and a program given by path needs ``--trust``), ``seqgan sample RUN`` without it (the
run's weights-only file). ``seqgan drs RUN [--k 8] [--steps N]`` calls this.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from seqgan_core.engine.config import TrainConfig
from seqgan_core.engine.recipes import get_recipe
from seqgan_core.errors import SeqganError
from seqgan_core.io.export import load_model, save_sampler
from seqgan_core.io.run import CHECKPOINT_FILE, model_path
from seqgan_core.models.highway_cnn import HighwayCNNDiscriminator
from seqgan_core.plugins.registry import DISCRIMINATORS
from seqgan_core.models.drs import DRSGenerator, fit_discriminator

DRS_FILES = {"torchscript": "drs.pt", "export": "drs.pt2"}


def final_models(run_dir: str | Path) -> tuple[nn.Module, nn.Module, dict]:
    """The run's *final* generator (from its checkpoint), the discriminator DRS fits against it (the
    run's own when it scores index sequences, else a fresh ``highway_cnn``) and the run's model meta."""
    run = Path(run_dir)
    try:  # load_checkpoint is for resuming and refuses finished runs: this reads a finished one
        state = torch.load(run / CHECKPOINT_FILE, map_location="cpu", weights_only=True)
        state["config"], state["parts"]["generator"]  # noqa: B018 - presence check
    except (OSError, RuntimeError, KeyError, TypeError, ValueError, EOFError) as e:
        raise SeqganError(f"cannot read {str(run / CHECKPOINT_FILE)!r} ({type(e).__name__}): discriminator "
                          "rejection sampling needs the run's final generator from its checkpoint") from None
    meta = dict(load_model(model_path(run)).meta)
    config = TrainConfig.from_dict(state["config"])
    options = config.recipe_options()
    vocab, length = len(meta["vocab"]), int(meta["length"])
    generator = get_recipe(config.recipe).build_generator(vocab, length, options)
    generator.load_state_dict(state["parts"]["generator"])  # the final generator, which D is fitted against
    family = DISCRIMINATORS.get(getattr(options, "discriminator", ""))
    if family is not None and hasattr(family, "score_indices") and "discriminator" in state["parts"]:
        discriminator = family(vocab, length, options.model_options()[1])
        discriminator.load_state_dict(state["parts"]["discriminator"])
    else:  # the run's D cannot score index sequences (or it had none): SeqGAN's, from scratch
        discriminator = HighwayCNNDiscriminator(vocab, length)
    return generator, discriminator, meta


def save_drs(run_dir: str | Path, real: Callable[[int], torch.Tensor], k: int = 8, steps: int = 500,
             batch_size: int = 64, lr: float = 1e-4, fmt: str = "torchscript") -> Path:
    """Write ``RUN/drs.pt`` (or ``.pt2``): the run's final generator corrected by a discriminator
    trained ``steps`` steps against it on ``real(n)`` sequences ``(n, L)``; returns its path."""
    if fmt not in DRS_FILES:
        raise SeqganError(f"discriminator rejection sampling saves torchscript or export files, not {fmt!r}")
    run = Path(run_dir)
    generator, discriminator, meta = final_models(run)
    losses = fit_discriminator(discriminator, generator, real, steps, batch_size, lr)
    meta["drs"] = {"k": int(k), "steps": int(steps), "final_d_loss": losses[-1] if losses else None}
    # candidates are drawn as the run's own file draws (its chosen temperature and min-p)
    return save_sampler(DRSGenerator(generator, discriminator, k), meta, run / DRS_FILES[fmt], fmt,
                        temperature=float(meta.get("temperature", 1.0)), min_p=float(meta.get("min_p", 0.0)))
