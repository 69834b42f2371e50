"""PNG pictures of a run: training curves, and generated vs real token frequencies.

``curves.png`` reads history.jsonl (one row per check, so even a short run has a line): for a
rule, validity against real data's, the stopping distance and token TV (and held-out NLL for
autoregressive generators); for a data run, held-out NLL, the signal it stopped on and kept its
generator by; then the losses — each training phase shaded and named in the legend, so that a
maximum-likelihood phase without discriminator losses is not a mystery. The check whose generator
the run kept is marked. Legends sit below their plots, where they cover no curve. ``histogram.png`` compares pooled token
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


def _legend(ax, handles=None, labels=None) -> None:
    """The axes' legend below it, outside the plot area: a legend inside can cover a curve."""
    handles, labels = (handles, labels) if handles is not None else ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=8,
                  frameon=False)


def _mark_kept(ax, history: list[dict], key: str, kept_step: int | None) -> None:
    """The check whose generator the run kept: a dashed line at its step and a dot on its value."""
    row = next((h for h in history if h["step"] == kept_step and key in h), None)
    if row is None:
        return
    ax.axvline(kept_step, color="black", linestyle="--", linewidth=1, label=f"kept: step {kept_step}")
    ax.plot([kept_step], [row[key]], marker="o", color="black", linestyle="none")


def _phase_handles(spans) -> tuple[list, list[str]]:
    """One legend entry per phase, in its shading colour: names that never collide with a title."""
    from matplotlib.patches import Patch

    names = list(dict.fromkeys(phase for phase, _, _ in spans))
    return ([Patch(color=PHASE_COLOURS.get(p, "#f0f0f0"), label=PHASE_NAMES.get(p, p)) for p in names],
            [PHASE_NAMES.get(p, p) for p in names])


def plot_curves(history: list[dict], path: Path, real_validity: float | None = None,
                kept_on: str = "distance", kept_step: int | None = None) -> Path:
    """The checks against the step, phases shaded, the kept generator's check marked.

    A data run (``kept_on="heldout_nll"``) is drawn as what it decided on: held-out NLL, on which it
    stopped and kept its generator, beside the losses. Its "validity" (adjacent pairs seen in
    training) and distance compare with the training part, so they are not drawn. A rule's run
    shows validity against real data's, the stopping distance and token TV (held-out NLL on a
    right axis for autoregressive generators) and the losses.
    """
    plt = _pyplot()
    if not history:
        raise SeqganError("the run has no checks to plot yet; train it for more steps")
    steps = [h["step"] for h in history]
    spans = phase_spans(history)
    marker = "o" if len(history) < 30 else None
    data_run = kept_on == "heldout_nll" and any("nll" in h for h in history)
    fig, axes = plt.subplots(1, 2 if data_run else 3, figsize=(11 if data_run else 16, 4.6))

    if data_run:
        ax = axes[0]
        _shade(ax, spans)
        rows = [h for h in history if "nll" in h]
        nll = [h["nll"] for h in rows]
        ax.plot([h["step"] for h in rows], nll, marker=marker, color="purple", label="held-out NLL")
        if all("nll_se" in h for h in rows):
            se = [h["nll_se"] for h in rows]
            ax.fill_between([h["step"] for h in rows], [v - e for v, e in zip(nll, se)],
                            [v + e for v, e in zip(nll, se)], color="purple", alpha=0.15, linewidth=0,
                            label="± its standard error")
        _mark_kept(ax, history, "nll", kept_step)
        ax.set(title="held-out NLL (the run keeps its best)", xlabel="step", ylabel="nats per token")
        _legend(ax)
    else:
        ax = axes[0]
        _shade(ax, spans)
        ax.plot(steps, [h.get("validity", float("nan")) for h in history], marker=marker, label="validity")
        if real_validity is not None:
            ax.axhline(real_validity, color="black", linestyle=":", linewidth=1,
                       label=f"real data ({real_validity:.0%})")
        ax.set(title="validity of checked samples", xlabel="step", ylim=(-0.02, 1.05))
        _legend(ax)

        ax = axes[1]
        _shade(ax, spans)
        ax.plot(steps, [h["distance"] for h in history], marker=marker, linewidth=1, label="distance")
        ax.plot(steps, [h["best"] for h in history], linewidth=2, label="best distance")
        ax.plot(steps, [h.get("tv", float("nan")) for h in history], linewidth=1, label="token TV")
        if kept_on == "distance":
            _mark_kept(ax, history, "distance", kept_step)
        ax.set(title="stopping distance and token TV (lower is better)", xlabel="step")
        ax.set_ylim(bottom=0)
        handles, labels = ax.get_legend_handles_labels()
        if any("nll" in h for h in history):
            twin = ax.twinx()
            rows = [h for h in history if "nll" in h]
            twin.plot([h["step"] for h in rows], [h["nll"] for h in rows], color="purple", linestyle=":",
                      label="held-out NLL (right axis)")
            twin.set_ylabel("nats per token")
            more = twin.get_legend_handles_labels()
            handles, labels = handles + more[0], labels + more[1]
        _legend(ax, handles, labels)

    ax = axes[-1]
    _shade(ax, spans)
    names = sorted({k for h in history for k in h.get("losses", {})})
    for name in names:
        ax.plot(steps, [h.get("losses", {}).get(name, float("nan")) for h in history], marker=marker,
                label=name, linewidth=1)
    ax.set(title="losses at each check", xlabel="step")
    handles, labels = ax.get_legend_handles_labels()
    phases, phase_labels = _phase_handles(spans)  # each phase named once, by its shading
    _legend(ax, handles + phases, labels + phase_labels)
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
    _legend(ax)
    return _save(plt, fig, path)
