"""Regression tests for problems found in review (each names what used to go wrong)."""

import json
import os
import stat

import pytest
import torch

from seqgan_core import Rule
from seqgan_core.config import preset_config
from seqgan_core.export import load_model, stored_tokens
from seqgan_core.plugins import get_plugin_manager, load_rules
from seqgan_core.run import save_run
from seqgan_core.training import train

RULES = load_rules(get_plugin_manager(entry_points=False))


def test_plot_handles_phases_with_different_losses(tmp_path):
    """GRU runs log only `mle` while pretraining and only `d` in warm-up: plot used to KeyError."""
    pytest.importorskip("matplotlib")
    from seqgan_core.plot import plot_curves

    result = train(RULES["palindrome"], preset_config("gru", pretrain_steps=2, d_warmup=2, max_steps=6,
                                                      eval_every=1, batch_size=8))
    assert {"mle"} == set(result.history[0]) - {"step", "distance", "best"}
    assert (plot_curves(result.history, [], tmp_path / "c.png")).exists()


@pytest.mark.parametrize("tokens, expected", [
    ([0, "a", None, 1.5], [0, "a", None, 1.5]),  # JSON keeps these as they are
    ([(0, 0), (0, 1)], ["(0, 0)", "(0, 1)"]),  # tuples would come back as (unhashable) lists
    ([1, "1", b"x"], ["1", "'1'", "b'x'"]),  # str() collides, repr() does not
])
def test_tokens_survive_the_model_file(tokens, expected):
    assert stored_tokens(tokens)[0] == expected


def test_a_rule_with_tuple_tokens_saves_a_loadable_model(tmp_path):
    rule = Rule(name="pairs", description="", vocab=[(0, 0), (0, 1), (1, 0)], length=2,
                sample=lambda n, g: torch.randint(3, (n, 2), generator=g),
                is_valid=lambda s: torch.ones(len(s), dtype=torch.bool))
    model = load_model(save_run(tmp_path, train(rule, preset_config("default", max_steps=2)), rule))
    assert model.vocabulary.tokens == ["(0, 0)", "(0, 1)", "(1, 0)"] and model.meta["tokens_are_strings"]


def test_exported_gru_samples_a_last_chunk_of_one(tmp_path, monkeypatch):
    """-n 65537 left a chunk of 1, which a torch.export GRU program refuses."""
    from seqgan_core import export

    monkeypatch.setattr(export, "SAMPLE_CHUNK", 4)
    rule = RULES["palindrome"]
    result = train(rule, preset_config("gru", max_steps=2, pretrain_steps=1, d_warmup=0, batch_size=8))
    model = load_model(save_run(tmp_path, result, rule, fmt="export"))
    assert model.sample(5, seed=0).shape == (5, 10)


def test_saved_files_are_readable_by_others(tmp_path):
    old = os.umask(0o022)
    try:
        from seqgan_core.atomic import write_text

        write_text(tmp_path / "config.json", "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "config.json").stat().st_mode) == 0o644


def test_final_metrics_row_measures_the_saved_generator(run_cli, tmp_path):
    """The final row used to sample the last weights while the best checked ones were saved."""
    out = run_cli("train", "--rule", "multiples5", "--max-steps", "300", "--min-delta", "5", "--out", "r")
    assert out.returncode == 0, out.stderr
    final = json.loads((tmp_path / "r" / "metrics.jsonl").read_text().splitlines()[-1])
    assert final["step"] == "final"
    ev = json.loads(run_cli("evaluate", "r", "-n", "2000", "--seed", "1000003", "--json").stdout)
    assert ev["validity"] == final["validity"] and ev["tv"] == final["tv"]


def test_any_run_file_blocks_a_fresh_run(run_cli, tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "metrics.jsonl").write_text('{"step": 250}\n')
    out = run_cli("train", "--rule", "multiples5", "--max-steps", "5", "--out", "r")
    assert out.returncode == 2 and "already holds a run" in out.stderr


def test_chars_runs_sample_as_text(run_cli, tmp_path):
    (tmp_path / "w.txt").write_text("abc\nabd\nbcd\nacd\n" * 5)
    assert run_cli("train", "--data", "w.txt", "--chars", "--max-steps", "3", "--out", "w").returncode == 0
    lines = run_cli("sample", "w", "-n", "5", "--seed", "1").stdout.splitlines()
    assert len(lines) == 5 and all(" " not in line for line in lines)


def test_resume_keeps_the_export_format(run_cli, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen([sys.executable, "-m", "seqgan_core", "train", "--rule", "multiples5", "--format",
                             "export", "--max-steps", "3000", "--patience", "1000", "--checkpoint-every", "50",
                             "--out", "r"], cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (tmp_path / "r" / "checkpoint.pt").exists():
        assert proc.poll() is None and time.time() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=120)
    resumed = run_cli("train", "--resume", "r", "--max-steps", "120")
    assert resumed.returncode == 0, resumed.stderr
    assert not (tmp_path / "r" / "generator.pt").exists()
    assert json.loads((tmp_path / "r" / "config.json").read_text())["format"] == "export"
