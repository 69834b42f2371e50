"""PNG pictures of a run: training curves, and generated vs real token histograms.

matplotlib is an optional extra (``pip install 'seqgan[plot]'``); nothing else in seqgan needs it.
"""

from __future__ import annotations

from pathlib import Path

import torch

from .atomic import atomic_path
from .errors import SeqganError
from .metrics import Reference, token_counts


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only, never a window
        import matplotlib.pyplot as plt
    except ImportError:
        raise SeqganError("seqgan plot needs matplotlib: pip install 'seqgan[plot]'") from None
    return plt


def _save(plt, fig, path: Path) -> Path:
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    return path


def plot_curves(history: list[dict], metrics: list[dict], path: Path) -> Path:
    """Losses and distance against the step, plus TV / validity from metrics.jsonl if present."""
    plt = _pyplot()
    if not history:
        raise SeqganError("the run has no distance checks to plot yet; train it for more steps")
    steps = [h["step"] for h in history]
    # phases log different losses (pretraining: mle; warm-up: d; adversarial: d, g, mle)
    loss_names = sorted({k for h in history for k in h} - {"step", "distance", "best"})
    fig, axes = plt.subplots(1, 2 if not metrics else 3, figsize=(15 if metrics else 10, 4))
    for name in loss_names:
        axes[0].plot(steps, [h.get(name, float("nan")) for h in history], label=name, linewidth=0.8)
    axes[0].set(title="losses", xlabel="step")
    axes[0].legend()
    axes[1].plot(steps, [h["distance"] for h in history], label="distance", linewidth=0.6, alpha=0.6)
    axes[1].plot(steps, [h["best"] for h in history], label="best", linewidth=1.5)
    axes[1].set(title="early-stopping distance", xlabel="step", yscale="symlog")
    axes[1].legend()
    if metrics:
        m_steps = [m["step"] for m in metrics if isinstance(m.get("step"), int)]
        rows = [m for m in metrics if isinstance(m.get("step"), int)]
        for key in ("validity", "coverage", "tv", "unique_ratio"):
            axes[2].plot(m_steps, [m[key] for m in rows], marker=".", label=key)
        axes[2].set(title="metrics (metrics.jsonl)", xlabel="step", ylim=(0, 1.05))
        axes[2].legend()
    return _save(plt, fig, path)


def plot_histogram(generated: torch.Tensor, reference: Reference, tokens: list, path: Path) -> Path:
    """Pooled token frequencies: generated vs the rule's real data."""
    plt = _pyplot()
    V = len(reference.pooled)
    gen = token_counts(generated, V)
    gen, real = (gen / gen.sum()).tolist(), (reference.pooled / reference.pooled.sum()).tolist()
    x = range(V)
    fig, ax = plt.subplots(figsize=(max(8, min(24, V / 6)), 4))
    ax.bar(x, real, width=1.0, alpha=0.5, label="real (rule's sampler)")
    ax.bar(x, gen, width=0.5, alpha=0.8, label=f"generated (n={len(generated)})")
    if V <= 40:
        ax.set_xticks(list(x), [str(t) for t in tokens], rotation=90)
    ax.set(title="token frequencies", xlabel="token index" if V > 40 else "token", ylabel="share")
    ax.legend()
    return _save(plt, fig, path)
