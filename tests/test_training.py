import pytest
import torch

from seqgan_core.config import preset_config
from seqgan_core.early_stopping import EarlyStopping
from seqgan_core.errors import SeqganError
from seqgan_core.plugins import get_plugin_manager, load_rules
from seqgan_core.training import train

RULE = load_rules(get_plugin_manager(entry_points=False))["multiples5"]


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


def test_early_stopping_stops_after_patience():
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


@pytest.mark.parametrize("override, message", [
    ({"max_steps": 0}, "--max-steps must be at least 1"),
    ({"patience": -1}, "--patience must be at least 1"),
    ({"lr": 0.0}, "--lr must be in \\(0, 100\\]"),
    ({"device": "tpu"}, "unknown device 'tpu'"),
])
def test_bad_config_is_one_clear_error(override, message):
    with pytest.raises(SeqganError, match=message):
        train(RULE, preset_config("article", **override))


def test_unknown_preset():
    with pytest.raises(SeqganError, match="unknown preset 'fast'; available presets: article"):
        preset_config("fast")


def test_default_preset_short_run_improves_tv():
    from seqgan_core.metrics import Reference

    result = train(RULE, preset_config("default", seed=0, max_steps=300, patience=100))
    h = result.history
    assert h[-1]["best"] < h[0]["distance"]
    reference = Reference.from_rule(RULE)
    untrained = train(RULE, preset_config("default", seed=0, max_steps=1, eval_every=1))
    torch.manual_seed(0)
    before = reference.tv(untrained.generator.sample(2000))
    torch.manual_seed(0)
    after = reference.tv(result.generator.sample(2000))
    assert after < before / 2, (before, after)


def test_gru_preset_pretraining_learns_the_rule():
    from seqgan_core.plugins import get_plugin_manager, load_rules

    palindrome = load_rules(get_plugin_manager(entry_points=False))["palindrome"]
    config = preset_config("gru", seed=0, pretrain_steps=300, d_warmup=10, max_steps=330, eval_every=30)
    result = train(palindrome, config)
    mle = [h["mle"] for h in result.history if "mle" in h]
    assert mle[-1] < mle[0] - 0.3
    torch.manual_seed(0)
    valid = palindrome.valid(result.generator.sample(2000)).float().mean().item()
    assert valid > 0.005  # 1e-5 for uniform random digits; the full preset reaches 0.99
    assert {"d", "g", "mle"} <= set(result.history[-1])  # the adversarial phase ran


def test_pretraining_needs_an_autoregressive_generator():
    with pytest.raises(SeqganError, match="--pretrain-steps needs an autoregressive generator"):
        preset_config("default", pretrain_steps=10)
