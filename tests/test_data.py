"""--data: reading files, the rule built from them, and the metrics only data runs have."""

import json

import pytest
import torch
from conftest import FINISHED
from hypothesis import given
from hypothesis import strategies as st

from seqgan_core.rules.data import EOS, DataFileError, Dataset, load_dataset, parse_sequences, read_sequences
from seqgan_core.errors import SeqganError
from seqgan_core.rules.testing import check_rule, seeds


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_whitespace_chars_and_csv_formats(tmp_path):
    assert read_sequences(write(tmp_path, "a.txt", "1 2 3\n\n 4  5\t6 \n")) == [("1", "2", "3"), ("4", "5", "6")]
    assert read_sequences(write(tmp_path, "b.txt", "ab c\nxyz\n"), chars=True) == [("a", "b", " ", "c"), ("x", "y", "z")]
    assert read_sequences(write(tmp_path, "c.csv", "a,b\n\"c\", d\n")) == [("a", "b"), ("c", "d")]


@pytest.mark.parametrize("name, content, message", [
    ("empty.txt", "", "no sequences"),
    ("blank.txt", "\n  \n\t\n", "no sequences"),
    ("one.txt", "a b c\n", "only one sequence"),
    ("nul.txt", b"a b\nc\x00d\n", "nul.txt:2: binary data"),
    ("latin1.txt", "a b\ncaf\xe9\n".encode("latin-1"), "latin1.txt:2: not UTF-8 text"),
    ("ragged.csv", "a,b,c\nd,e,f\ng,h\n", "ragged.csv:3: 2 columns, but line 1 has 3"),
    ("hole.csv", "a,b\nc,\n", "hole.csv:2: empty cell"),
    ("eos.txt", f"a b\n{EOS} c\n", "eos.txt:2: the token '<eos>' is reserved"),
])
def test_malformed_files_name_the_line(tmp_path, name, content, message):
    with pytest.raises(DataFileError, match=message):
        read_sequences(write(tmp_path, name, content))


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(DataFileError, match="does not exist"):
        read_sequences(tmp_path / "nope.txt")
    with pytest.raises(DataFileError, match="is a directory"):
        read_sequences(tmp_path)


@given(st.binary(max_size=300), st.booleans(), st.booleans())
def test_random_bytes_raise_only_our_error(raw, chars, is_csv):
    try:
        seqs = parse_sequences(raw, "random", chars=chars, is_csv=is_csv)
    except SeqganError:
        return
    assert len(seqs) >= 2 and all(isinstance(t, str) for s in seqs for t in s)


@given(st.text(max_size=300), st.booleans(), st.booleans())
def test_random_text_raises_only_our_error(text, chars, is_csv):
    try:
        parse_sequences(text.encode("utf-8", "surrogatepass"), "random", chars=chars, is_csv=is_csv)
    except SeqganError:
        pass


def test_validity_is_local_plausibility_not_membership():
    """Every adjacent pair seen in training (start and end included): new words can be valid."""
    seqs = [tuple(w) for w in ("cat", "cot", "dog", "dot", "cog", "bat", "cats")] * 4
    data = Dataset.from_sequences(seqs, "words", seed=0)
    rule = data.to_rule()

    def valid(word):
        row = [data.vocab.index(c) for c in word] + [data.vocab.index(EOS)] * (data.length - len(word))
        return bool(rule.valid(torch.tensor([row]))[0])

    trained = {"".join(data.vocab[i] for i in r if data.vocab[i] != EOS) for r in data.train.tolist()}
    assert valid("cat") and valid("cots") and "cots" not in trained  # new, made of seen pairs
    assert not valid("tac") and not valid("ca") and not valid("catt")  # t-a, a-end, t-t never seen
    # fixed-length data (a CSV): pairs keyed by position, so a value is checked against its column
    table = Dataset.from_sequences([("a", "x"), ("b", "y"), ("a", "y"), ("b", "x")] * 3, "t", seed=0).to_rule()
    assert table.valid(torch.tensor([[0, 2], [0, 3]])).all() and not table.valid(torch.tensor([[2, 0]])).any()


