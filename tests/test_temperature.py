"""How a rule run's saved generator samples (temperature, min-p): the least change from the trained
distribution that the verdict calls learned, told and kept; and min-p sampling itself."""

import dataclasses
import json
from types import SimpleNamespace
from typing import Optional

import pytest
import torch

from seqgan_core.errors import ModelFileError
from seqgan_core.io.export import load_model
from seqgan_core.evaluation.metrics import evaluate, reference
from seqgan_core.plugins.manager import get_plugin_manager, load_rules
from seqgan_core.engine.presets import preset_config
from seqgan_core.io.run import FINAL_SAMPLES, NO_CHOICE, choose_temperature, save_run
from seqgan_core.rules.target import rule_target
from seqgan_core.models.sampling import categorical
from seqgan_core.evaluation.temperature import SAMPLERS, choose, clearly
from seqgan_core.engine.training import train
from seqgan_core.evaluation.verdict import judge

RULES = load_rules(get_plugin_manager(entry_points=False))


def test_choose_keeps_the_first_learned_and_stops_there():
    asked = []

    def learned_with(t, m):
        asked.append((t, m))
        return m >= 0.1, {"validity": 0.9 + m}

    chosen, tried = choose(learned_with)
    assert chosen == (1.0, 0.1) and asked == [(1.0, 0.01), (1.0, 0.03), (1.0, 0.1)]  # 0.2 is never sampled
    assert [row["min_p"] for row in tried] == [0.01, 0.03, 0.1] and tried[-1]["learned"]


def test_the_samplers_tried_change_the_distribution_less_first():
    assert all(t == 1.0 for t, _ in SAMPLERS[:-1])  # min-p alone first: the rest keep their odds
    assert [m for _, m in SAMPLERS[:-1]] == sorted(m for _, m in SAMPLERS[:-1])


def test_min_p_never_draws_a_token_below_its_share_of_the_most_likely():
    torch.manual_seed(0)
    logits = torch.tensor([[3.0, 2.0, 0.0, -1.0]]).log_softmax(-1).expand(20_000, 4)  # p = .69 .25 .03 .01
    counts = torch.bincount(categorical(logits, 1.0, 0.1), minlength=4)
    assert counts[2] == 0 and counts[3] == 0  # below 0.1 x 0.69
    ratio = counts[0].item() / counts[1].item()  # the kept tokens keep their odds, e = 2.72
    assert 2.5 < ratio < 2.95
    everything = torch.bincount(categorical(logits, 1.0, 0.0), minlength=4)
    assert everything[2] > 0 and everything[3] > 0
    torch.manual_seed(1)
    a = categorical(logits, 1.0, 0.0)
    torch.manual_seed(1)
    assert torch.equal(a, categorical(logits, 1.0, torch.tensor(0.0)))  # a 0 buffer draws the same


def test_clearly_learned_needs_two_standard_errors_above_the_bar():
    # at 99 % and 5 000 sequences one standard error is 0.14 points
    assert not clearly(True, 0.9902, 0.99, 5000)
    assert clearly(True, 0.9930, 0.99, 5000)
    assert not clearly(False, 1.0, 0.99, 5000)


def test_choose_falls_back_to_one_when_nothing_is_learned():
    chosen, tried = choose(lambda t, m: (False, {}))
    assert chosen == (1.0, 0.0) and [(row["temperature"], row["min_p"]) for row in tried] == list(SAMPLERS)


