"""Adversarial losses, chosen with ``--loss``. D returns raw scores (logits), shape ``(batch, 1)``.

- ``bce``: Goodfellow's minimax form; G minimises log(1 - D(fake)) — saturates early on.
- ``nonsaturating``: D as in bce; G maximises log D(fake) (the tutorial's "label 1" trick).
- ``hinge``: D: relu(1 - real) + relu(1 + fake); G: -fake.
- ``wgan-gp``: D: fake - real + 10 * (|grad D(interpolate)| - 1)^2; G: -fake.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

GP_WEIGHT = 10.0  # the WGAN-GP paper's lambda


def _gradient_penalty(D: Callable, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    alpha = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(D(mixed).sum(), mixed, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def d_loss(name: str, D: Callable, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    r, f = D(real), D(fake)
    if name in ("bce", "nonsaturating"):
        return F.softplus(-r).mean() + F.softplus(f).mean()
    if name == "hinge":
        return F.relu(1 - r).mean() + F.relu(1 + f).mean()
    if name == "wgan-gp":
        return f.mean() - r.mean() + GP_WEIGHT * _gradient_penalty(D, real, fake)
    raise ValueError(f"unknown loss {name!r}")


def g_loss(name: str, D: Callable, fake: torch.Tensor) -> torch.Tensor:
    f = D(fake)
    if name == "bce":
        return -F.softplus(f).mean()  # = mean log(1 - sigmoid(f))
    if name == "nonsaturating":
        return F.softplus(-f).mean()  # = -mean log sigmoid(f)
    if name in ("hinge", "wgan-gp"):
        return -f.mean()
    raise ValueError(f"unknown loss {name!r}")


LOSSES = ("bce", "nonsaturating", "hinge", "wgan-gp")
