"""The bad-input catalogue: every mistake a user can make gets one line on stderr and exit 2.

Each case runs the CLI's ``main(argv)`` in this process (conftest.main_in_process), from the
catalogue's folder; a few cases, one per command, run it again
as a whole ``python -m seqgan_core`` process, which costs a torch import (~2 s) each. Property
tests throw random bytes and text at the data-file reader (see test_data.py) and at the model
loader (here): only seqgan's own error type may come out.
"""

import os
import shutil
import subprocess
import sys

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import rewrite_metadata
from seqgan_core.errors import SeqganError
from seqgan_core.io.export import load_model
from conftest import FINISHED


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Real and broken files the catalogue points at."""
    root = tmp_path_factory.mktemp("bad")
    run = root / "run"
    done = subprocess.run([sys.executable, "-m", "seqgan_core", "train", "--rule", "multiples5",
                           "--max-steps", "20", "--out", str(run)], capture_output=True, text=True, timeout=300)
    assert done.returncode in FINISHED, done.stderr
    model = (run / "generator.pt").read_bytes()
    (root / "truncated.pt").write_bytes(model[: len(model) // 2])
    (root / "random.pt").write_bytes(bytes(range(256)) * 40)
    (root / "text.pt").write_text("not a model\n")
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(root / "foreign.pt"))
    rewrite_metadata(run / "generator.pt", root / "newer.pt", format_version=99)
    rewrite_metadata(run / "generator.pt", root / "unknown-rule.pt", rule="not-installed")
    (root / "empty-dir").mkdir()
    (root / "empty.txt").write_text("")
    (root / "one.txt").write_text("a b c\n")
    (root / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (root / "ragged.csv").write_text("1,2,3\n4,5\n")
    (root / "latin1.txt").write_bytes("a b\ncaf\xe9 b\n".encode("latin-1"))
    (root / "ok.txt").write_text("a b\nb a\na a\n")
    (root / "long.txt").write_text(" ".join(["x"] * 300) + "\nx\n")
    (root / "a-file").write_text("x")
    broken_run = root / "broken-run"
    shutil.copytree(run, broken_run)
    (broken_run / "checkpoint.pt").write_bytes(b"garbage")
    no_ckpt = root / "no-checkpoint"
    shutil.copytree(run, no_ckpt)
    (no_ckpt / "checkpoint.pt").unlink()
    (root / "plugin_typo.py").write_text("from seqgan_core import hookimpl\n@hookimpl\ndef register_rule(register):\n    pass\n")
    (root / "plugin_raises.py").write_text(
        "from seqgan_core import hookimpl\n@hookimpl\ndef register_rules(register):\n    raise KeyError('oops')\n")
    (root / "plugin_badshape.py").write_text(
        "import torch\nfrom seqgan_core import Rule, hookimpl\n@hookimpl\ndef register_rules(register):\n"
        "    register(Rule(name='badshape', description='', vocab=[0, 1], length=3,\n"
        "                  sample=lambda n, g: torch.zeros(n, 2, dtype=torch.long),\n"
        "                  is_valid=lambda s: torch.ones(len(s), dtype=torch.bool)))\n")
    return root


TRAIN = [
    (["train", "--rule", "nope"], "unknown rule 'nope'"),
    (["train", "--rule", "multiples5", "--preset", "turbo"], "unknown preset 'turbo'"),
    (["train", "--rule", "multiples5", "--max-steps", "0"], "--max-steps must be at least 1"),
    (["train", "--rule", "multiples5", "--max-steps", "-5"], "--max-steps must be at least 1"),
    (["train", "--rule", "multiples5", "--patience", "0"], "--patience must be at least 1"),
    (["train", "--rule", "multiples5", "--lr", "0"], "--lr must be in (0, 100]"),
    (["train", "--rule", "multiples5", "--lr", "-1"], "--lr must be in (0, 100]"),
    (["train", "--rule", "multiples5", "--lr", "nan"], "option 'lr' must be a finite number, got nan"),
    (["train", "--rule", "multiples5", "--lr", "1e38"], "--lr must be in (0, 100]"),
    (["train", "--rule", "multiples5", "--lr", "fast"], "invalid float value: 'fast'"),
    (["train", "--rule", "multiples5", "--seed", "abc"], "invalid int value: 'abc'"),
    (["train", "--rule", "multiples5", "--seed", "-1"], "--seed must be between 0 and 2**63-1"),
    (["train", "--rule", "multiples5", "--seed", str(2**70)], "--seed must be between 0 and 2**63-1"),
    (["train", "--rule", "multiples5", "--device", "tpu"], "unknown device 'tpu'"),
    (["train", "--rule", "multiples5", "--device", "cuda"], "CUDA is not available"),
    (["train", "--rule", "multiples5", "--loss", "mse"], "unknown loss 'mse'"),
    (["train", "--rule", "multiples5", "--preset", "article", "--loss", "hinge"],
     "the article recipe has no option 'loss'; its options: lr"),
    (["train", "--rule", "multiples5", "--distance", "kl"], "unknown distance 'kl'"),
    (["train", "--rule", "multiples5", "--min-delta", "-1"], "--min-delta must be >= 0"),
    (["train", "--rule", "multiples5", "--batch-size", "0"], "--batch-size must be at least 1"),
    (["train", "--rule", "multiples5", "--batch-size", "63"], "--batch-size 63 must be a multiple of 2"),
    (["train", "--rule", "multiples5", "--checkpoint-every", "0"], "--checkpoint-every must be at least 1"),
    (["train", "--rule", "multiples5", "--preset", "article", "--batch-size", "8"],
     "the article recipe has no option 'batch_size'"),
    (["train", "--rule", "multiples5", "--min-delta", "nan"], "'min_delta' must be a finite number"),
    (["train", "--rule", "multiples5", "--out", "/dev/null/x"], "cannot write the run folder '/dev/null/x': Not a directory"),
    (["train", "--data", "{root}/long.txt"], "long.txt:1: 300 tokens; sequences of at most 256"),
    (["train", "--data", "{root}/ok.txt", "--chars", "--resume-data", "{root}/ok.txt"], "--resume-data only applies"),
    (["train", "--rule", "multiples5", "--preset", "pacgan", "--pretrain-steps", "10"],
     "needs an autoregressive generator"),
    (["train", "--rule", "multiples5", "--format", "onnx"], "invalid choice: 'onnx'"),
    (["train", "--rule", "multiples5", "--data", "{root}/ok.txt"], "not allowed with argument"),
    (["train", "--rule", "multiples5", "--chars"], "--chars only applies to --data"),
    (["train", "--rule", "multiples5", "--out", "{root}/a-file"], "exists and is not a directory"),
    (["train", "--rule", "multiples5", "--out", "{root}/run"], "already holds a run; pick another --out (or, if it was interrupted, continue it with --resume"),
    (["train", "--data", "{root}/missing.txt"], "does not exist"),
    (["train", "--data", "{root}/empty-dir"], "is a directory"),
    (["train", "--data", "{root}/empty.txt"], "no sequences"),
    (["train", "--data", "{root}/one.txt"], "only one sequence"),
    (["train", "--data", "{root}/binary.txt"], "binary.txt:3: binary data"),
    (["train", "--data", "{root}/ragged.csv"], "ragged.csv:2: 2 columns, but line 1 has 3"),
    (["train", "--data", "{root}/latin1.txt"], "latin1.txt:2: not UTF-8 text"),
    (["train", "--data", "{root}/a-file/x.txt"], "does not exist"),
    (["train", "--resume", "{root}/missing"], "is not a run folder"),
    (["train", "--resume", "{root}/no-checkpoint"], "has no checkpoint.pt to resume from"),
    (["train", "--resume", "{root}/broken-run"], "is damaged and cannot be resumed"),
    (["train", "--resume", "{root}/run", "--seed", "3"], "drop --seed"),
    (["train", "--resume", "{root}/run"], "already finished (max steps at step 20); nothing to resume"),
    (["train", "--rule", "badshape", "-p", "plugin_badshape", "--max-steps", "5", "--out", "{root}/x"],
     "rule 'badshape' (plugin plugin_badshape): sample(4) returned shape (4, 2), expected (4, 3)"),
    (["train"], "one of the arguments --rule --data --resume is required"),
]
SAMPLE = [
    (["sample", "{root}/missing.pt"], "does not exist"),
    (["sample", "{root}/empty-dir"], "is a directory without generator.pt"),
    (["sample", "{root}/truncated.pt"], "not a seqgan model file"),
    (["sample", "{root}/random.pt"], "not a seqgan model file"),
    (["sample", "{root}/text.pt"], "not a seqgan model file"),
    (["sample", "{root}/foreign.pt"], "without seqgan metadata"),
    (["sample", "{root}/newer.pt"], "uses model format 99, newer than this seqgan supports"),
    (["sample", "{root}/run", "-n", "0"], "-n must be between 1 and"),
    (["sample", "{root}/run", "-n", "-3"], "-n must be between 1 and"),
    (["sample", "{root}/run", "-n", "100000000000"], "-n must be between 1 and"),
    (["sample", "{root}/run", "-n", "ten"], "invalid int value: 'ten'"),
    (["sample", "{root}/run", "--seed", "-7"], "--seed must be between 0 and 2**63-1"),
    (["sample"], "the following arguments are required: model"),
]
EVALUATE = [
    (["evaluate", "{root}/missing.pt"], "does not exist"),
    (["evaluate", "{root}/truncated.pt"], "not a seqgan model file"),
    (["evaluate", "{root}/foreign.pt"], "without seqgan metadata"),
    (["evaluate", "{root}/unknown-rule.pt", "--trust"], "trained on rule 'not-installed'"),
    (["evaluate", "{root}/run", "-n", "0"], "-n must be between 1 and"),
    (["evaluate", "{root}/run", "-n", "2000000"], "-n must be between 1 and"),
]
PLOT = [
    (["plot", "{root}/missing"], "is not a run folder"),
    (["plot", "{root}/run/generator.pt"], "is not a run folder"),
    (["plot", "{root}/empty-dir"], "is a directory without generator.pt"),
    (["plot", "{root}/run", "-n", "0"], "-n must be between 1 and"),
    (["plot", "{root}/run", "--out", "{root}/a-file"], "exists and is not a directory"),
]
PLUGINS = [
    (["rules", "-p", "no_such_module"], "cannot import plugin module 'no_such_module'"),
    (["rules", "-p", "plugin_typo"], "plugin 'plugin_typo' is invalid"),
    (["rules", "-p", "plugin_raises"], "plugin 'plugin_raises' failed in register_rules: KeyError"),
    (["plugins", "-p", "plugin_typo"], "switch it off with --no-plugins or SEQGAN_LOAD_PLUGINS"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
]


def _whole_process(files, args):
    out = subprocess.run([sys.executable, "-m", "seqgan_core", *args], capture_output=True, text=True,
                         timeout=300, cwd=files, env={**os.environ, "PYTHONPATH": str(files)})
    return out.returncode, out.stderr


def _check(files, args, message, run):
    args = [a.replace("{root}", str(files)) for a in args]
    code, err = run(files, args)
    lines = err.strip().splitlines()
    assert code == 2, (code, err)
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert message.replace("{root}", str(files)) in lines[0], lines[0]


@pytest.fixture
def check(files, main_in_process):
    def in_process(files, args):
        code, _, err = main_in_process(*args, cwd=files, path=files)
        return code, err

    return lambda args, message: _check(files, args, message, in_process)


def test_the_catalogue_is_big_enough():
    assert len(TRAIN + SAMPLE + EVALUATE + PLOT + PLUGINS) >= 25


@pytest.mark.parametrize("args, message", TRAIN, ids=[" ".join(a[1:3]) for a, _ in TRAIN])
def test_train(check, args, message):
    check(args, message)


@pytest.mark.parametrize("args, message", SAMPLE, ids=[" ".join(a[1:]) for a, _ in SAMPLE])
def test_sample(check, args, message):
    check(args, message)


@pytest.mark.parametrize("args, message", EVALUATE, ids=[" ".join(a[1:]) for a, _ in EVALUATE])
def test_evaluate(check, args, message):
    check(args, message)


@pytest.mark.parametrize("args, message", PLOT, ids=[" ".join(a[1:]) for a, _ in PLOT])
def test_plot(check, args, message):
    check(args, message)


@pytest.mark.parametrize("args, message", PLUGINS, ids=[" ".join(a) for a, _ in PLUGINS])
def test_rules_and_plugins(check, args, message):
    check(args, message)


WHOLE = [TRAIN[0], TRAIN[14], SAMPLE[0], EVALUATE[0], PLOT[0], PLUGINS[0]]


@pytest.mark.parametrize("args, message", WHOLE, ids=[" ".join(a[:3]) for a, _ in WHOLE])
def test_a_whole_process_gives_the_same_line(files, args, message):
    _check(files, args, message, _whole_process)


def test_nothing_was_written_by_failed_commands(files):
    assert not (files / "x").exists()  # the badshape plugin failed before a run folder appeared
    assert not (files / "runs").exists()


@settings(max_examples=40)
@given(st.binary(max_size=2000))
def test_model_loader_on_random_bytes(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("fuzz") / "model.pt"
    path.write_bytes(raw)
    with pytest.raises(SeqganError):
        load_model(path)


@settings(max_examples=25)
@given(cut=st.floats(0, 1, exclude_max=True), flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True),
                                                                        st.integers(1, 255)), max_size=5))
def test_model_loader_on_damaged_models(files, tmp_path_factory, cut, flips):
    """Truncated or bit-flipped model files: seqgan's error, or (if the damage missed) a working model."""
    data = bytearray((files / "run" / "generator.pt").read_bytes())
    for where, mask in flips:
        data[int(where * len(data))] ^= mask
    if cut:
        data = data[: int(cut * len(data))]
    path = tmp_path_factory.mktemp("damaged") / "generator.pt"
    path.write_bytes(bytes(data))
    try:
        model = load_model(path)
    except SeqganError:
        return
    assert model.meta["rule"] == "multiples5"
