"""The benchmark rule suite: every rule honours the plugin contract, accepts and rejects hand-made
examples, rejects near-misses of its own real data, and samples exactly what it claims.

The suite's rules are the built-ins plus ``benchmarks/suite_rules.py``, loaded here by path and
registered through the same hook as a ``-p`` module.
"""

import importlib.util
import itertools
from collections import Counter
from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from seqgan_core.plugins.manager import get_plugin_manager, load_rules
from seqgan_core.rules.testing import check_rule, seeds
from test_rules import BUILTIN, TOLERANCE, default_distance

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def load_by_path(name: str):
    spec = importlib.util.spec_from_file_location(f"seqgan_bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


suite_rules = load_by_path("suite_rules")
_suite = load_by_path("suite")
SUITE, OWN_BENCHMARK = _suite.SUITE, _suite.OWN_BENCHMARK
_pm = get_plugin_manager(entry_points=False)
_pm.register(suite_rules, name="suite_rules")
RULES = load_rules(_pm)  # built-ins + the suite's own
BENCH = {name: rule for name, rule in RULES.items() if rule.plugin == "suite_rules"}
NEW = sorted(set(BENCH) | {"checksum", "permutation", "brackets", "expression"})
# the contract's default distance on 2000 real sequences is the per-position TV's sampling noise;
# pairs spreads every position over 999 tokens, so its noise is large
BENCH_TOLERANCE = {"fewvalues": 0.1, "banded": 0.15, "skewed": 0.1, "odd": 0.3, "steps": 0.2, "copy": 0.1, "sum": 0.1, "distinct": 0.15,
                   "count": 0.05, "walk64": 0.1, "pairs": 0.4}


def encode(rule, example) -> torch.Tensor:
    """A hand-made example -> one row of indices: text for one-character tokens (padded with the
    end token), else a list of tokens."""
    tokens = list(example) + [rule.eos] * (rule.length - len(example)) if isinstance(example, str) else example
    return torch.tensor([[rule.vocabulary.index(t) for t in tokens]])


def test_suite_lists_every_rule_once_in_enough_families():
    names = [name for name, _ in SUITE]
    assert len(names) == len(set(names)) >= 12
    assert set(names) | set(OWN_BENCHMARK) == set(RULES) == set(BUILTIN) | set(BENCH)
    assert not set(names) & set(OWN_BENCHMARK)
    assert len({family for _, family in SUITE}) >= 8


def test_suite_rules_register_through_the_cli(run_cli):
    out = run_cli("rules", "-p", "suite_rules", env={"PYTHONPATH": str(BENCHMARKS)})
    assert out.returncode == 0, out.stderr
    listed = {line.split()[0]: line.split()[1] for line in out.stdout.splitlines()}
    assert {name: listed.get(name) for name in BENCH} == {name: "suite_rules" for name in BENCH}


def test_every_suite_rule_has_a_tolerance():
    assert set(BENCH) == set(BENCH_TOLERANCE)


@pytest.mark.parametrize("name", sorted(BENCH))
@given(seed=seeds())
def test_suite_rule_honours_contract(name, seed):
    check_rule(BENCH[name], seed, n=2000, distance_tolerance=BENCH_TOLERANCE[name])


@pytest.mark.parametrize("name", sorted(BENCH))
@pytest.mark.parametrize("seed", range(3))
def test_real_data_is_within_tolerance_of_the_default_distance(name, seed):
    rule = BENCH[name]
    assert default_distance(rule)(rule.sample(2000, torch.Generator().manual_seed(seed))) <= BENCH_TOLERANCE[name]


@pytest.mark.parametrize("name", sorted(BENCH))
def test_default_distance_sees_collapsed_data(name):
    rule, distance = BENCH[name], default_distance(BENCH[name])
    real = rule.sample(2000, torch.Generator().manual_seed(0))
    collapsed = real[:1].repeat(2000, 1)
    assert rule.valid(collapsed).all()
    assert distance(collapsed) > distance(real) + 0.3


VALID = [
    ("fewvalues", [7, 42, 123, 256, 314, 500, 618, 777, 901, 999]),
    ("fewvalues", [999] * 10),
    ("banded", [0, 10, 20, 30, 40, 50, 60, 70]),
    ("banded", [9, 19, 29, 39, 49, 59, 69, 79]),
    ("skewed", [0] * 12),
    ("skewed", [29] * 12),
    ("odd", [1, 3, 5, 197, 199, 101]),
    ("steps", [0, 3, 6, 9, 12, 9, 8, 7, 10, 13]),
    ("steps", [99, 98, 99, 96, 93, 94, 96, 99, 97, 98]),
    ("copy", "0123401234"),
    ("copy", "9999999999"),
    ("checksum", "0000000000"),
    ("checksum", "9999999999"),  # 90
    ("sum", [10] * 10),
    ("sum", [19] * 5 + [5, 0, 0, 0, 0]),
    ("permutation", list(range(10))),
    ("permutation", [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]),
    ("distinct", [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]),
    ("distinct", [99, 0, 1, 2, 3, 4, 5, 6, 7, 98]),
    ("count", "aaabbbbbbbbb"),
    ("count", "dcbadcbadcba"),
    ("brackets", "()" * 10),
    ("brackets", "(" * 10 + ")" * 10),
    ("brackets", "(()())((()))()(()())"),
    ("expression", "x"),
    ("expression", "(x)"),
    ("expression", "(((((((x)))))))"),  # 15 tokens: no end token at all
    ("expression", "x+x-x*x/x+x-x*x"),
    ("expression", "((x+x)*x)-x/x"),
    ("walk64", [0, 1] * 32),
    ("walk64", list(range(32)) + list(range(30, -1, -1)) + [1]),
    ("pairs", [0, 1, 998, 999, 5, 6, 5, 6, 41, 42]),
]

INVALID = [
    ("fewvalues", [7] * 9 + [8]),
    ("banded", [10, 0, 20, 30, 40, 50, 60, 70]),  # two bands swapped
    ("skewed", [0] * 11 + [30]),
    ("odd", [1, 3, 5, 197, 199, 201]),  # odd, but not below 200
    ("odd", [1, 3, 5, 197, 199, 100]),  # below 200, but even
    ("fewvalues", [0] * 10),
    ("steps", [50] * 10),  # steps of 0
    ("steps", [0, 4, 7, 10, 13, 16, 19, 22, 25, 28]),  # a step of 4
    ("copy", "0123443210"),  # a palindrome, not a copy
    ("copy", "0123401235"),
    ("checksum", "1000000000"),
    ("checksum", "1234567890"),  # 45
    ("sum", [10] * 9 + [9]),
    ("sum", [19] * 10),
    ("permutation", [0] * 10),
    ("permutation", [0, 1, 2, 3, 4, 5, 6, 7, 8, 8]),
    ("distinct", [0] * 10),
    ("distinct", [0, 10, 20, 30, 40, 50, 60, 70, 80, 0]),
    ("count", "aabbbbbbbbbb"),
    ("count", "aaaabbbbbbbb"),
    ("count", "bbbbbbbbbbbb"),
    ("brackets", ")(" + "()" * 9),
    ("brackets", "(" * 11 + ")" * 9),
    ("brackets", "()" * 9 + "(("),
    ("expression", ""),
    ("expression", "x+"),
    ("expression", "(x"),
    ("expression", "x)"),
    ("expression", "xx"),
    ("expression", "+x"),
    ("expression", "()"),
    ("expression", "x+(x)"),  # a bracket only ever wraps the left part
    ("expression", "(x+x))"),
    ("expression", "x+x-x*x/x+x-x*"),
    ("walk64", [0] * 64),
    ("walk64", [0, 2] * 32),
    ("walk64", [0, 1] * 31 + [0, 0]),
    ("pairs", [1, 0] * 5),
    ("pairs", [0, 1, 2, 3, 4, 5, 6, 7, 8, 8]),
]


@pytest.mark.parametrize("name, example", VALID)
def test_hand_made_valid_sequences_are_accepted(name, example):
    assert RULES[name].valid(encode(RULES[name], example)).all()


@pytest.mark.parametrize("name, example", INVALID)
def test_hand_made_invalid_sequences_are_rejected(name, example):
    assert not RULES[name].valid(encode(RULES[name], example)).any()


def test_every_new_rule_has_hand_made_examples():
    assert {name for name, _ in VALID} == {name for name, _ in INVALID} == set(NEW)


# ------------------------------------------------------------------ near-misses of real data

def _other_value(seqs, at, size, g):
    """Each row's token at ``at`` replaced by a different one of 0..size-1."""
    old = seqs.gather(1, at[:, None])
    new = (old + torch.randint(1, size, old.shape, generator=g)) % size
    return seqs.scatter(1, at[:, None], new)


def _repeat_previous(seqs, g):
    """A step of 0: one token (not the first) replaced by the one before it."""
    at = torch.randint(1, seqs.shape[1], (len(seqs), 1), generator=g)
    return seqs.scatter(1, at, seqs.gather(1, at - 1))


def _few_outside(seqs, g):
    outside = torch.tensor([v for v in range(1000) if v not in suite_rules.FEW_VALUES])
    at = torch.randint(seqs.shape[1], (len(seqs), 1), generator=g)
    return seqs.scatter(1, at, outside[torch.randint(len(outside), (len(seqs), 1), generator=g)])


def _duplicate(seqs, g):
    """One token replaced by the token at another position."""
    at = torch.randint(seqs.shape[1], (len(seqs), 1), generator=g)
    other = (at + torch.randint(1, seqs.shape[1], at.shape, generator=g)) % seqs.shape[1]
    return seqs.scatter(1, at, seqs.gather(1, other))


def _one_more_or_less(seqs, g):
    """count: one 'a' turned into another letter, or another letter into an 'a'."""
    at = torch.randint(seqs.shape[1], (len(seqs), 1), generator=g)
    was_a = seqs.gather(1, at) == 0
    return seqs.scatter(1, at, torch.where(was_a, torch.randint(1, 4, at.shape, generator=g), 0))


def _expression_slip(seqs, g):
    """Half the rows lose their last token (valid lengths are odd), half get one token of the wrong
    kind (an operand for an operator, a bracket for an operand, ...)."""
    from seqgan_plugins.expression import END

    n, L = seqs.shape
    length = (seqs != END).sum(-1, keepdim=True)  # (n, 1)
    kind = torch.tensor([0, 1, 1, 1, 1, 2, 3, END])  # x, operators, "(", ")"
    at = (torch.rand(n, 1, generator=g) * length).long()
    old = seqs.gather(1, at)
    shift = torch.randint(1, 4, (n, 1), generator=g)  # another kind: x, an operator, "(" or ")"
    new_kind = (kind[old] + shift) % 4
    new = torch.tensor([0, 1, 5, 6])[new_kind]
    new = torch.where(new == 1, torch.randint(1, 5, (n, 1), generator=g), new)  # any operator
    retyped = seqs.scatter(1, at, new)
    shortened = seqs.scatter(1, length - 1, END)
    return torch.where(torch.rand(n, 1, generator=g) < 0.5, retyped, shortened)


NEAR_MISS = {
    "fewvalues": _few_outside,
    "banded": lambda s, g: (s + 10 * torch.randint(1, 10, (len(s), 1), generator=g) * (torch.arange(8) == 0)) % 100,
    "skewed": lambda s, g: s.scatter(1, torch.randint(12, (len(s), 1), generator=g),
                                     torch.randint(30, 60, (len(s), 1), generator=g)),
    "odd": lambda s, g: s.scatter(1, torch.randint(6, (len(s), 1), generator=g),
                                  2 * torch.randint(0, 500, (len(s), 1), generator=g)),  # an even number
    "steps": _repeat_previous,
    "walk64": _repeat_previous,
    "copy": lambda s, g: _other_value(s, torch.randint(10, (len(s),), generator=g), 10, g),
    "checksum": lambda s, g: _other_value(s, torch.randint(10, (len(s),), generator=g), 10, g),
    "sum": lambda s, g: _other_value(s, torch.randint(10, (len(s),), generator=g), 20, g),
    "permutation": lambda s, g: _other_value(s, torch.randint(10, (len(s),), generator=g), 10, g),
    "pairs": lambda s, g: _other_value(s, torch.randint(10, (len(s),), generator=g), 1000, g),
    "distinct": _duplicate,
    "count": _one_more_or_less,
    "brackets": lambda s, g: _other_value(s, torch.randint(20, (len(s),), generator=g), 2, g),
    "expression": _expression_slip,
}


def test_every_new_rule_has_a_near_miss():
    assert set(NEAR_MISS) == set(NEW)


@pytest.mark.parametrize("name", NEW)
@given(seed=seeds())
def test_near_misses_of_real_data_are_rejected(name, seed):
    rule, g = RULES[name], torch.Generator().manual_seed(seed)
    real = rule.sample(64, g)
    missed = NEAR_MISS[name](real, g)
    assert (missed != real).any(-1).all()  # every row really changed
    rejected = ~rule.valid(missed)
    assert rejected.all(), (
        f"{name}: accepted near-miss {missed[~rejected][0].tolist()} of {real[~rejected][0].tolist()}")


# ------------------------------------------------------------------ exact samplers

def _chi_square(counts: Counter, support: list) -> float:
    n = sum(counts.values())
    expected = n / len(support)
    assert set(counts) <= set(support)
    return sum((counts.get(x, 0) - expected) ** 2 / expected for x in support)


def test_dyck_sampler_is_uniform():
    from seqgan_plugins.brackets import dyck_steps

    words = [w for w in itertools.product((1, -1), repeat=8)
             if sum(w) == 0 and min(itertools.accumulate(w)) >= 0]
    assert len(words) == 14  # Catalan(4)
    drawn = Counter(map(tuple, dyck_steps(70_000, 4, torch.Generator().manual_seed(0)).tolist()))
    assert _chi_square(drawn, words) < 40  # 13 degrees of freedom: p < 1e-4


def test_brackets_reaches_almost_all_16796_words():
    rule = RULES["brackets"]
    seqs = rule.sample(100_000, torch.Generator().manual_seed(0))
    assert 16_700 < len({tuple(r) for r in seqs.tolist()}) <= 16_796  # uniform: ~44 missing


@pytest.mark.parametrize("length, high, total", [(3, 3, 4), (4, 5, 17), (3, 9, 2)])
def test_uniform_with_sum_is_uniform(length, high, total):
    support = [t for t in itertools.product(range(high + 1), repeat=length) if sum(t) == total]
    n = 2000 * len(support)
    drawn = suite_rules.uniform_with_sum(n, length, high, total, torch.Generator().manual_seed(0))
    chi = _chi_square(Counter(map(tuple, drawn.tolist())), support)
    df = len(support) - 1
    assert chi < df + 6 * (2 * df) ** 0.5 + 10


def test_sum_count_is_exact():
    # coefficient of z**100 in (1 + z + ... + z**19)**10, by inclusion-exclusion
    from math import comb

    exact = sum((-1) ** j * comb(10, j) * comb(100 - 20 * j + 9, 9) for j in range(6))
    assert int(suite_rules._ways(10, 19, 100)[10, 100]) == exact


def _expressions(max_steps: int) -> set[str]:
    """Every expression built from "x" in at most ``max_steps`` steps, straight from the grammar."""
    level, out = {"x"}, {"x"}
    for _ in range(max_steps):
        level = {s + op + "x" for s in level for op in "+-*/"} | {"(" + s + ")" for s in level}
        out |= level
    return out


def test_expression_validity_is_the_grammar_up_to_seven_tokens():
    from seqgan_plugins.expression import END, LENGTH, is_valid

    rows = []
    for length in range(8):  # every string of 0..7 non-end tokens
        body = torch.cartesian_prod(*[torch.arange(7)] * length) if length > 1 else torch.arange(7)[:, None]
        body = body.reshape(-1, length) if length else torch.zeros(1, 0, dtype=torch.long)
        rows.append(torch.cat([body, torch.full((len(body), LENGTH - length), END)], dim=-1))
    seqs = torch.cat(rows)  # (960 800, 15)
    accepted = {"".join("x+-*/()"[t] for t in row if t != END) for row in seqs[is_valid(seqs)].tolist()}
    grammar = _expressions(3)
    assert len(grammar) == 1 + 5 + 25 + 125
    assert accepted == grammar


def _parse(text: str) -> bool:
    """Recursive descent: S -> A ("+"|"-"|"*"|"/" "x")*, A -> "x" | "(" S ")"."""
    pos = 0

    def expr() -> bool:
        nonlocal pos
        if text[pos:pos + 1] == "x":
            pos += 1
        elif text[pos:pos + 1] == "(":
            pos += 1
            if not expr() or text[pos:pos + 1] != ")":
                return False
            pos += 1
        else:
            return False
        while text[pos:pos + 1] in ("+", "-", "*", "/") and text[pos + 1:pos + 2] == "x":
            pos += 2
        return True

    return expr() and pos == len(text)


@given(rows=st.lists(st.lists(st.sampled_from(range(8)), min_size=15, max_size=15), min_size=1, max_size=50))
def test_expression_validity_matches_a_parser_and_reads_up_to_the_end_token(rows):
    from seqgan_plugins.expression import END, VOCAB, is_valid

    seqs = torch.tensor(rows)
    upto_end = ["".join(VOCAB[t] for t in itertools.takewhile(lambda t: t != END, row)) for row in rows]
    assert is_valid(seqs).tolist() == [_parse(t) for t in upto_end]


@given(seed=seeds())
def test_expression_validity_matches_a_parser_near_real_data(seed):
    from seqgan_plugins.expression import END, VOCAB, is_valid, sample

    g = torch.Generator().manual_seed(seed)
    seqs = sample(500, g)
    for _ in range(2):  # two tokens of each row overwritten: near-misses, and now and then valid again
        at = torch.randint(15, (500, 1), generator=g)
        seqs.scatter_(1, at, torch.randint(8, (500, 1), generator=g))
    rows = seqs.tolist()
    upto_end = ["".join(VOCAB[t] for t in itertools.takewhile(lambda t: t != END, row)) for row in rows]
    assert is_valid(seqs).tolist() == [_parse(t) for t in upto_end]


@given(seed=seeds())
def test_expression_samples_parse(seed):
    from seqgan_plugins.expression import decode, sample

    assert all(map(_parse, decode(sample(200, torch.Generator().manual_seed(seed)))))


def test_expression_lengths_spread_as_documented():
    from seqgan_plugins.expression import END, sample

    seqs = sample(72_000, torch.Generator().manual_seed(0))
    lengths = Counter((seqs != END).sum(-1).tolist())
    assert sorted(lengths) == [1, 3, 5, 7, 9, 11, 13, 15]
    for k in range(8):  # P(2k + 1 tokens) = (k + 1) / 36
        assert lengths[2 * k + 1] == pytest.approx(72_000 * (k + 1) / 36, rel=0.1)
    assert len(_expressions(7)) == 97_656
    assert len({tuple(r) for r in seqs.tolist()}) > 25_000


def test_walk64_moves_are_fair_and_turn_at_the_edges():
    seqs = RULES["walk64"].sample(20_000, torch.Generator().manual_seed(0))
    moves = seqs[:, 1:] - seqs[:, :-1]
    inside = (seqs[:, :-1] > 0) & (seqs[:, :-1] < 31)
    assert moves[inside].float().mean().abs() < 0.01
    assert (moves[seqs[:, :-1] == 0] == 1).all() and (moves[seqs[:, :-1] == 31] == -1).all()
    assert set(seqs[:, 0].tolist()) == set(range(32))
