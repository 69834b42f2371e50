"""`seqgan evaluate --reference FILE` (BLEU, Self-BLEU, NLL_gen), NLL_test, `sample --temperature`,
and a 50 000-type data file that trains."""

import json
import math
import random

import pytest
import torch

from seqgan_core.evaluation.bleu import bleu_scores, self_bleu_scores
from seqgan_core.io.export import load_model

from conftest import FINISHED

WORDS = "a cat dog sat ran on the mat rug big small red".split()


def sentences(n: int, seed: int) -> list[str]:
    r = random.Random(seed)
    return [" ".join(r.choice(WORDS) for _ in range(r.randint(3, 6))) for _ in range(n)]


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    import os
    import subprocess
    import sys

    folder = tmp_path_factory.mktemp("ref")
    (folder / "train.txt").write_text("\n".join(sentences(300, 0)) + "\n")
    (folder / "test.txt").write_text("\n".join(sentences(100, 1)) + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "seqgan_core", "train", "--data", "train.txt", "--max-steps", "40",
         "--set", "eval_every=20", "--set", "pretrain_steps=20", "--out", "run"],
        capture_output=True, text=True, timeout=300, cwd=folder, env=dict(os.environ))
    assert done.returncode in FINISHED, done.stderr
    return folder


def test_evaluate_reference_scores_are_bleu_of_the_samples(run_cli, text_run):
    out = run_cli("evaluate", "run", "-n", "300", "--reference", "test.txt", "--json", cwd=text_run)
    assert out.returncode == 0, out.stderr
    ref = json.loads(out.stdout)["reference"]
    model = load_model(text_run / "run" / "generator.pt")
    samples = model.sample_tokens(300, seed=0)  # evaluate's default seed
    refs = [tuple(line.split()) for line in (text_run / "test.txt").read_text().splitlines()]
    expected = {**bleu_scores(samples, refs), **self_bleu_scores(samples, (4, 5))}
    for key, value in expected.items():
        assert ref[key] == pytest.approx(value, abs=1e-12), key
    assert ref["bleu_samples"] == 300 and ref["reference_size"] == 100
    assert 0 <= ref["copied"] <= 1
    # NLL_gen: the model's own per-token NLL of the file, every line scorable (all words known)
    assert ref["nll_gen_skipped"] == 0 and 0 < ref["nll_gen"] < math.log(len(WORDS) + 1) * 2
    text = run_cli("evaluate", "run", "-n", "300", "--reference", "test.txt", cwd=text_run).stdout
    assert "BLEU-4" in text and "Self-BLEU-4" in text and "NLL_gen" in text and "held-out NLL" in text


def test_nll_gen_matches_the_generator_it_was_saved_from(text_run):
    model = load_model(text_run / "run" / "generator.pt")
    seqs = model.sample(50, seed=3)
    lp = model.token_log_probs(seqs)
    assert lp.shape == seqs.shape and (lp <= 0).all()
    # scoring in chunks changes nothing
    assert torch.allclose(lp, model.token_log_probs(seqs, chunk=7))


def test_unknown_tokens_are_scored_as_unk_and_counted(run_cli, text_run):
    (text_run / "odd.txt").write_text("a cat zebra\nthe dog sat\n")
    ref = json.loads(run_cli("evaluate", "run", "-n", "50", "--reference", "odd.txt", "--json",
                             cwd=text_run).stdout)["reference"]
    assert ref["nll_gen_skipped"] == 0 and ref["nll_gen_unk_tokens"] == 1 and ref["nll_gen_unk_lines"] == 1
    assert math.isfinite(ref["nll_gen"])


def test_missing_reference_is_one_line(run_cli, text_run):
    out = run_cli("evaluate", "run", "--reference", "nope.txt", cwd=text_run)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "nope.txt" in out.stderr


def test_sample_temperature(run_cli, text_run):
    cold = run_cli("sample", "run", "-n", "200", "--seed", "1", "--temperature", "0.01", "--json", cwd=text_run)
    hot = run_cli("sample", "run", "-n", "200", "--seed", "1", "--temperature", "5", "--json", cwd=text_run)
    assert cold.returncode == 0 and hot.returncode == 0, cold.stderr + hot.stderr
    distinct = lambda out: len({tuple(r) for r in json.loads(out.stdout)})  # noqa: E731
    assert distinct(cold) < distinct(hot)  # near-greedy repeats itself
    again = run_cli("sample", "run", "-n", "200", "--seed", "1", "--temperature", "0.01", "--json", cwd=text_run)
    assert again.stdout == cold.stdout
    bad = run_cli("sample", "run", "--temperature", "0", cwd=text_run)
    assert bad.returncode == 2 and "--temperature" in bad.stderr


def test_nll_test_on_the_oracle_is_the_saved_models_nll_of_fresh_draws(tmp_path):
    from seqgan_core.api import load_target
    from seqgan_core.io.export import metadata, save_sampler
    from seqgan_core.models import GRUGenerator
    from seqgan_core.rules.reference_file import heldout_nll

    target = load_target("oracle")  # evaluate adds these figures to the rule's nll_oracle and floor
    torch.manual_seed(0)
    gen = GRUGenerator(5000, 20, GRUGenerator.Options(embed=8, hidden=8))
    model = load_model(save_sampler(gen, metadata(target.rule), tmp_path / "generator.pt"))
    figures = heldout_nll(model, target, n=300, seed=5)
    fresh = target.rule.heldout(300, torch.Generator().manual_seed(5))
    with torch.no_grad():
        expected = -gen.token_log_probs(fresh).double().mean().item()
    assert figures["heldout_nll"] == pytest.approx(expected, rel=1e-6)
    assert 8.0 < figures["heldout_nll"] < 9.0  # an untrained model: about log(5000) = 8.52
    # at temperature T, the distribution sample(n, T) draws from: softmax(logits / T)
    cold = model.token_log_probs(fresh, temperature=0.5)
    with torch.no_grad():
        logp = (gen.teacher_forced_logits(fresh) / 0.5).log_softmax(-1).gather(-1, fresh.unsqueeze(-1)).squeeze(-1)
    assert torch.allclose(cold, logp, atol=1e-5)


def test_fifty_thousand_token_types_train(run_cli, tmp_path):
    # every type occurs: 50 000 types in 12 500 lines of 4 tokens
    types = [f"w{i}" for i in range(50_000)]
    random.Random(0).shuffle(types)
    lines = [" ".join(types[i:i + 4]) for i in range(0, 50_000, 4)]
    (tmp_path / "big.txt").write_text("\n".join(lines) + "\n")
    out = run_cli("train", "--data", "big.txt", "--min-count", "1", "--max-steps", "6", "--set", "eval_every=3", "--set", "eval_samples=64",
                  "--set", "pretrain_steps=3", "--set", "batch_size=16", "--out", "big", timeout=600)
    assert out.returncode in FINISHED, out.stderr
    model = load_model(tmp_path / "big" / "generator.pt")
    # every training type kept (the held-out part's own types are <unk>), and <unk>
    assert len(model.vocabulary.tokens) == 45_001 and model.unk == "<unk>"
    bare = run_cli("train", "--data", "big.txt", "--max-steps", "1", "--out", "bare")  # each type seen once
    assert bare.returncode == 2 and "--min-count" in bare.stderr