def test_bigram_baseline_beats_uniform_on_structured_data():
    import math

    seqs = [tuple(w) for w in ("abab", "baba", "abab", "baba", "abba")] * 8
    data = Dataset.from_sequences(seqs, "ab", seed=0)
    assert 0 < data.bigram_nll() < math.log(len(data.vocab))


def test_padding_split_and_validity(tmp_path):
    lines = [f"w{i} x y" if i % 2 else f"w{i} x" for i in range(40)]
    data = load_dataset(write(tmp_path, "w.txt", "\n".join(lines)), seed=3)
    assert data.eos == EOS and data.vocab[-1] == EOS and data.length == 3
    assert len(data.heldout) == 4 and len(data.train) == 36
    again = load_dataset(write(tmp_path, "w2.txt", "\n".join(lines)), seed=3)
    assert torch.equal(data.heldout, again.heldout)  # the split follows the seed
    rule = data.to_rule()
    eos, x = data.vocab.index(EOS), data.vocab.index("x")
    w0 = data.vocab.index("w0")
    assert rule.valid(torch.tensor([[w0, x, eos]])).all()
    assert rule.valid(torch.tensor([[w0, x, eos]])).all()
    assert not rule.valid(torch.tensor([[x, w0, eos]])).any()
    # anything after the end of sequence is padding too
    assert rule.canonical(torch.tensor([[w0, eos, x]])).tolist() == [[w0, eos, eos]]
    assert rule.strip(["w0", "x", EOS]) == ["w0", "x"]


@given(seed=seeds())
def test_data_rule_honours_the_contract(seed):
    seqs = [tuple(str((i * 7 + j) % 13) for j in range(1 + i % 5)) for i in range(60)]
    rule = Dataset.from_sequences(seqs, "toy", seed=1).to_rule()
    check_rule(rule, seed, n=500, distance_tolerance=0.25)


def test_novelty_and_ngram_metrics():
    seqs = [("a", "b", "c")] * 10 + [("c", "b", "a")] * 10
    data = Dataset.from_sequences(seqs, "toy", seed=0)
    train_row = data.train[:1]
    m = data.metrics(train_row.repeat(5, 1))
    assert m["copied"] == 1.0 and m["novel"] == 0.0  # everything produced was copied from the training part
    assert 0 <= m["ngram1_js"] < 1e-6  # the same three tokens in the same proportions
    other = torch.tensor([[data.vocab.index(t) for t in ("b", "b", "b")]])
    assert data.metrics(other)["ngram1_js"] > 0.3


@pytest.fixture(scope="module")
def words(tmp_path_factory):
    folder = tmp_path_factory.mktemp("words")
    text = "\n".join(["cat", "cot", "cut", "dog", "dot", "cog", "bat", "bot", "but", "big", "bag", "bog"] * 3)
    return write(folder, "words.txt", text)


def test_train_on_data_then_sample_evaluate(run_cli, words, tmp_path):
    out = run_cli("train", "--data", words, "--chars", "--max-steps", "60", "--out", "w")
    assert out.returncode in FINISHED, out.stderr
    config = json.loads((tmp_path / "w" / "config.json").read_text())
    assert config["target"]["kind"] == "data" and config["target"]["chars"] is True
    sample = run_cli("sample", "w", "-n", "5", "--json")
    rows = json.loads(sample.stdout)
    assert len(rows) == 5 and all(len(r) <= 3 and all(len(t) == 1 for t in r) for r in rows)
    ev = run_cli("evaluate", "w", "-n", "200", "--json")
    assert ev.returncode == 0, ev.stderr
    metrics = json.loads(ev.stdout)
    assert {"copied", "novel", "ngram1_js", "ngram3_js"} <= set(metrics["rule_metrics"]) and "validity" in metrics
    assert "ngram4_js" not in metrics["rule_metrics"]  # three-letter words have no 4-grams
    assert metrics["heldout_nll"] > 0 and metrics["bigram_heldout_nll"] > 0  # measured when the model was saved
    assert "held-out NLL" in metrics["verdict"]["line"] and "copied from training" in metrics["verdict"]["line"]
    text = run_cli("evaluate", "w", "-n", "200").stdout
    assert "held-out NLL" in text and "copied" in text


