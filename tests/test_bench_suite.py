"""The suite benchmark's runs: the column beside the default trains the default run's own model
with the adversarial phase the other way round, and extra `seqgan train` flags reach every run
(what the README's tables say was run)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
bench_suite = pytest.importorskip("bench_suite")


class Calls(list):
    sizes: list


def fake_runs(monkeypatch, preset: str, default_adversarial: bool = False) -> Calls:
    calls, sizes = Calls(), []
    # whether a run ran the adversarial phase: the default as given, else what its flags say
    monkeypatch.setattr(bench_suite, "adversarial", lambda result: result["adversarial"])

    def train_and_evaluate(args, n):
        calls.append([str(a) for a in args])
        sizes.append(n)
        chosen = args[args.index("--preset") + 1] if "--preset" in args else preset
        flags = " ".join(map(str, args))
        ran = "adversarial=true" in flags or ("adversarial=false" not in flags and default_adversarial)
        return {"preset": chosen, "steps": 700, "wall_s": 1.0, "validity": 1.0, "unique_ratio": 1.0,
                "real_unique_ratio": 1.0, "tv": 0.0, "verdict": {"learned": True, "line": "learned"},
                "adversarial": ran}

    monkeypatch.setattr(bench_suite, "train_and_evaluate", train_and_evaluate)
    calls.sizes = sizes
    return calls


def test_beside_an_adversarial_default_maximum_likelihood_alone_for_its_steps(monkeypatch):
    calls = fake_runs(monkeypatch, "transformer", default_adversarial=True)
    row = bench_suite.one_rule("sum", "arithmetic", 0, ["--preset", "transformer"])
    gan, mle = calls
    assert gan == ["--rule", "sum", "--seed", "0", "--preset", "transformer"]
    assert mle[mle.index("--preset") + 1] == "transformer"  # not a hard-coded autoregressive
    assert mle[mle.index("--max-steps") + 1] == "700" and "adversarial=false" in mle
    assert mle[-2:] == ["--preset", "transformer"] and row["alt"] == "MLE" and row["alt_validity"] == 1.0


def test_beside_a_maximum_likelihood_default_the_gan_of_the_same_model(monkeypatch):
    calls = fake_runs(monkeypatch, "autoregressive")
    row = bench_suite.one_rule("sum", "arithmetic", 0)
    default, gan = calls
    assert default == ["--rule", "sum", "--seed", "0"]
    assert gan[-4:] == ["--preset", "autoregressive", "--set", "adversarial=true"] and "--max-steps" not in gan
    assert row["alt"] == "GAN" and row["alt_verdict_word"] == "learned"
    assert calls.sizes == [100_000, 100_000]  # both runs scored on the section's sample size


def test_samples_reach_every_evaluation(monkeypatch):
    calls = fake_runs(monkeypatch, "autoregressive")
    bench_suite.one_rule("sum", "arithmetic", 0, samples=2_000)
    bench_suite.one_rule("sum", "arithmetic", 0, only_mle=50, samples=3_000)
    assert calls.sizes == [2_000, 2_000, 3_000]


def test_independent_rules_get_the_gan_too_and_alone_has_no_other_column(monkeypatch):
    calls = fake_runs(monkeypatch, "independent")  # a likelihood model too: the same switch
    row = bench_suite.one_rule("multiples5", "independent", 1)
    assert calls[1][-4:] == ["--preset", "independent", "--set", "adversarial=true"] and row["alt"] == "GAN"
    calls = fake_runs(monkeypatch, "autoregressive")
    row = bench_suite.one_rule("sum", "arithmetic", 1, alone=True)
    assert len(calls) == 1 and "alt_validity" not in row


def test_mle_only_runs_no_gan(monkeypatch):
    calls = fake_runs(monkeypatch, "autoregressive")
    row = bench_suite.one_rule("distinct", "all-different", 2, [], only_mle=4000)
    (mle,) = calls
    assert mle[mle.index("--pretrain-steps") + 1] == "4000" and "adversarial=false" in mle
    assert "--preset" not in mle  # the rule's own choice
    assert row["verdict_word"] == "learned"
