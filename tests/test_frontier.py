"""`seqgan evaluate --sweep`: the frontier over temperature (seqgan_core/rules/frontier.py)."""

import json
import math

import pytest
import torch

from seqgan_core.plugins.manager import get_plugin_manager, load_rules
from seqgan_core.rules.frontier import sweep
from seqgan_core.rules.target import Target
from seqgan_core.rules.vocabulary import Vocabulary

RULES = load_rules(get_plugin_manager(entry_points=False))


class UniformModel:
    """Every token equally likely at every temperature: its figures are known in closed form."""

    path, eos, length, scores_likelihood = "uniform", None, 20, True

    def __init__(self, tokens):
        self.vocabulary = Vocabulary(tokens)

    def sample(self, n, seed=None, temperature=None, min_p=None):
        return torch.randint(len(self.vocabulary.tokens), (n, self.length), generator=torch.Generator().manual_seed(seed))

    def token_log_probs(self, seqs, temperature=None):
        return torch.full(seqs.shape, -math.log(len(self.vocabulary.tokens)))


def test_oracle_axes_for_a_rule_that_declares_an_oracle():
    rule = RULES["seqgan-oracle"]
    frontier = sweep(UniformModel(rule.vocab), Target(rule, {}), (1.0, 0.5), n=500, seed=0)
    assert (frontier.quality, frontier.diversity, frontier.oracle) == (["nll_oracle"], "nll_test", "seqgan-oracle")
    assert [p["temperature"] for p in frontier.points] == [1.0, 0.5]
    for point in frontier.points:
        assert point["nll_oracle"] == pytest.approx(11.42, abs=0.1)  # uniform tokens, as the oracle README says
        assert point["nll_test"] == pytest.approx(math.log(5000))
    assert frontier.notes == {"test_size": 2000, "test_unscored": 0, "test_unk_tokens": 0, "test_unk_lines": 0}


def test_a_data_run_on_oracle_samples_is_scored_through_its_string_tokens():
    """A data file's vocabulary holds the token strings it read, in its own order, some missing:
    samples map back to the oracle's indices, fresh samples with unseen tokens are counted out."""
    rule = RULES["seqgan-oracle"]
    tokens = [str(t) for t in reversed(range(4500))]  # tokens 4500.. never seen
    frontier = sweep(UniformModel(tokens), Target(RULES["multiples5"], {}), (1.0,), n=500, seed=0, oracle_rule=rule)
    assert frontier.points[0]["nll_test"] == pytest.approx(math.log(4500))
    assert 0 < frontier.notes["test_unscored"] < 2000
    assert frontier.points[0]["nll_oracle"] > 11.0


def test_rules_without_an_oracle_get_validity_tv_and_distinct(main_in_process, tmp_path):
    code, _, err = main_in_process("train", "--rule", "multiples5", "--max-steps", "40", "--out", tmp_path / "run")
    assert code in (0, 3), err
    code, out, err = main_in_process("evaluate", tmp_path / "run", "--sweep", "--temperatures", "1.0,0.2",
                                     "-n", "2000", "--json")
    assert code == 0, err
    frontier = json.loads(out)
    assert (frontier["quality"], frontier["diversity"], frontier["oracle"]) == (["validity", "tv"], "unique_ratio", None)
    hot, cold = frontier["points"]
    assert (hot["temperature"], cold["temperature"]) == (1.0, 0.2)
    assert cold["tv"] > hot["tv"]  # a colder sampler piles onto the likeliest tokens
    code, out, _ = main_in_process("evaluate", tmp_path / "run", "--sweep", "--temperatures", "1,0.5", "-n", "500")
    assert code == 0 and "distinct" in out and len(out.strip().splitlines()) == 5


@pytest.mark.parametrize("args, message", [
    (["--sweep", "--oracle", "multiples5"], "declares no oracle likelihood"),
    (["--temperatures", "1,0.5"], "go with --sweep"),
    (["--sweep", "--temperatures", "1,x"], "--temperatures takes numbers"),
    (["--sweep", "--temperature", "0.5"], "--sweep sets the temperature itself"),
])
def test_bad_sweeps_are_one_line(main_in_process, tmp_path, args, message):
    code, _, err = main_in_process("train", "--rule", "multiples5", "--max-steps", "5", "--out", tmp_path / "run")
    assert code in (0, 3), err
    code, _, err = main_in_process("evaluate", tmp_path / "run", "-n", "100", *args)
    assert code != 0 and message in err and "Traceback" not in err