def test_evaluate_when_the_data_file_moved(run_cli, words, tmp_path):
    moved = tmp_path / "moved.txt"
    moved.write_text(words.read_text())
    assert run_cli("train", "--data", moved, "--chars", "--max-steps", "10", "--out", "m").returncode in FINISHED
    moved.unlink()
    gone = run_cli("evaluate", "m", "-n", "50")
    assert gone.returncode == 2 and "no longer exists; pass the file with --data FILE" in gone.stderr
    back = run_cli("evaluate", "m", "-n", "50", "--data", words)
    assert back.returncode == 0, back.stderr


def test_chars_runs_sample_as_text(run_cli, tmp_path):
    (tmp_path / "w.txt").write_text("abc\nabd\nbcd\nacd\n" * 5)
    assert run_cli("train", "--data", "w.txt", "--chars", "--max-steps", "3", "--out", "w").returncode in FINISHED
    lines = run_cli("sample", "w", "-n", "5", "--seed", "1").stdout.splitlines()
    assert len(lines) == 5 and all(" " not in line for line in lines)


def test_csv_header_gives_column_names(tmp_path):
    from seqgan_core.rules.data import read_data

    path = write(tmp_path, "t.csv", "colour,size\nred,1\nblue,2\n")
    assert read_data(path, header=True) == ([("red", "1"), ("blue", "2")], ["colour", "size"])
    assert read_data(path) == ([("colour", "size"), ("red", "1"), ("blue", "2")], None)  # no header: all data
    with pytest.raises(DataFileError, match="t2.csv:1: column name 'a' appears twice"):
        read_data(write(tmp_path, "t2.csv", "a,a\n1,2\n3,4\n"), header=True)
    with pytest.raises(DataFileError, match="--header only applies to CSV"):
        read_data(write(tmp_path, "t.txt", "a b\nc d\n"), header=True)
    with pytest.raises(DataFileError, match="only one sequence"):
        read_data(write(tmp_path, "t3.csv", "a,b\n1,2\n"), header=True)


def test_csv_header_is_kept_and_shown_by_sample_json(run_cli, tmp_path):
    rows = [f"{c},{s},{'yes' if i % 3 else 'no'}" for i, (c, s) in
            enumerate((c, s) for c in ("red", "green", "blue") for s in ("S", "M", "L"))]
    (tmp_path / "shop.csv").write_text("colour,size,sale\n" + "\n".join(rows * 3) + "\n")
    out = run_cli("train", "--data", "shop.csv", "--header", "--max-steps", "5", "--out", "s")
    assert out.returncode in FINISHED, out.stderr
    config = json.loads((tmp_path / "s" / "config.json").read_text())
    assert config["target"]["columns"] == ["colour", "size", "sale"]
    sample = json.loads(run_cli("sample", "s", "-n", "4", "--seed", "0", "--json").stdout)
    assert len(sample) == 4 and all(list(row) == ["colour", "size", "sale"] for row in sample)
    assert "colour" not in {row["colour"] for row in sample}  # the header row was not learned as data
    again = run_cli("evaluate", "s", "-n", "100")
    assert again.returncode == 0, again.stderr
    wrong = run_cli("train", "--rule", "multiples5", "--header")
    assert wrong.returncode == 2 and "--header only applies to --data" in wrong.stderr


def test_a_data_run_that_memorises_ends_at_the_end_of_its_phase():
    """Random sequences cannot be generalised from: held-out NLL rises above its best by far more
    than noise while maximum likelihood learns the training part by heart. The run ends when that
    phase ends, saying why, instead of training a discriminator and an adversarial phase from the
    memorising model (the code before this rule went on into "warmup" and "adversarial")."""
    import random

    from seqgan_core.api import load_target, plan
    from seqgan_core.engine.training import Trainer

    rng = random.Random(0)
    rows = [tuple(rng.choice("abcdefghij") for _ in range(6)) for _ in range(80)]
    target = load_target(sequences=rows, seed=0)
    config, _ = plan(target, None, max_steps=2000, eval_every=20, patience=2, d_warmup=20,
                     **{"generator.hidden": 64})
    trainer = Trainer(target.rule, config)
    result = trainer.run()
    assert result.stop_reason == "memorising" and result.steps < config.max_steps
    assert {row["phase"] for row in trainer.history} == {"mle"}
    assert "memorises the training part" in result.message
    last = trainer.history[-1]
    assert last["nll"] > result.best_nll + trainer.plateau.min_delta > result.best_nll
    # the generator kept is still the best one
    assert trainer.heldout_nll(result.generator)[0] == pytest.approx(result.best_nll)


