import math

import pytest
import torch

from seqgan_core import Rule
from seqgan_core.engine.choice import choose, rebuild_independent
from seqgan_core.engine.early_stopping import EarlyStopping
from seqgan_core.errors import SeqganError
from seqgan_core.evaluation.metrics import reference
from seqgan_core.plugins.manager import get_plugin_manager, load_rules
from seqgan_core.engine.presets import PRESETS, preset_config
from seqgan_core.engine.training import Trainer, train
from seqgan_core.evaluation.verdict import judge

RULES = load_rules(get_plugin_manager(entry_points=False))
RULE = RULES["multiples5"]


def _mean(history, lo, hi):
    values = [h["distance"] for h in history if lo < h["step"] <= hi]
    return sum(values) / len(values)


def test_article_distance_falls():
    result = train(RULE, preset_config("article", seed=0, max_steps=1200))
    h = result.history
    assert len(h) == result.steps  # the article checks every step
    first, last = _mean(h, 0, 200), _mean(h, 1000, 1200)
    assert last < first / 3, (first, last)


def test_same_seed_same_weights_and_samples():
    a = train(RULE, preset_config("article", seed=3, max_steps=150))
    b = train(RULE, preset_config("article", seed=3, max_steps=150))
    c = train(RULE, preset_config("article", seed=4, max_steps=150))
    for (name, pa), pb in zip(a.generator.state_dict().items(), b.generator.state_dict().values()):
        assert torch.equal(pa, pb), name
    assert not torch.equal(a.generator.linear.weight, c.generator.linear.weight)
    torch.manual_seed(0)
    sa = a.generator.sample(20)
    torch.manual_seed(0)
    assert torch.equal(sa, b.generator.sample(20))


def test_article_early_stopping_stops_after_patience():
    result = train(RULE, preset_config("article", seed=0, patience=5, max_steps=10_000))
    assert result.stop_reason == "early_stopping"
    assert result.steps == result.best_step + 5


def test_early_stopping_counts_checks():
    stop = EarlyStopping(patience=2, min_delta=0.1)
    assert stop.update(1.0, 1) and not stop.should_stop
    assert not stop.update(0.95, 2)  # not better by more than min_delta
    assert stop.update(0.5, 3) and stop.best == 0.5 and stop.best_step == 3
    assert not stop.update(0.6, 4) and not stop.update(0.5, 5)
    assert stop.should_stop
    stop.reset(0.01)
    assert stop.best == math.inf and not stop.should_stop and stop.min_delta == 0.01


@pytest.mark.parametrize("override, message", [
    ({"max_steps": 0}, "--max-steps must be at least 1"),
    ({"patience": -1}, "--patience must be at least 1"),
    ({"lr": 0.0}, "--lr must be in \\(0, 100\\]"),
    ({"device": "tpu"}, "unknown device 'tpu'"),
    ({"loss": "mse"}, "unknown loss 'mse'"),
    ({"generator.heads": 3}, "the mlp generator has no option 'heads'"),
])
def test_bad_config_is_one_clear_error(override, message):
    with pytest.raises(SeqganError, match=message):
        train(RULE, preset_config("pacgan", **override))


def test_article_recipe_names_the_options_it_has():
    with pytest.raises(SeqganError, match="the article recipe has no option 'loss'; its options: lr"):
        preset_config("article", loss="hinge")


def test_set_run_setting_takes_the_fields_type():
    """`--set log_every=200` arrives as a string; it used to reach `<` and raise a TypeError."""
    assert preset_config("independent", log_every="200", eval_samples="7").log_every == 200
    with pytest.raises(SeqganError, match="run setting 'log_every' must be an integer, got 'x'"):
        preset_config("independent", log_every="x")


def test_unknown_preset():
    with pytest.raises(SeqganError, match="unknown preset 'fast'; available presets: article"):
        preset_config("fast")


def test_independent_preset_short_run_improves_tv():
    result = train(RULE, preset_config("independent", seed=0, max_steps=300, patience=100))
    h = result.history
    assert h[-1]["best"] < h[0]["distance"]
    ref = reference(RULE)
    untrained = train(RULE, preset_config("independent", seed=0, max_steps=1, eval_every=1))
    torch.manual_seed(0)
    before = ref.tv(untrained.generator.sample(2000))
    torch.manual_seed(0)
    after = ref.tv(result.generator.sample(2000))
    assert after < before / 2, (before, after)


