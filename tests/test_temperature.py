"""The sampling temperature a rule run saves: the warmest the verdict calls learned, told and kept."""

import dataclasses
import json
from types import SimpleNamespace

import pytest
import torch

from seqgan_core.export import load_model
from seqgan_core.metrics import evaluate, reference
from seqgan_core.plugins import get_plugin_manager, load_rules
from seqgan_core.presets import preset_config
from seqgan_core.run import FINAL_SAMPLES, choose_temperature, save_run
from seqgan_core.target import rule_target
from seqgan_core.temperature import TEMPERATURES, choose, clearly
from seqgan_core.training import train
from seqgan_core.verdict import judge

RULES = load_rules(get_plugin_manager(entry_points=False))


def test_choose_keeps_the_warmest_learned_and_stops_there():
    asked = []

    def learned_at(t):
        asked.append(t)
        return t <= 0.8, {"validity": 1 - t / 10}

    t, tried = choose(learned_at)
    assert t == 0.8 and asked == [0.9, 0.8]  # 0.7 is never sampled
    assert [row["temperature"] for row in tried] == [0.9, 0.8] and tried[-1]["learned"]


def test_clearly_learned_needs_two_standard_errors_above_the_bar():
    # at 99 % and 5 000 sequences one standard error is 0.14 points
    assert not clearly(True, 0.9902, 0.99, 5000)
    assert clearly(True, 0.9930, 0.99, 5000)
    assert not clearly(False, 1.0, 0.99, 5000)


def test_choose_falls_back_to_one_when_nothing_is_learned():
    t, tried = choose(lambda t: (False, {}))
    assert t == 1.0 and [row["temperature"] for row in tried] == list(TEMPERATURES)


def _stub_trainer(rule, valid_below: float, choose_temperature: bool = True):
    """A trainer whose generator samples real (valid) data at temperatures below ``valid_below``
    and breaks 5 % of its sequences above: what an MLE-trained generator's tail does at T = 1."""
    asked = []

    def sample(n, generator=None, temperature=1.0, seed_offset=0):
        asked.append(temperature)
        seqs = rule.sample_checked(n, torch.Generator().manual_seed(seed_offset + int(temperature * 100)))
        if temperature >= valid_below:
            seqs[: n // 20, 0] = 1  # multiples5: 1 is not a multiple of 5
        return seqs

    config = preset_config("autoregressive", choose_temperature=choose_temperature)
    return SimpleNamespace(config=config, recipe=SimpleNamespace(autoregressive=True), sample=sample), asked


@pytest.mark.parametrize("valid_below, expected", [(2.0, 1.0), (0.95, 0.9), (0.75, 0.7), (0.5, 1.0)])
def test_a_run_keeps_the_warmest_temperature_the_verdict_calls_learned(valid_below, expected):
    rule = RULES["multiples5"]
    trainer, asked = _stub_trainer(rule, valid_below)
    result = SimpleNamespace(steps=100, stop_reason="early_stopping", generator=None)
    final = evaluate(trainer.sample(FINAL_SAMPLES, None, 1.0), reference(rule))
    chosen = choose_temperature(trainer, result, rule_target(rule), final)
    assert chosen["temperature"] == expected
    if valid_below > 1:  # learned at 1.0: nothing else is sampled
        assert chosen["tried"] == [] and asked == [1.0]
    else:
        first = chosen["tried"][0]
        assert first["temperature"] == 1.0 and not first["learned"] and "validity" in first["problem"]


def test_the_choice_can_be_turned_off_and_data_runs_never_make_it():
    rule = RULES["multiples5"]
    trainer, asked = _stub_trainer(rule, 0.95, choose_temperature=False)
    result = SimpleNamespace(steps=100, stop_reason="early_stopping", generator=None)
    final = evaluate(trainer.sample(FINAL_SAMPLES, None, 1.0), reference(rule))
    assert choose_temperature(trainer, result, rule_target(rule), final) == {"temperature": 1.0, "tried": []}
    assert asked == [1.0]


def test_a_rule_with_held_out_sequences_of_its_own_keeps_one():
    # finite data (the oracle's kind): the run stopped on held-out NLL, which colder sampling trades away
    rule = RULES["multiples5"]
    finite = dataclasses.replace(rule, heldout=rule.sample)
    trainer, asked = _stub_trainer(finite, 0.95)
    result = SimpleNamespace(steps=100, stop_reason="memorising", generator=None)
    final = evaluate(trainer.sample(FINAL_SAMPLES, None, 1.0), reference(finite))
    assert rule_target(finite).finite and not rule_target(rule).finite
    assert choose_temperature(trainer, result, rule_target(finite), final) == {"temperature": 1.0, "tried": []}
    assert asked == [1.0]


def test_the_verdict_names_a_temperature_other_than_one():
    metrics = {"validity": 1.0, "real_validity": 1.0, "unique_ratio": 1.0, "real_unique_ratio": 1.0,
               "tv": 0.01, "real_tv": 0.01}
    kwargs = dict(steps=10, max_steps=10, stop_reason="max_steps", autoregressive=True, patience=4)
    assert "temperature" not in judge(metrics, **kwargs).line
    assert "sampled at temperature 0.8" in judge({**metrics, "temperature": 0.8}, **kwargs).line


@pytest.mark.parametrize("fmt", ["torchscript", "export", "weights"])
def test_the_saved_sampler_draws_at_its_temperature_unless_told(tmp_path, fmt):
    rule = RULES["palindrome"]
    result = train(rule, preset_config("autoregressive", max_steps=12, pretrain_steps=6, d_warmup=3, eval_every=6))
    model = load_model(save_run(tmp_path, result, rule, fmt=fmt, temperature={"temperature": 0.7, "tried": []}))
    assert model.temperature == 0.7
    assert json.loads((tmp_path / "config.json").read_text())["temperature"] == 0.7
    assert torch.equal(model.sample(64, seed=3), model.sample(64, seed=3, temperature=0.7))
    assert not torch.equal(model.sample(64, seed=3), model.sample(64, seed=3, temperature=1.0))


def test_a_run_that_no_temperature_saves_says_so_and_keeps_one(main_in_process, tmp_path):
    code, _, err = main_in_process("train", "--rule", "palindrome", "--max-steps", "20", "--set", "pretrain_steps=10",
                                   "--set", "eval_every=10", "--out", "r")
    assert code == 3, err
    assert "temperature: at 1.0 validity" in err
    assert "and none of 0.9, 0.8, 0.7 was clearly learned; the model samples at 1.0" in err
    info = json.loads((tmp_path / "r" / "config.json").read_text())
    assert info["temperature"] == 1.0
    assert [row["temperature"] for row in info["temperatures_tried"]] == [1.0, *TEMPERATURES]
    assert load_model(tmp_path / "r" / "generator.pt").temperature == 1.0