def test_memorising_is_a_rise_beyond_noise_at_a_phase_end_or_twice_in_a_row():
    from seqgan_core.api import load_target, plan
    from seqgan_core.engine.training import Trainer

    target = load_target(sequences=[tuple("abc"), tuple("abd")] * 10, seed=0)
    trainer = Trainer(target.rule, plan(target, None, max_steps=10)[0])
    trainer.best.best, trainer.best.best_step, trainer.plateau.min_delta = 2.0, 100, 0.05
    flat, up = {"nll": 2.04, "phase": "mle", "above_best": False}, {"nll": 2.2, "phase": "mle", "above_best": True}
    trainer.history = [flat]
    assert trainer.memorising(flat, phase_ends=True) == ""  # within noise: a plateau, not memorising
    trainer.history = [flat, up]
    assert trainer.memorising(up, phase_ends=False) == ""  # one rise, mid-phase: patience decides
    assert "at the end of the mle phase" in trainer.memorising(up, phase_ends=True)
    second = dict(up, nll=2.3)
    trainer.history = [flat, up, second]
    assert "for a second check in a row" in trainer.memorising(second, phase_ends=False)
    assert "memorises the training part" in trainer.memorising(second, phase_ends=False)
    # rule runs stop on their distance: their checks never carry the flag
    rule = load_target("multiples5").rule
    rule_trainer = Trainer(rule, plan(load_target("multiples5"), None)[0])
    row = rule_trainer.check(rule.sample(64, torch.Generator().manual_seed(0)), {})
    assert "above_best" not in row and rule_trainer.memorising(row, phase_ends=True) == ""


def test_data_runs_stop_on_heldout_nll_and_keep_its_best(tmp_path):
    """A data run ends when held-out NLL stops improving, not after the whole schedule, and keeps
    the generator with the best held-out NLL over every check (whatever the distance did)."""
    from seqgan_core.api import load_target, plan
    from seqgan_core.engine.training import Trainer

    words = ["cat", "cot", "dog", "dot", "cog", "bat", "bot", "but", "big", "bag", "bog", "cats"] * 4
    target = load_target(sequences=[tuple(w) for w in words], seed=0)
    config, _ = plan(target, None, max_steps=3000, eval_every=20, patience=2, d_warmup=20,
                     **{"generator.hidden": 32})
    assert config.stop_on == "heldout_nll" and config.until_valid is False
    trainer = Trainer(target.rule, config)
    result = trainer.run()
    assert result.stop_reason in ("early_stopping", "memorising") and result.steps < config.max_steps
    nlls = [row["nll"] for row in trainer.history]
    assert result.kept_on == "heldout_nll" and result.best_nll == min(nlls)
    assert result.best_step == trainer.history[nlls.index(min(nlls))]["step"]
    assert trainer.heldout_nll(result.generator)[0] == pytest.approx(min(nlls))
    # one signal across phases: after the last improvement, at most `patience` checks per phase
    last = max(i for i, v in enumerate(nlls) if v == min(nlls))
    phases = {row["phase"] for row in trainer.history[last + 1:]}
    assert len(trainer.history) - 1 - last <= config.patience * max(len(phases), 1)
    # a rule run is untouched: it still stops on the distance
    rule_config, _ = plan(load_target("multiples5"), None)
    assert rule_config.stop_on == "distance"