def test_autoregressive_phases_run_in_order_and_pretraining_learns():
    palindrome = RULES["palindrome"]
    config = preset_config("autoregressive", seed=0, pretrain_steps=300, d_warmup=10, max_steps=340, eval_every=30,
                           patience=1000, adversarial=True)
    result = train(palindrome, config)
    phases = [h["phase"] for h in result.history]
    assert phases == sorted(phases, key=["mle", "warmup", "adversarial"].index)
    assert {"mle", "warmup", "adversarial"} == set(phases)
    nll = [h["nll"] for h in result.history if h["phase"] == "mle"]
    assert nll[-1] < nll[0] - 0.3
    torch.manual_seed(0)
    valid = palindrome.valid(result.generator.sample(2000)).float().mean().item()
    assert valid > 0.005  # 1e-5 for uniform random digits
    assert {"d", "g", "mle"} <= set(result.history[-1]["losses"])  # the adversarial phase ran


def test_mle_phase_ends_when_heldout_nll_stops_improving():
    config = preset_config("autoregressive", seed=0, pretrain_steps=60, max_steps=5000, eval_every=10, patience=2,
                           min_delta=10.0, adversarial=False, until_valid=False, plateau_cut=1.0)
    result = train(RULES["palindrome"], config)
    # no check can improve by 10 nats: the phase (and, being the only one, the run) ends after 1 + 2
    # checks, once half its budget is spent (no cut of the learning rate first: plateau_cut 1)
    assert result.steps == 30 and result.stop_reason == "early_stopping"
    # ... unless validity is still far below real data's: then only a learned rule (or max_steps) ends it
    config = preset_config("autoregressive", seed=0, pretrain_steps=100, max_steps=90, eval_every=10, patience=2,
                           min_delta=10.0, adversarial=False)
    assert train(RULES["palindrome"], config).steps == 90


def test_mle_plateau_counts_only_after_half_its_budget():
    """While the learning rate is still high the held-out NLL jitters; a plateau there ended the
    phase on rules that were still learning."""
    config = preset_config("autoregressive", seed=0, pretrain_steps=200, max_steps=5000, eval_every=10, patience=2,
                           min_delta=10.0, adversarial=False, until_valid=False, plateau_cut=1.0)
    result = train(RULES["palindrome"], config)
    assert result.steps == 100 and result.stop_reason == "early_stopping"


def test_maximum_likelihood_only_stops_at_its_budget():
    config = preset_config("autoregressive", pretrain_steps=25, max_steps=1000, eval_every=10, adversarial=False,
                           patience=1000, batch_size=16)
    result = train(RULES["palindrome"], config)
    assert result.steps == 25 and result.stop_reason == "budget"
    assert {h["phase"] for h in result.history} == {"mle"}


def test_min_delta_comes_from_the_checks_own_noise():
    trainer = Trainer(RULE, preset_config("pacgan", seed=0, max_steps=100))  # stopping on the distance
    trainer.run()
    noise = trainer.noise
    assert 0 < noise.spread < 0.05 and 0 < noise.floor < 0.2 and noise.validity == 1.0
    assert trainer.plateau.min_delta == pytest.approx(2 * noise.spread)


def test_a_run_far_below_real_validity_does_not_stop_early():
    """A plateau must not end a run whose validity is far below real data's (here: a rule that
    a model emitting all positions independently cannot learn)."""
    rule = RULES["palindrome"]
    config = preset_config("independent", seed=0, max_steps=400, patience=1, min_delta=10.0)
    result = train(rule, config)
    assert result.steps == 400 and result.stop_reason == "max_steps"
    assert result.history[-1]["validity"] < 0.5


def test_keep_best_saves_the_best_checked_generator():
    trainer = Trainer(RULE, preset_config("independent", seed=1, max_steps=300, patience=100))
    result = trainer.run()
    best = min(trainer.history, key=lambda h: h["distance"])
    assert result.best_step == best["step"] and result.best_distance == best["distance"]
    assert trainer.distance(trainer.sample(trainer.config.eval_samples, result.generator)) == best["distance"]


# -- choosing a preset from the rule, never its name


def test_independent_positions_are_detected_and_dependent_ones_too():
    assert choose(RULE).preset == "independent"
    for name in ("ascending", "arithmetic", "palindrome"):
        choice = choose(RULES[name])
        assert choice.preset == "autoregressive", name
        assert "positions depend on each other" in choice.reason


def test_choice_works_for_a_rule_it_never_saw():
    def sample(n, g):  # first and last token equal, the rest free
        x = torch.randint(7, (n, 5), generator=g)
        x[:, -1] = x[:, 0]
        return x

    rule = Rule(name="ends-match", description="", vocab=list(range(7)), length=5, sample=sample,
                is_valid=lambda s: s[:, 0] == s[:, -1])
    assert choose(rule).preset == "autoregressive"
    indep = Rule(name="free", description="", vocab=list(range(7)), length=5,
                 sample=lambda n, g: torch.randint(7, (n, 5), generator=g), is_valid=lambda s: s[:, 0] >= 0)
    assert choose(indep).preset == "independent"


