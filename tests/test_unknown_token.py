"""A text data run's unknown token <unk>: what it stands for, that every sampler leaves it out,
that NLL_gen scores every reference line with it and says how many, and that runs from before it
still load as they were."""

import json
import math
import random

import pytest
import torch
from conftest import FINISHED

from seqgan_core.engine.presets import preset_config
from seqgan_core.engine.recipes import get_recipe
from seqgan_core.io.export import load_model, metadata, save_sampler
from seqgan_core.models import GRUGenerator
from seqgan_core.models.constraints import Constraint, constrain, never_sample
from seqgan_core.rules.data import EOS, UNK, DataFileError, Dataset
from seqgan_core.rules.reference_file import nll_of
from seqgan_core.rules.target import data_target, target_from_record

WORDS = "a cat dog sat ran on the mat rug big small red".split()


def lines(n: int, seed: int) -> list[str]:
    r = random.Random(seed)
    return [" ".join(r.choice(WORDS) for _ in range(r.randint(3, 6))) for _ in range(n)]


def test_rare_and_held_out_only_tokens_are_unk():
    seqs = [tuple(s.split()) for s in lines(60, 0)] + [("a", "zebra"), ("the", "yak", UNK)]
    data = Dataset.from_sequences(seqs, "toy", seed=0, unk=True, min_count=2)
    assert data.vocab[-2:] == [UNK, EOS] and "zebra" not in data.vocab and "yak" not in data.vocab
    assert set(data.vocab[:-2]) == set(WORDS)  # every frequent training word kept
    unk = data.vocab.index(UNK)
    # zebra, yak and the file's own <unk> are the unknown class, wherever the split put them
    assert data.unk_tokens == 3 == int((torch.cat([data.train, data.heldout]) == unk).sum())
    everything = Dataset.from_sequences(seqs, "toy", seed=0, unk=True, min_count=1)
    held_only = {t for i in everything.heldout.flatten().tolist() for t in [everything.vocab[i]]} - {
        everything.vocab[i] for i in everything.train.flatten().tolist()}
    assert UNK in everything.vocab and not held_only - {UNK, EOS}  # held-out-only words are <unk> too
    old = Dataset.from_sequences(seqs, "toy", seed=0)  # without unk: every token of the file, as before
    assert "zebra" in old.vocab and old.unk is None and torch.equal(old.heldout != -1, data.heldout != -1)
    with pytest.raises(DataFileError, match="no token occurs 5 times"):
        Dataset.from_sequences([("a", "b"), ("c", "d"), ("e", "f")], "rare", seed=0, unk=True, min_count=5)


CONFIG = preset_config("autoregressive")  # a GRU: what a weights-only file is rebuilt into


def unk_loving_generator(V: int, unk: int, L: int = 6) -> GRUGenerator:
    """A generator that, left alone, draws <unk> almost always."""
    torch.manual_seed(0)
    gen = get_recipe(CONFIG.recipe).build_generator(V, L, CONFIG.recipe_options())
    with torch.no_grad():
        gen.out.bias[unk] = 20.0
    return gen


def meta(rule) -> dict:
    return metadata(rule, config=CONFIG.to_dict())


def rule_with_unk(V: int = 6, L: int = 6):
    from seqgan_core.rules.rule import Rule

    vocab = [f"w{i}" for i in range(V - 1)] + [UNK]
    return Rule(name="unk-toy", description="toy", vocab=vocab, length=L, unk=UNK,
                sample=lambda n, g: torch.randint(V, (n, L), generator=g), is_valid=lambda s: torch.ones(len(s), dtype=torch.bool))


