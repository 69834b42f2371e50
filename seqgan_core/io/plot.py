"""PNG pictures of a run: training curves, and generated vs real token frequencies.

``curves.png`` reads history.jsonl (one row per check, so even a short run has a line): validity
against real data's, the stopping distance and token TV (and held-out NLL for autoregressive
generators), and the losses — each training phase shaded and named, so that a maximum-likelihood
phase without discriminator losses is not a mystery. ``histogram.png`` compares pooled token
frequencies with the real data the run learned from.

matplotlib is an optional extra (``pip install 'seqgan[plot]'``); nothing else in seqgan needs it.
"""

from __future__ import annotations

from pathlib import Path

import torch

from seqgan_core.runtime.atomic import atomic_path
from seqgan_core.errors import SeqganError
from seqgan_core.evaluation.metrics import Reference, token_counts

PHASE_NAMES = {"mle": "maximum likelihood", "warmup": "D warm-up", "adversarial": "adversarial"}
PHASE_COLOURS = {"mle": "#e8f0fe", "warmup": "#fef7e0", "adversarial": "#e6f4ea"}


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


def phase_spans(history: list[dict]) -> list[tuple[str, float, float]]:
    """(phase, first step, last step) of each phase, from the checks' ``phase`` field."""
    spans: list[list] = []
    previous_step = 0
    for row in history:
        phase = row.get("phase", "adversarial")
        if spans and spans[-1][0] == phase:
            spans[-1][2] = row["step"]
        else:
            spans.append([phase, previous_step, row["step"]])
        previous_step = row["step"]
    return [tuple(s) for s in spans]


def _shade(ax, spans) -> None:
    for phase, start, end in spans:
        ax.axvspan(start, end, color=PHASE_COLOURS.get(phase, "#f0f0f0"), zorder=0, linewidth=0)


def plot_curves(history: list[dict], path: Path, real_validity: float | None = None) -> Path:
    """Validity, distance / TV / NLL and losses against the step, phases shaded."""
    plt = _pyplot()
    if not history:
        raise SeqganError("the run has no checks to plot yet; train it for more steps")
    steps = [h["step"] for h in history]
    spans = phase_spans(history)
    marker = "o" if len(history) < 30 else None
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.2))

    ax = axes[0]
    _shade(ax, spans)
    ax.plot(steps, [h.get("validity", float("nan")) for h in history], marker=marker, label="validity")
    if real_validity is not None:
        ax.axhline(real_validity, color="black", linestyle="--", linewidth=1, label=f"real data ({real_validity:.0%})")
    ax.set(title="validity of checked samples", xlabel="step", ylim=(-0.02, 1.05))
    ax.legend(loc="lower right")

    ax = axes[1]
    _shade(ax, spans)
    ax.plot(steps, [h["distance"] for h in history], marker=marker, linewidth=1, label="distance")
    ax.plot(steps, [h["best"] for h in history], linewidth=2, label="best distance")
    ax.plot(steps, [h.get("tv", float("nan")) for h in history], linewidth=1, label="token TV")
    ax.set(title="stopping distance and token TV (lower is better)", xlabel="step")
    ax.set_ylim(bottom=0)
    if any("nll" in h for h in history):
        twin = ax.twinx()
        rows = [h for h in history if "nll" in h]
        twin.plot([h["step"] for h in rows], [h["nll"] for h in rows], color="purple", linestyle=":",
                  label="held-out NLL (right axis)")
        twin.set_ylabel("nats per token")
        twin.legend(loc="upper center")
    ax.legend(loc="upper right")

    ax = axes[2]
    _shade(ax, spans)
    names = sorted({k for h in history for k in h.get("losses", {})})
    for name in names:
        ax.plot(steps, [h.get("losses", {}).get(name, float("nan")) for h in history], marker=marker,
                label=name, linewidth=1)
    ax.set(title="losses at each check", xlabel="step")
    if names:
        ax.legend(loc="upper right")
    for phase, start, end in spans:  # name each phase once, in the losses panel
        ax.text((start + end) / 2, 1.0, PHASE_NAMES.get(phase, phase), transform=ax.get_xaxis_transform(),
                ha="center", va="bottom", fontsize=8)
    return _save(plt, fig, path)


def plot_histogram(generated: torch.Tensor, reference: Reference, tokens: list, path: Path,
                   real_label: str = "real (the rule's own samples)") -> Path:
    """Pooled token frequencies: generated vs real data."""
    plt = _pyplot()
    V = len(reference.pooled)
    gen = token_counts(generated, V)
    gen, real = (gen / gen.sum()).tolist(), (reference.pooled / reference.pooled.sum()).tolist()
    x = range(V)
    fig, ax = plt.subplots(figsize=(max(8, min(24, V / 6)), 4))
    ax.bar(x, real, width=1.0, alpha=0.5, label=real_label)
    ax.bar(x, gen, width=0.5, alpha=0.8, label=f"generated (n={len(generated)})")
    if V <= 40:
        ax.set_xticks(list(x), [str(t) for t in tokens], rotation=90)
    ax.set(title="token frequencies", xlabel="token index" if V > 40 else "token", ylabel="share")
    ax.legend()
    return _save(plt, fig, path)