def test_a_rule_may_recommend_a_preset():
    rule = Rule(name="rec", description="", vocab=[0, 1], length=2, sample=lambda n, g: torch.zeros(n, 2).long(),
                is_valid=lambda s: s[:, 0] == 0, recommend={"preset": "article"})
    choice = choose(rule)
    assert choice.preset == "article" and "recommends" in choice.reason


def test_rebuilt_columns_keep_each_positions_tokens():
    seqs = torch.arange(40).view(10, 4)
    rebuilt = rebuild_independent(seqs, torch.Generator().manual_seed(0))
    for col in range(4):
        assert sorted(rebuilt[:, col].tolist()) == sorted(seqs[:, col].tolist())
    assert not torch.equal(rebuilt, seqs)


def test_presets_hold_no_rule_names():
    text = repr({name: (p.run, p.options) for name, p in PRESETS.items()})
    for name in RULES:
        assert name not in text


# -- the verdict


def _metrics(**changes):
    base = {"validity": 0.995, "real_validity": 1.0, "unique_ratio": 0.99, "real_unique_ratio": 1.0, "tv": 0.01,
            "real_tv": 0.005}
    return {**base, **changes}


def _judge(metrics, **kw):
    args = {"steps": 500, "max_steps": 1000, "stop_reason": "early_stopping", "autoregressive": True, "patience": 4}
    return judge(metrics, **{**args, **kw})


def test_verdict_learned():
    verdict = _judge(_metrics())
    assert verdict.learned and verdict.line.startswith("learned: validity 99.5% (real data 100.0%)")


@pytest.mark.parametrize("changes, kw, problem, advice", [
    ({"validity": 0.43}, {}, "validity 43.00% is below 99.00%", "--patience 8"),
    ({"validity": 0.43}, {"stop_reason": "max_steps", "steps": 1000}, "validity 43.0%", "--max-steps 2000"),
    ({"validity": 0.43}, {"stop_reason": "budget", "steps": 1000}, "validity 43.0%", "--pretrain-steps 2000"),
    ({"validity": 0.10}, {"autoregressive": False}, "validity 10.0%", "--preset autoregressive"),
    ({"unique_ratio": 0.2}, {}, "too few distinct sequences", "another --seed"),
    ({"tv": 0.2}, {}, "token frequencies are off", "--patience 8"),
])
def test_verdict_not_learned_names_the_miss_and_what_to_try(changes, kw, problem, advice):
    verdict = _judge(_metrics(**changes), **kw)
    assert not verdict.learned
    assert verdict.line.startswith("not learned: ") and problem in verdict.line and f"try {advice}" in verdict.line


def test_verdict_accepts_real_datas_own_validity_when_the_sampler_is_not_always_valid():
    assert _judge(_metrics(validity=0.95, real_validity=0.955)).learned
    assert not _judge(_metrics(validity=0.90, real_validity=0.955)).learned


def test_a_rule_that_accepts_everything_is_asked_through_its_distance():
    """Validity cannot see dependencies when every sequence is valid; the rule's distance can."""
    def sample(n, g):  # the second token repeats the first
        x = torch.randint(6, (n, 1), generator=g)
        return torch.cat([x, x], dim=1)

    def distance(s):  # share of sequences whose tokens differ: 0 on real data
        return (s[:, 0] != s[:, 1]).float().mean().item()

    everything = dict(name="all-valid", description="", vocab=list(range(6)), length=2, sample=sample,
                      is_valid=lambda s: torch.ones(len(s), dtype=torch.bool))
    assert choose(Rule(**everything)).preset == "independent"  # nothing to see without a distance
    choice = choose(Rule(**everything, distance=distance))
    assert choice.preset == "autoregressive" and "the rule's distance" in choice.reason
    assert choose(RULES["oracle"]).preset == "autoregressive"


def test_advice_to_train_longer_keeps_the_budget_the_run_was_given():
    """Following the advice twice must not undo the first piece: a run given --patience 8 that then
    hit --max-steps is told to double the steps *and keep* --patience 8 (the old advice,
    "--max-steps 8000" alone, sent the next run back to the default patience, whose advice was
    "--patience 8" again: a user went round in a circle on an external rule)."""
    at_max = _judge(_metrics(validity=0.9), stop_reason="max_steps", steps=4000, max_steps=4000, patience=8)
    assert "try --max-steps 8000 --patience 8" in at_max.line
    plateaued = _judge(_metrics(validity=0.9), stop_reason="early_stopping", steps=2500, max_steps=8000, patience=4)
    assert "try --patience 8 --max-steps 8000" in plateaued.line


