"""seqgan plot: curves from every check with phases named, and a histogram labelled with its source."""

import pytest
import torch

from seqgan_core.io.plot import phase_spans, plot_curves
from seqgan_core.plugins.manager import get_plugin_manager, load_rules
from seqgan_core.engine.presets import preset_config
from seqgan_core.engine.training import train

RULES = load_rules(get_plugin_manager(entry_points=False))


def test_phase_spans_follow_the_checks():
    history = [{"step": 10, "phase": "mle"}, {"step": 20, "phase": "mle"}, {"step": 25, "phase": "warmup"},
               {"step": 30, "phase": "adversarial"}, {"step": 40, "phase": "adversarial"}]
    assert phase_spans(history) == [("mle", 0, 20), ("warmup", 20, 25), ("adversarial", 25, 40)]


def test_plot_handles_phases_with_different_losses(tmp_path):
    """Autoregressive runs log only `mle` while pretraining and only `d` in warm-up."""
    pytest.importorskip("matplotlib")
    result = train(RULES["palindrome"], preset_config("autoregressive", pretrain_steps=2, d_warmup=2, max_steps=6,
                                                      eval_every=1, batch_size=8, patience=100, adversarial=True))
    assert set(result.history[0]["losses"]) == {"mle"} and set(result.history[-1]["losses"]) >= {"d", "g"}
    path = plot_curves(result.history, tmp_path / "c.png", real_validity=1.0)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_short_run_still_draws_lines(tmp_path):
    """A 400-step run used to show one metrics point; the curves now come from every check."""
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    result = train(RULES["multiples5"], preset_config("independent", max_steps=400, patience=100))
    shown = []
    original = plt.Axes.plot

    def spy(self, x, *args, **kw):
        shown.append(len(x))
        return original(self, x, *args, **kw)

    plt.Axes.plot = spy
    try:
        plot_curves(result.history, tmp_path / "c.png")
    finally:
        plt.Axes.plot = original
    assert min(shown) == 8  # one point per check, every 50 steps