def test_a_rule_with_held_out_sequences_of_its_own_trains_like_a_data_file():
    """A rule whose sampler draws from a fixed training set and whose ``heldout`` draws fresh
    sequences (the SeqGAN oracle) is finite data: it stops on held-out NLL and may end as
    memorising, like a data file. Before, it stopped on its distance and memorised the fixed set
    (the oracle's NLL_test 12.6 against maximum likelihood's 9.1). A rule without ``heldout``
    samples fresh sequences every step and keeps stopping on its distance."""
    from seqgan_core import Rule
    from seqgan_core.api import plan
    from seqgan_core.rules.target import rule_target

    fixed = torch.randint(0, 2, (40, 6), generator=torch.Generator().manual_seed(0))

    def sample(n, g):
        return fixed[torch.randint(len(fixed), (n,), generator=g)]

    def fresh(n, g):
        return torch.randint(0, 2, (n, 6), generator=g)

    def is_valid(s):
        return torch.ones(len(s), dtype=torch.bool)

    finite = Rule("finite", "a fixed set of 40", [0, 1], 6, sample, is_valid, heldout=fresh)
    config, _ = plan(rule_target(finite), "autoregressive")
    assert config.stop_on == "heldout_nll" and config.until_valid is False
    endless = Rule("endless", "fresh every draw", [0, 1], 6, fresh, is_valid)
    config, _ = plan(rule_target(endless), "autoregressive")
    assert config.stop_on == "distance"
    # given explicitly, the setting wins
    config, _ = plan(rule_target(finite), "autoregressive", stop_on="distance")
    assert config.stop_on == "distance"


def test_finite_data_turns_on_the_generator_familys_own_regularisation():
    """On finite data the generator family's ``finite_data`` options apply (the GRU: dropout
    0.3); fresh-sample rules keep the preset's values; the user's setting and a rule's
    recommendation win over the family's."""
    from seqgan_core import Rule
    from seqgan_core.api import load_target, plan
    from seqgan_core.models import GRUGenerator
    from seqgan_core.rules.target import rule_target

    assert GRUGenerator.finite_data["dropout"] > 0
    words = [tuple(w) for w in ["cat", "cot", "dog", "dot", "cog", "bat", "bot", "but"] * 4]
    config, _ = plan(load_target(sequences=words, seed=0), None)
    assert config.options["generator"] == "gru"
    assert config.options["generator_options"]["dropout"] == GRUGenerator.finite_data["dropout"]
    config, _ = plan(load_target(sequences=words, seed=0), None, **{"generator.dropout": 0.0})
    assert config.options["generator_options"]["dropout"] == 0.0
    rule_config, _ = plan(load_target("ascending"), "autoregressive")
    assert rule_config.options["generator_options"].get("dropout", 0.0) == 0.0

    fixed = torch.randint(0, 3, (40, 5), generator=torch.Generator().manual_seed(0))
    recommending = Rule("recommending", "a fixed set that recommends its dropout", [0, 1, 2], 5,
                        lambda n, g: fixed[torch.randint(len(fixed), (n,), generator=g)],
                        lambda s: torch.ones(len(s), dtype=torch.bool),
                        heldout=lambda n, g: torch.randint(0, 3, (n, 5), generator=g),
                        recommend={"preset": "autoregressive", "generator.dropout": 0.1})
    config, _ = plan(rule_target(recommending), None)
    assert config.options["generator_options"]["dropout"] == 0.1


def test_finite_data_trains_by_maximum_likelihood_alone_unless_asked():
    """Data runs and rule runs are maximum likelihood alone (the autoregressive preset since the
    suite at 3966a4a; the sequence recipe's ``finite_data`` too, for presets that leave it on);
    ``--set adversarial=true`` brings the phase back on either. The run's first line names only
    what finite data changed."""
    from seqgan_core.api import load_target, plan
    from seqgan_core.engine.recipes import SequenceGAN

    words = [tuple(w) for w in ["cat", "cot", "dog", "dot", "cog", "bat", "bot", "but"] * 4]
    config, choice = plan(load_target(sequences=words, seed=0), None)
    assert config.options["adversarial"] is False
    assert "dropout=0.6" in choice.reason and "adversarial" not in choice.reason  # the preset's own already
    assert "plateau_cut=1.0" in choice.reason and config.recipe_options().plateau_cut == 1.0  # rules only
    assert SequenceGAN.finite_data == {"adversarial": False, "plateau_cut": 1.0, "max_batch_tokens": None,
                                       "max_batch_logits": None}
    asked, _ = plan(load_target(sequences=words, seed=0), None, adversarial="true")
    assert asked.recipe_options().adversarial is True
    rule_config, _ = plan(load_target("ascending"), "autoregressive")
    assert rule_config.recipe_options().adversarial is False
    gan, _ = plan(load_target("ascending"), "autoregressive", adversarial="true")
    assert gan.recipe_options().adversarial is True