@pytest.mark.parametrize("fmt", ["torchscript", "export", "weights"])
@pytest.mark.parametrize("mask", ["none", "first", "every"])
def test_no_sampler_ever_draws_unk(tmp_path, fmt, mask):
    rule = rule_with_unk()
    V, L, unk = 6, 6, rule.unk_index
    position = {"none": None, "first": torch.ones(L, V, dtype=torch.bool),
                "every": torch.ones(L, V, dtype=torch.bool)}[mask]
    if mask == "first":
        position[0, 0] = False  # redrawn rows (constraints.first_only)
    elif mask == "every":
        position[:, 1] = False  # the masked loop
    gen = constrain(unk_loving_generator(V, unk, L), Constraint(position) if position is not None else None)
    assert (gen.sample(500) == unk).float().mean() > 0.9  # the control: unbanned, it draws <unk>
    never_sample(gen, [unk])
    assert not (gen.sample(2000) == unk).any()  # seqgan's in-memory generator
    model = load_model(save_sampler(gen, meta(rule), tmp_path / f"g.{fmt}", fmt=fmt))
    assert model.unk == UNK
    drawn = model.sample(2000, seed=1)
    assert not (drawn == unk).any() and not any(UNK in row for row in model.sample_tokens(300, seed=2))
    if position is not None and (mask != "first" or fmt == "weights"):  # a program keeps p^3 (constraints.py)
        assert position[torch.arange(L), drawn].all()  # the position mask still holds
    if model.scores_likelihood:  # scoring keeps <unk>: the model's own (high) probability of it
        seqs = torch.full((2, L), unk)
        assert torch.isfinite(model.token_log_probs(seqs)).all() and model.token_log_probs(seqs)[:, 1:].exp().min() > 0.9


def test_a_file_saved_by_another_recipe_is_banned_on_export(tmp_path):
    rule = rule_with_unk()
    gen = unk_loving_generator(6, rule.unk_index)  # no never_sample: save_sampler reads the metadata
    model = load_model(save_sampler(gen, meta(rule), tmp_path / "g.pt"))
    assert not (model.sample(2000, seed=0) == rule.unk_index).any()


def test_where_conditions_never_draw_unk_either(tmp_path):
    from seqgan_core.rules import conditions

    rule = rule_with_unk()
    gen = never_sample(unk_loving_generator(6, rule.unk_index), [rule.unk_index])
    model = load_model(save_sampler(gen, meta(rule), tmp_path / "g.weights.pt", fmt="weights"))
    rows = conditions.sample(model, 300, {"2": "w3"}, seed=0)
    assert (rows[:, 1] == 3).all() and not (rows == rule.unk_index).any()
    with pytest.raises(Exception, match="never occurs"):  # <unk> is no value a sample can be asked for
        conditions.sample(model, 5, {"1": UNK}, seed=0)


@pytest.fixture(scope="module")
def unk_run(tmp_path_factory):
    import os
    import subprocess
    import sys

    folder = tmp_path_factory.mktemp("unk")
    train = lines(300, 0) + ["a zebra sat", "the yak ran on the mat"]  # two words seen once: <unk>
    (folder / "train.txt").write_text("\n".join(train) + "\n")
    # words never in the file; "zebra" only once in it (so <unk> too); one line too long to score
    (folder / "test.txt").write_text("a cat sat\nthe gnu ran on the okapi\nbig zebra\nthe dog sat\n"
                                     + " ".join(["a"] * 9) + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "seqgan_core", "train", "--data", "train.txt", "--max-steps", "40",
         "--set", "eval_every=20", "--set", "pretrain_steps=20", "--out", "run"],
        capture_output=True, text=True, timeout=300, cwd=folder, env=dict(os.environ))
    assert done.returncode in FINISHED, done.stderr
    return folder


