"""Which torch device a run uses: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``, checked with one clear line."""

from __future__ import annotations

import torch

from seqgan_core.errors import SeqganError


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
