import json

import pytest

from conftest import FINISHED


def test_train_sample_decode_end_to_end(run_cli, tmp_path):
    out = run_cli("train", "--rule", "multiples5", "--max-steps", "60", "--seed", "1")
    assert out.returncode in FINISHED, out.stderr
    assert "stopped after 60 steps" in out.stderr
    assert out.stderr.strip().splitlines()[-1].startswith("verdict: ")
    model = tmp_path / "runs" / "multiples5" / "generator.pt"
    assert model.exists() and (model.parent / "config.json").exists()

    text = run_cli("sample", model, "-n", "4", "--seed", "2", "--trust")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert len(lines) == 4 and all(len(line.split(" ")) == 10 for line in lines)
    as_json = json.loads(run_cli("sample", model, "-n", "4", "--seed", "2", "--json", "--trust").stdout)
    assert [" ".join(map(str, row)) for row in as_json] == lines
    assert all(0 <= t < 100 for row in as_json for t in row)


def test_rules_lists_builtin(run_cli):
    out = run_cli("rules")
    assert out.returncode == 0
    assert out.stdout.split()[:2] == ["multiples5", "seqgan_plugins.multiples5"]


@pytest.mark.parametrize("args, message", [
    (["train", "--rule", "nope"], "unknown rule 'nope'; available rules: arithmetic, ascending, brackets, checkdigit, "
     "checkdigit-free, checksum, expression, multiples5, oracle, palindrome, permutation, seqgan-oracle"),
    (["train", "--rule", "multiples5", "--preset", "nope"], "unknown preset 'nope'"),
    (["train", "--rule", "multiples5", "--max-steps", "0"], "--max-steps must be at least 1"),
    (["train", "--rule", "multiples5", "--device", "cuda"], "CUDA is not available"),
    (["train", "--rule", "multiples5", "--seed", "x"], "invalid int value: 'x'"),
    (["train"], "one of the arguments --rule --data --resume is required"),
    (["sample", "missing.pt"], "does not exist"),
    (["sample", "."], "is a directory"),
    (["rules", "-p", "no_such_module"], "cannot import plugin module 'no_such_module'"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
])
def test_bad_input_is_one_line_exit_2(run_cli, args, message):
    out = run_cli(*args)
    assert out.returncode == 2, out
    assert message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "Traceback" not in out.stderr


def test_help_has_examples(run_cli):
    for command in ("train", "sample", "rules"):
        out = run_cli(command, "--help")
        assert out.returncode == 0 and "examples:" in out.stdout


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    import os
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("cli") / "run"
    done = subprocess.run(
        [sys.executable, "-m", "seqgan_core", "train", "--rule", "multiples5", "--max-steps", "300",
         "--patience", "100", "--out", str(out)], capture_output=True, text=True, timeout=300, env=dict(os.environ),
    )
    assert done.returncode in FINISHED, done.stderr
    return out


def test_train_writes_history_and_metrics(run_dir):
    history = [json.loads(line) for line in (run_dir / "history.jsonl").read_text().splitlines()]
    assert [h["step"] for h in history] == [50, 100, 150, 200, 250, 300]  # the independent preset checks every 50
    assert {"phase", "validity", "tv", "distance", "best"} <= set(history[-1])
    assert set(history[-1]["losses"]) == {"mle"}  # the independent preset: maximum likelihood alone
    metrics = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == [250, "final"]
    assert {"validity", "coverage", "tv", "js", "unique_ratio", "real_unique_ratio", "real_validity"} <= set(metrics[-1])
    config = json.loads((run_dir / "config.json").read_text())
    assert config["verdict"]["line"].startswith(("learned: ", "not learned: "))
    assert config["choice"].startswith("positions look independent")


def test_a_run_ends_with_one_verdict_that_evaluate_repeats(run_cli, run_dir):
    config = json.loads((run_dir / "config.json").read_text())
    text = run_cli("evaluate", run_dir, "-n", "5000", "--seed", "1000003").stdout
    assert text.strip().splitlines()[-1] == f"verdict: {config['verdict']['line']}"


def test_evaluate_prints_metrics_for_a_run_folder_and_a_file(run_cli, run_dir):
    text = run_cli("evaluate", run_dir, "-n", "500")
    assert text.returncode == 0, text.stderr
    assert "validity" in text.stdout and "coverage" in text.stdout and "/20" in text.stdout
    as_json = json.loads(run_cli("evaluate", run_dir / "generator.pt", "-n", "500", "--json", "--trust").stdout)
    assert as_json["n"] == 500 and 0 <= as_json["tv"] <= 1 and 0 <= as_json["validity"] <= 1
    again = json.loads(run_cli("evaluate", run_dir, "-n", "500", "--json").stdout)
    assert again == as_json  # seeded


def test_plot_writes_pngs(run_cli, run_dir, tmp_path):
    pytest.importorskip("matplotlib")
    out = run_cli("plot", run_dir, "--out", tmp_path / "pics", "-n", "500")
    assert out.returncode == 0, out.stderr
    for name in ("curves.png", "histogram.png"):
        assert (tmp_path / "pics" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_says_how_to_install(run_cli, run_dir, tmp_path):
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "matplotlib.py").write_text("raise ImportError('blocked for this test')\n")
    out = run_cli("plot", run_dir, "--out", tmp_path / "pics", env={"PYTHONPATH": str(blocker)})
    assert out.returncode == 2
    assert out.stderr.strip() == "seqgan: error: seqgan plot needs matplotlib: pip install 'seqgan[plot]'"


def test_train_export_format_then_sample(run_cli, tmp_path):
    out = run_cli("train", "--rule", "multiples5", "--max-steps", "20", "--format", "export", "--out", "x")
    assert out.returncode in FINISHED, out.stderr
    assert (tmp_path / "x" / "generator.pt2").exists()
    sample = run_cli("sample", "x", "-n", "2")
    assert sample.returncode == 0 and len(sample.stdout.splitlines()) == 2


def test_same_seed_in_two_processes_gives_identical_models_and_samples(run_cli, tmp_path):
    for out in ("a", "b"):
        done = run_cli("train", "--rule", "multiples5", "--seed", "11", "--max-steps", "120", "--patience", "50",
                       "--out", out)
        assert done.returncode in FINISHED, done.stderr
    samples = [run_cli("sample", out, "-n", "50", "--seed", "4").stdout for out in ("a", "b")]
    assert samples[0] == samples[1] and len(samples[0].splitlines()) == 50
    assert (tmp_path / "a" / "history.jsonl").read_text() == (tmp_path / "b" / "history.jsonl").read_text()
    other_seed = run_cli("sample", "a", "-n", "50", "--seed", "5").stdout
    assert other_seed != samples[0]


def test_final_metrics_row_measures_the_saved_generator(run_cli, tmp_path):
    """The final row used to sample the last weights while the best checked ones were saved."""
    out = run_cli("train", "--rule", "multiples5", "--max-steps", "300", "--min-delta", "5", "--out", "r")
    assert out.returncode in FINISHED, out.stderr
    final = json.loads((tmp_path / "r" / "metrics.jsonl").read_text().splitlines()[-1])
    assert final["step"] == "final"
    ev = json.loads(run_cli("evaluate", "r", "-n", "5000", "--seed", "1000003", "--json").stdout)
    assert ev["validity"] == final["validity"] and ev["tv"] == final["tv"]


@pytest.mark.parametrize("name", ["generator.pt", "config.json", "checkpoint.pt"])
def test_any_run_file_blocks_a_fresh_run(run_cli, tmp_path, name):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / name).write_text("{}\n")
    out = run_cli("train", "--rule", "multiples5", "--max-steps", "5", "--out", "r")
    assert out.returncode == 2 and "already holds a run" in out.stderr


def test_metrics_alone_do_not_block_a_fresh_run(run_cli, tmp_path):
    """A run killed before its first checkpoint leaves only metrics.jsonl: nothing --resume could
    continue, so a fresh run may use the folder (it used to be refused by both)."""
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "metrics.jsonl").write_text('{"step": 250}\n')
    out = run_cli("train", "--rule", "multiples5", "--max-steps", "5", "--out", "r")
    assert out.returncode in FINISHED, out.stderr


def test_docs_check_sizes_match_the_presets():
    """The presets page (once the README) once said the default checks 1 000 samples where config.json said 4 000."""
    import re
    from pathlib import Path

    from seqgan_core.engine.presets import PRESETS

    page = (Path(__file__).resolve().parent.parent / "docs" / "presets.md").read_text(encoding="utf-8")
    stated = re.findall(r"^\| `([\w-]+)` \|.*checks on (\d+) samples every (\d+) steps", page, re.M)
    assert stated, "the presets page states no check size"
    for name, samples, every in stated:
        run = PRESETS[name].run
        assert (int(samples), int(every)) == (run["eval_samples"], run["eval_every"]), name