def _cut_config(**override):
    """Maximum likelihood on multiples5 where every check after the first is a plateau (no gain can
    beat min_delta 10), counted from step 100 (half the 200-step budget)."""
    settings = dict(seed=0, max_steps=400, eval_every=10, patience=2, min_delta=10.0, pretrain_steps=200,
                    until_valid=False)
    return preset_config("independent", **{**settings, **override})


def test_a_plateau_cuts_the_learning_rates_once_then_ends_the_phase():
    plain = Trainer(RULE, _cut_config(plateau_cut=1.0))  # no cut: the first plateau ends the phase
    assert plain.run().stop_reason == "early_stopping" and plain.step == 100 and plain.cuts == []

    trainer = Trainer(RULE, _cut_config(plateau_cut=0.1))
    result = trainer.run()
    assert result.cuts == [100] and result.stop_reason == "early_stopping"
    assert result.steps == 120  # two more checks at the lower rates: the next plateau ends the phase
    assert [h["lr_scale"] for h in result.history if h["step"] in (100, 110)] == [1.0, 0.1]
    recipe = trainer.recipe
    fraction = recipe.options.pretrain_decay ** ((120 - 1) / 200)  # the schedule at step 120, then cut
    assert recipe.pretrain_opt.param_groups[0]["lr"] == pytest.approx(0.1 * recipe.options.pretrain_lr * fraction)


def test_a_cut_survives_a_checkpoint():
    whole = Trainer(RULE, _cut_config(plateau_cut=0.1)).run()
    first = Trainer(RULE, _cut_config(plateau_cut=0.1, max_steps=115))
    first.run()
    state = first.state_dict()
    second = Trainer(RULE, _cut_config(plateau_cut=0.1))
    second.load_state_dict(state)
    assert second.recipe.lr_scale == 0.1 and second.cuts == [100]
    resumed = second.run()
    assert resumed.steps == whole.steps and resumed.cuts == whole.cuts
    for (name, a), b in zip(whole.generator.state_dict().items(), resumed.generator.state_dict().values()):
        assert torch.equal(a, b), name


def test_long_sequences_take_fewer_per_step_unless_a_batch_size_is_given():
    """``max_batch_tokens`` (the autoregressive preset: 4 096) caps the tokens of a step, so a
    64-token rule trains on 64 sequences a step where a 10-token one trains on 256; a batch size
    the user gives is used as given."""
    from seqgan_core.engine.recipes.sequence import SequenceGAN

    def per_step(length, vocab=10, **override):
        return SequenceGAN.sequences_per_step(preset_config("autoregressive", **override).recipe_options(), length, vocab)

    assert [per_step(L) for L in (10, 16, 20, 64, 10_000)] == [256, 256, 204, 64, 1]
    assert per_step(64, batch_size=512) == 512
    assert per_step(64, batch_size=512, max_batch_tokens=2048) == 32
    assert SequenceGAN.sequences_per_step(preset_config("pacgan").recipe_options(), 64, 10) == 64  # no cap
    palindrome = RULES["palindrome"]  # L = 10: a recipe built for it uses the capped size
    trainer = Trainer(palindrome, preset_config("autoregressive", max_steps=1, max_batch_tokens=50))
    assert trainer.recipe.batch_size == 5
    with pytest.raises(SeqganError, match="max_batch_tokens must be at least 1"):
        preset_config("autoregressive", max_batch_tokens=0)


def test_large_vocabularies_take_fewer_sequences_per_step_but_never_fewer_than_64():
    """``max_batch_logits`` (the autoregressive preset: 1 280 000) caps batch x length x vocabulary:
    the suite's pairs rule (10 tokens of 1 000) trains on 128 sequences a step, a vocabulary of 100
    keeps 256, a huge one keeps 64; a batch size the user gives is used as given."""
    from seqgan_core.engine.recipes.sequence import SequenceGAN

    def per_step(length, vocab, **override):
        return SequenceGAN.sequences_per_step(preset_config("autoregressive", **override).recipe_options(), length, vocab)

    assert [per_step(10, V) for V in (100, 500, 1000, 1500, 50_000)] == [256, 256, 128, 85, 64]
    assert per_step(64, 1000) == 64  # the token cap's 64 and the floor agree
    assert per_step(128, 50_000) == 32  # the token cap alone may go below 64: it caps length
    assert per_step(10, 1000, batch_size=256) == 256
    with pytest.raises(SeqganError, match="max_batch_logits must be at least 1"):
        preset_config("autoregressive", max_batch_logits=0)
