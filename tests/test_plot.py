"""seqgan plot: curves from every check with phases named, and a histogram labelled with its source."""

import pytest

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
    assert labels[0] == "real (training part of w.txt)"


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
    names = {t.get_text() for t in losses.texts}
    assert {"maximum likelihood", "adversarial"} <= names
