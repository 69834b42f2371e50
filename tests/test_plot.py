"""seqgan plot: curves from every check with phases named, and a histogram labelled with its source."""

import pytest

from seqgan_core.plot import phase_spans, plot_curves
from seqgan_core.plugins import get_plugin_manager, load_rules
from seqgan_core.presets import preset_config
from seqgan_core.training import train

RULES = load_rules(get_plugin_manager(entry_points=False))


def test_phase_spans_follow_the_checks():
    history = [{"step": 10, "phase": "mle"}, {"step": 20, "phase": "mle"}, {"step": 25, "phase": "warmup"},
               {"step": 30, "phase": "adversarial"}, {"step": 40, "phase": "adversarial"}]
    assert phase_spans(history) == [("mle", 0, 20), ("warmup", 20, 25), ("adversarial", 25, 40)]


def test_plot_handles_phases_with_different_losses(tmp_path):
    """Autoregressive runs log only `mle` while pretraining and only `d` in warm-up."""
    pytest.importorskip("matplotlib")
    result = train(RULES["palindrome"], preset_config("autoregressive", pretrain_steps=2, d_warmup=2, max_steps=6,
                                                      eval_every=1, batch_size=8, patience=100))
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