def _stub_trainer(rule, valid_from: float, choose_temperature: bool = True):
    """A trainer whose generator samples real (valid) data at min-p ``valid_from`` and above and
    breaks 5 % of its sequences below: what an MLE-trained generator's tail does as trained."""
    asked = []

    def sample(n, generator=None, temperature=1.0, seed_offset=0, min_p=0.0):
        asked.append(min_p)
        seqs = rule.sample_checked(n, torch.Generator().manual_seed(seed_offset + int(min_p * 100)))
        if min_p < valid_from:
            seqs[: n // 20, 0] = 1  # multiples5: 1 is not a multiple of 5
        return seqs

    config = preset_config("autoregressive", choose_temperature=choose_temperature)
    return SimpleNamespace(config=config, recipe=SimpleNamespace(autoregressive=True), sample=sample), asked


@pytest.mark.parametrize("valid_from, expected", [(0.0, 0.0), (0.01, 0.01), (0.05, 0.1), (0.9, 0.0)])
def test_a_run_keeps_the_least_min_p_the_verdict_calls_learned(valid_from, expected):
    rule = RULES["multiples5"]
    trainer, asked = _stub_trainer(rule, valid_from)
    result = SimpleNamespace(steps=100, stop_reason="early_stopping", generator=None)
    final = evaluate(trainer.sample(FINAL_SAMPLES, None, 1.0), reference(rule))
    chosen = choose_temperature(trainer, result, rule_target(rule), final)
    assert chosen["min_p"] == expected and chosen["temperature"] == 1.0
    if valid_from == 0:  # learned as trained: nothing else is sampled
        assert chosen["tried"] == [] and asked == [0.0]
    else:
        first = chosen["tried"][0]
        assert (first["temperature"], first["min_p"]) == (1.0, 0.0) and not first["learned"]
        assert "validity" in first["problem"]


def test_the_choice_can_be_turned_off_and_data_runs_never_make_it():
    rule = RULES["multiples5"]
    trainer, asked = _stub_trainer(rule, 0.95, choose_temperature=False)
    result = SimpleNamespace(steps=100, stop_reason="early_stopping", generator=None)
    final = evaluate(trainer.sample(FINAL_SAMPLES, None, 1.0), reference(rule))
    assert choose_temperature(trainer, result, rule_target(rule), final) == NO_CHOICE
    assert asked == [0.0]


def test_a_rule_with_held_out_sequences_of_its_own_keeps_one():
    # finite data (the oracle's kind): the run stopped on held-out NLL, which colder sampling trades away
    rule = RULES["multiples5"]
    finite = dataclasses.replace(rule, heldout=rule.sample)
    trainer, asked = _stub_trainer(finite, 0.95)
    result = SimpleNamespace(steps=100, stop_reason="memorising", generator=None)
    final = evaluate(trainer.sample(FINAL_SAMPLES, None, 1.0), reference(finite))
    assert rule_target(finite).finite and not rule_target(rule).finite
    assert choose_temperature(trainer, result, rule_target(finite), final) == NO_CHOICE
    assert asked == [0.0]


def test_the_verdict_names_a_temperature_other_than_one_and_a_min_p():
    metrics = {"validity": 1.0, "real_validity": 1.0, "unique_ratio": 1.0, "real_unique_ratio": 1.0,
               "tv": 0.01, "real_tv": 0.01}
    kwargs = dict(steps=10, max_steps=10, stop_reason="max_steps", autoregressive=True, patience=4)
    assert "temperature" not in judge(metrics, **kwargs).line
    assert "sampled at temperature 0.8" in judge({**metrics, "temperature": 0.8}, **kwargs).line
    assert "min-p" not in judge({**metrics, "min_p": 0.0}, **kwargs).line
    assert "min-p 0.03" in judge({**metrics, "min_p": 0.03}, **kwargs).line


@pytest.fixture(scope="module")
def palindrome_run():
    """A few steps of the GRU on palindrome: one generator that the saving tests below share."""
    return train(RULES["palindrome"], preset_config("autoregressive", max_steps=12, pretrain_steps=6, d_warmup=3,
                                                    eval_every=6))


def _saved(tmp_path, result, fmt: str, **sampling):
    """``result`` saved as ``fmt`` with the sampler ``sampling`` changes, and loaded back."""
    return load_model(save_run(tmp_path, result, RULES["palindrome"], fmt=fmt, sampling={**NO_CHOICE, **sampling}))


@pytest.mark.parametrize("fmt", ["torchscript", "export", "weights"])
def test_the_saved_sampler_draws_at_its_temperature_unless_told(tmp_path, fmt, palindrome_run):
    model = _saved(tmp_path, palindrome_run, fmt, temperature=0.7)
    assert model.temperature == 0.7 and model.min_p == 0.0
    assert json.loads((tmp_path / "config.json").read_text())["temperature"] == 0.7
    assert torch.equal(model.sample(64, seed=3), model.sample(64, seed=3, temperature=0.7))
    assert not torch.equal(model.sample(64, seed=3), model.sample(64, seed=3, temperature=1.0))


@pytest.mark.parametrize("fmt", ["torchscript", "export", "weights"])
def test_the_saved_sampler_draws_with_its_min_p_unless_told(tmp_path, fmt, palindrome_run):
    model = _saved(tmp_path, palindrome_run, fmt, min_p=0.5)
    assert model.min_p == 0.5 and model.temperature == 1.0
    assert json.loads((tmp_path / "config.json").read_text())["min_p"] == 0.5
    assert torch.equal(model.sample(256, seed=3), model.sample(256, seed=3, min_p=0.5))
    assert torch.equal(model.sample(256, seed=3, min_p=0.0), model.sample(256, seed=3, temperature=1.0, min_p=0.0))
    cut, whole = model.sample(2000, seed=3), model.sample(2000, seed=3, min_p=0.0)
    # min-p 0.5 leaves each position only its likeliest tokens: fewer distinct sequences
    assert len(cut.unique(dim=0)) < len(whole.unique(dim=0))
    assert model.sample(8, seed=3).shape == (8, RULES["palindrome"].length)  # the buffer was put back


def test_a_run_that_no_sampler_saves_says_so_and_keeps_the_trained_one(main_in_process, tmp_path):
    code, _, err = main_in_process("train", "--rule", "palindrome", "--max-steps", "20", "--set", "pretrain_steps=10",
                                   "--set", "eval_every=10", "--out", "r")
    assert code == 3, err
    assert "sampler: as trained validity" in err
    assert ("and none of min-p 0.01, min-p 0.03, min-p 0.1, min-p 0.2, min-p 0.3, temperature 0.8, min-p 0.3 was "
            "clearly learned; the model samples as trained") in err
    info = json.loads((tmp_path / "r" / "config.json").read_text())
    assert info["temperature"] == 1.0 and info["min_p"] == 0.0
    assert [(row["temperature"], row["min_p"]) for row in info["temperatures_tried"]] == [(1.0, 0.0), *SAMPLERS]
    assert load_model(tmp_path / "r" / "generator.pt").min_p == 0.0


class _OldSampler(torch.nn.Module):
    """A sampler as seqgan wrote them before min-p: ``sampler(n, temperature=None)``, one buffer."""

    def __init__(self, generator):
        super().__init__()
        self.generator = generator
        self.register_buffer("temperature", torch.tensor(1.0))

    def forward(self, n: int, temperature: Optional[float] = None) -> torch.Tensor:
        t = float(self.temperature) if temperature is None else temperature
        return self.generator.sample(n, t)


def test_a_file_from_before_min_p_samples_as_before_and_refuses_a_min_p(tmp_path, main_in_process, palindrome_run):
    from seqgan_core.io.export import META_FILE, metadata

    rule, result = RULES["palindrome"], palindrome_run
    meta = metadata(rule, config=result.config.to_dict(), steps=result.steps, stop_reason="max_steps",
                    temperature=1.0)
    assert "min_p" not in meta
    path = tmp_path / "old.pt"
    torch.jit.save(torch.jit.script(_OldSampler(result.generator.eval())), str(path),
                   _extra_files={META_FILE: json.dumps(meta)})
    model = load_model(path)
    assert not model.has_min_p and model.min_p == 0.0
    assert torch.equal(model.sample(16, seed=1), model.sample(16, seed=1, min_p=0.0))
    with pytest.raises(ModelFileError, match="without min-p sampling"):
        model.sample(16, seed=1, min_p=0.1)
    code, out, err = main_in_process("sample", str(path), "-n", "2", "--min-p", "0.1", "--trust")
    assert code == 2 and "without min-p sampling" in err and "Traceback" not in err and out == ""
    code, out, err = main_in_process("sample", str(path), "-n", "2", "--min-p", "1.5", "--trust")
    assert code == 2 and "--min-p must be at least 0 and below 1" in err