def test_evaluate_scores_every_line_and_counts_the_unknown_ones(run_cli, unk_run):
    config = json.loads((unk_run / "run" / "config.json").read_text())
    target = config.get("target") or {}
    out = run_cli("evaluate", "run", "-n", "200", "--reference", "test.txt", "--json", cwd=unk_run)
    assert out.returncode == 0, out.stderr
    ref = json.loads(out.stdout)["reference"]
    # gnu, okapi and zebra: 3 tokens in 2 lines; only the 9-token line (longer than the model) is left out
    assert ref["nll_gen_unk_tokens"] == 3 and ref["nll_gen_unk_lines"] == 2 and ref["nll_gen_skipped"] == 1
    assert math.isfinite(ref["nll_gen"]) and ref["nll_gen"] > 0
    model = load_model(unk_run / "run" / "generator.weights.pt")
    known = nll_of(model, [("a", "cat", "sat"), ("the", "dog", "sat")])
    assert known["nll_gen_unk_tokens"] == 0 and known["nll_gen_unk_lines"] == 0 and known["nll_gen_skipped"] == 0
    text = run_cli("evaluate", "run", "-n", "200", "--reference", "test.txt", cwd=unk_run).stdout
    assert "3 tokens in 2 sequences" in text and "unknown class <unk>" in text
    assert "data.md" in text and (not target or target.get("unk") == UNK)


def test_sample_never_prints_unk(run_cli, unk_run):
    plain = run_cli("sample", "run", "-n", "2000", "--seed", "3", cwd=unk_run)
    as_json = run_cli("sample", "run", "-n", "2000", "--seed", "3", "--json", cwd=unk_run)
    hot = run_cli("sample", "run/generator.pt", "--trust", "-n", "2000", "--temperature", "5", cwd=unk_run)
    for out in (plain, as_json, hot):
        assert out.returncode == 0, out.stderr
        assert UNK not in out.stdout and len(out.stdout.splitlines()) >= 1
    assert len(json.loads(as_json.stdout)) == 2000 and len(plain.stdout.splitlines()) == 2000


def test_a_run_from_before_unk_loads_and_evaluates_as_it_did(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("\n".join(lines(100, 0) + ["a zebra sat"]) + "\n")
    new = data_target(path, seed=0)
    record = {k: v for k, v in new.record.items() if k not in ("unk", "min_count", "unk_tokens")}
    old = target_from_record(record, rules=dict)  # what an older run's config.json holds
    assert UNK not in old.rule.vocab and "zebra" in old.rule.vocab and old.rule.unk is None
    assert old.rule.vocab == Dataset.from_sequences([tuple(s.split()) for s in path.read_text().splitlines()],
                                                    "x", seed=0).vocab
    again = target_from_record(new.record, rules=dict)
    assert again.rule.vocab == new.rule.vocab and again.rule.unk == UNK  # a new run rebuilds with <unk>
    torch.manual_seed(0)
    gen = GRUGenerator(len(old.rule.vocab), old.rule.length, GRUGenerator.Options(embed=8, hidden=8))
    model = load_model(save_sampler(gen, metadata(old.rule, target=record), tmp_path / "old.pt"))
    assert model.unk is None and "unk" not in model.meta
    scored = nll_of(model, [("a", "cat", "sat"), ("a", "gnu", "sat")])
    assert scored["nll_gen_skipped"] == 1 and "nll_gen_unk_tokens" not in scored and "nll_gen" in scored


def test_min_count_is_for_text_data_only(run_cli, tmp_path):
    (tmp_path / "t.csv").write_text("a,b\nc,d\na,d\n")
    table = run_cli("train", "--data", "t.csv", "--min-count", "1", "--max-steps", "2")
    rule = run_cli("train", "--rule", "multiples5", "--min-count", "1", "--max-steps", "2")
    for out in (table, rule):
        assert out.returncode == 2 and out.stderr.count("\n") == 1 and "--min-count" in out.stderr
    csv = data_target(tmp_path / "t.csv", seed=0)  # a table keeps every value, and no <unk>
    assert csv.rule.unk is None and UNK not in csv.rule.vocab


def test_min_count_below_one_is_refused_before_training(run_cli, tmp_path):
    (tmp_path / "w.txt").write_text("a b c\nb c a\nc a b\na a b\n" * 5)
    out = run_cli("train", "--data", "w.txt", "--min-count", "0", "--max-steps", "1", "--out", "r")
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "--min-count" in out.stderr
    assert not (tmp_path / "r").exists()