def test_histogram_of_a_data_run_names_the_file(run_cli, tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    (tmp_path / "w.txt").write_text("abc\nabd\nbcd\nacd\n" * 5)
    run_cli("train", "--data", "w.txt", "--chars", "--max-steps", "20", "--out", "w")
    labels = []
    original = plt.Axes.bar

    def spy(self, *args, label=None, **kw):
        labels.append(label)
        return original(self, *args, label=label, **kw)

    from seqgan_core import cli

    plt.Axes.bar = spy
    try:
        assert cli.main(["plot", str(tmp_path / "w"), "-n", "100"]) == 0
    finally:
        plt.Axes.bar = original
    assert labels[0].startswith("real (held-out part of w.txt, ")  # not the training part


def _figure_of(monkeypatch, history, tmp_path):
    """Draw the curves and return the figure (drawn, so tick labels are final)."""
    from seqgan_core.io import plot

    kept = {}
    original = plot._save

    def keep(plt, fig, path):
        fig.canvas.draw()
        kept["fig"] = fig
        return original(plt, fig, path)

    monkeypatch.setattr(plot, "_save", keep)
    plot.plot_curves(history, tmp_path / "c.png", real_validity=1.0)
    return kept["fig"]


def test_tick_labels_are_short_numbers_and_losses_start_at_the_first_check(monkeypatch, tmp_path):
    """A log axis once showed `6.03x10^-2` and `9.70002x10^-3`; the losses of the maximum-likelihood
    phase must be drawn from the first check, and each phase named."""
    pytest.importorskip("matplotlib")
    history = [{"step": s, "phase": "mle" if s <= 200 else "adversarial", "distance": d, "best": min(d, 0.0603),
                "validity": 0.99, "tv": d / 2, "nll": 2.0 - s / 1000,
                "losses": {"mle": 2.0} if s <= 200 else {"mle": 1.9, "g": 0.7, "d": 1.3}}
               for s, d in zip(range(50, 450, 50), [0.0603, 0.03, 0.02, 0.0150, 0.0120, 0.0110, 0.0100, 0.00970002])]
    fig = _figure_of(monkeypatch, history, tmp_path)
    for ax in fig.axes:
        for label in [*ax.get_yticklabels(), *ax.get_xticklabels()]:
            text = label.get_text()
            assert "10^" not in text and "times" not in text and len(text) <= 6, (ax.get_title(), text)
    losses = next(ax for ax in fig.axes if ax.get_title().startswith("losses"))
    mle = next(line for line in losses.get_lines() if line.get_label() == "mle")
    assert list(mle.get_xdata())[0] == 50  # from the first check, not from the adversarial phase
    names = {t.get_text() for t in losses.get_legend().get_texts()}
    assert {"maximum likelihood", "adversarial"} <= names


HISTORY = [{"step": s, "phase": "mle" if s <= 200 else "adversarial", "distance": 0.3 / s ** 0.5, "best": 0.3 / s ** 0.5,
            "validity": 0.9, "tv": 0.01, "nll": 2.0 - s / 1000 + (s > 300) * (s - 300) / 500, "nll_se": 0.01,
            "losses": {"mle": 2.0 - s / 1000} if s <= 200 else {"mle": 1.9, "g": 0.7, "d": 1.3}}
           for s in range(50, 650, 50)]


def _drawn(monkeypatch, draw):
    """Run ``draw`` and return the figure it saved, drawn so that every text has its final box."""
    from seqgan_core.io import plot

    kept = {}
    original = plot._save

    def keep(plt, fig, path):
        fig.tight_layout()
        fig.canvas.draw()
        kept["fig"] = fig
        return original(plt, fig, path)

    monkeypatch.setattr(plot, "_save", keep)
    draw()
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(kept["fig"])  # saving closed the figure: a canvas again, to measure its texts
    kept["fig"].canvas.draw()
    return kept["fig"]


def _text_boxes(fig) -> list[tuple[str, object]]:
    """Every text a reader reads, by name: titles, axis labels, tick labels, annotations, legends
    (a legend as one box: its entries are laid out by the legend itself)."""
    boxes = []
    renderer = fig.canvas.get_renderer()
    for i, ax in enumerate(fig.axes):
        texts = [ax.title, ax._left_title, ax._right_title, *ax.texts]
        for axis, limits in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            if not axis.get_visible():  # a twin's shared x axis
                continue
            low, high = sorted(limits)
            ticks = [t for t in axis.get_major_ticks() if low <= t.get_loc() <= high]  # the ticks drawn
            texts += [axis.label, *(label for t in ticks for label in (t.label1, t.label2))]
        for t in texts:
            if t.get_visible() and t.get_text().strip():
                boxes.append((f"axes {i} {t.get_text()!r}", t.get_window_extent(renderer)))
        if ax.get_legend() is not None:
            boxes.append((f"axes {i} legend", ax.get_legend().get_window_extent(renderer)))
    boxes += [(f"figure {t.get_text()!r}", t.get_window_extent(renderer)) for t in fig.texts if t.get_text().strip()]
    return boxes


def _overlaps(fig) -> list[str]:
    boxes = _text_boxes(fig)
    return [f"{a} overlaps {b}" for i, (a, box_a) in enumerate(boxes) for b, box_b in boxes[i + 1:]
            if box_a.overlaps(box_b)]


def _covered_points(fig) -> list[str]:
    """Points of a curve that lie under a legend."""
    out = []
    for ax in fig.axes:
        for other in fig.axes:
            legend = other.get_legend()
            if legend is None:
                continue
            box = legend.get_window_extent(fig.canvas.get_renderer())
            for line in ax.get_lines():
                xy = line.get_transform().transform(line.get_xydata())  # (n, 2) in pixels
                steps = torch.linspace(0, 1, 50)[:, None]  # along each segment, not only its ends
                points = [a + t * (b - a) for a, b in zip(xy[:-1], xy[1:]) for t in steps.tolist()] or list(xy)
                out += [f"{line.get_label()} at {tuple(p)}" for p in points if box.contains(*p)]
    return out


def _figures(monkeypatch, tmp_path):
    """Each figure kind seqgan writes: a rule's curves, a data run's curves, histograms of a few and
    of many tokens."""
    from seqgan_core.evaluation.metrics import Reference, position_counts, token_counts
    from seqgan_core.io import plot

    def histogram(V, tokens):
        seqs = torch.randint(V, (500, 6), generator=torch.Generator().manual_seed(0))
        ref = Reference(None, seqs, token_counts(seqs, V), position_counts(seqs, V))
        return lambda: plot.plot_histogram(seqs, ref, tokens, tmp_path / "h.png", "real (held-out part of w.txt)")

    draws = {
        "rule curves": lambda: plot.plot_curves(HISTORY, tmp_path / "c.png", real_validity=1.0, kept_step=300),
        "data curves": lambda: plot.plot_curves(HISTORY, tmp_path / "d.png", kept_on="heldout_nll", kept_step=300),
        "histogram, few tokens": histogram(12, ["one-size", "invoice", "paypal", *"abcdefghi"]),
        "histogram, many tokens": histogram(300, [str(i) for i in range(300)]),
    }
    return {name: _drawn(monkeypatch, draw) for name, draw in draws.items()}


def test_no_text_overlaps_another_and_no_legend_covers_a_curve(monkeypatch, tmp_path):
    pytest.importorskip("matplotlib")
    for name, fig in _figures(monkeypatch, tmp_path).items():
        assert len(_text_boxes(fig)) > 10, name  # the check sees the figure's texts
        assert not _overlaps(fig), (name, _overlaps(fig))
        assert not _covered_points(fig), (name, _covered_points(fig)[:5])


def test_the_overlap_checks_catch_what_they_look_for(monkeypatch, tmp_path):
    """The checks above can fail: a second title on the first, and a legend inside the plot."""
    pytest.importorskip("matplotlib")
    fig = _figures(monkeypatch, tmp_path)["data curves"]
    ax = fig.axes[0]
    ax.text(0.5, 1.0, "a text on the title", transform=ax.transAxes, ha="center", va="bottom")
    ax.legend(loc="center")
    fig.canvas.draw()
    assert any("a text on the title" in o for o in _overlaps(fig))
    assert _covered_points(fig)


def test_a_data_run_plots_held_out_nll_with_the_kept_step_not_validity(monkeypatch, tmp_path):
    """COCO's curves.png drew "validity" against a "real data (100%)" line and marked the best
    distance, while the run kept the best held-out NLL: a data run's plot shows that."""
    pytest.importorskip("matplotlib")
    fig = _figures(monkeypatch, tmp_path)["data curves"]
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["held-out NLL (the run keeps its best)", "losses at each check"]
    labels = [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    assert "kept: step 300" in labels and not any("validity" in x or "real data" in x or "distance" in x for x in labels)
    kept = next(line for line in fig.axes[0].get_lines() if line.get_label() == "kept: step 300")
    assert list(kept.get_xdata()) == [300, 300]
