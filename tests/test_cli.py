import json

import pytest


def test_train_sample_decode_end_to_end(run_cli, tmp_path):
    out = run_cli("train", "--rule", "multiples5", "--max-steps", "60", "--seed", "1")
    assert out.returncode == 0, out.stderr
    assert "stopped after 60 steps" in out.stderr
    model = tmp_path / "runs" / "multiples5" / "generator.pt"
    assert model.exists() and (model.parent / "config.json").exists()

    text = run_cli("sample", model, "-n", "4", "--seed", "2")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert len(lines) == 4 and all(len(line.split(" ")) == 10 for line in lines)
    as_json = json.loads(run_cli("sample", model, "-n", "4", "--seed", "2", "--json").stdout)
    assert [" ".join(map(str, row)) for row in as_json] == lines
    assert all(0 <= t < 100 for row in as_json for t in row)


def test_rules_lists_builtin(run_cli):
    out = run_cli("rules")
    assert out.returncode == 0
    assert out.stdout.split()[:2] == ["multiples5", "seqgan_plugins.multiples5"]


@pytest.mark.parametrize("args, message", [
    (["train", "--rule", "nope"], "unknown rule 'nope'; available rules: multiples5"),
    (["train", "--rule", "multiples5", "--preset", "nope"], "unknown preset 'nope'"),
    (["train", "--rule", "multiples5", "--max-steps", "0"], "--max-steps must be at least 1"),
    (["train", "--rule", "multiples5", "--device", "cuda"], "CUDA is not available"),
    (["train", "--rule", "multiples5", "--seed", "x"], "invalid int value: 'x'"),
    (["train"], "the following arguments are required: --rule"),
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
