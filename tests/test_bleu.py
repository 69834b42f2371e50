"""BLEU and Self-BLEU agree with nltk's sentence_bleu (method1, uniform weights) to 1e-9.

nltk is only the cross-check here (the `test` extra); seqgan_core.evaluation.bleu never imports it.
"""

import math
import time
from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from seqgan_core.evaluation.bleu import References, bleu, bleu_scores, self_bleu, self_bleu_scores

nltk_bleu_score = pytest.importorskip("nltk.translate.bleu_score")
METHOD1 = nltk_bleu_score.SmoothingFunction().method1
COCO = Path(__file__).resolve().parent.parent / "benchmarks" / "data" / "coco"
TOL = 1e-9


def nltk_sentence(refs, hyp, n):
    return nltk_bleu_score.sentence_bleu(refs, hyp, weights=(1 / n,) * n, smoothing_function=METHOD1)


def nltk_bleu(hyps, refs, n):
    return math.fsum(nltk_sentence(refs, h, n) for h in hyps) / len(hyps)


def nltk_self_bleu(samples, n):
    return math.fsum(nltk_sentence(samples[:i] + samples[i + 1:], s, n)
                     for i, s in enumerate(samples)) / len(samples)


def coco(name, limit):
    with open(COCO / name) as f:
        return [line.split() for _, line in zip(range(limit), f)]


REFS = [
    "the cat is on the mat".split(),
    "there is a cat on the mat".split(),
    "a cat".split(),
    [],  # an empty reference: a length of 0 for the brevity penalty, no n-grams
    "the the the".split(),
]
EDGE_HYPOTHESES = {
    "good": "the cat is on the mat".split(),
    "empty": [],
    "one token": ["cat"],  # length 1: the references of length 0 and 2 tie; nltk takes 0
    "shorter than n": "a cat".split(),
    "no unigram match": "dog dog bird".split(),
    "unigrams only": "mat on is the cat".split(),
    "clipped repeats": "the the the the the the the".split(),
    "longer than every reference": "there is a cat on the mat and the cat is on the mat".split(),
}


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("case", sorted(EDGE_HYPOTHESES))
def test_edge_cases_match_nltk(case, n):
    hyp = EDGE_HYPOTHESES[case]
    assert bleu([hyp], REFS, n) == pytest.approx(nltk_bleu([hyp], REFS, n), abs=TOL)


def test_closest_reference_length_ties_go_to_the_shorter():
    hyp = "a b c d e".split()  # 5 tokens; references of 4 and 6 are equally close
    refs = ["a b c d".split(), "a b c d e f".split()]
    assert bleu([hyp], refs, 4) == pytest.approx(nltk_bleu([hyp], refs, 4), abs=TOL)
    assert bleu([hyp], refs, 1) == 1.0  # r = 4 < 5: no penalty; r = 6 would give exp(1 - 6/5)


def test_empty_and_unmatched_hypotheses_score_zero_like_nltk():
    assert bleu([[]], REFS, 4) == 0.0 == nltk_bleu([[]], REFS, 4)
    assert bleu([["zebra"]], REFS, 2) == 0.0 == nltk_bleu([["zebra"]], REFS, 2)


def test_several_hypotheses_average_and_all_orders_at_once():
    hyps = list(EDGE_HYPOTHESES.values())
    scores = bleu_scores(hyps, REFS, orders=(1, 2, 3, 4, 5))
    assert list(scores) == ["bleu1", "bleu2", "bleu3", "bleu4", "bleu5"]
    for n in range(1, 6):
        assert scores[f"bleu{n}"] == pytest.approx(nltk_bleu(hyps, REFS, n), abs=TOL)
    assert References(REFS, max_n=5).scores(hyps, (3,)) == {"bleu3": scores["bleu3"]}


def test_integer_tokens_and_tensors_give_the_same_scores():
    refs = [[1, 2, 3, 4, 5], [2, 3, 4, 5, 6, 7]]
    hyps = [[1, 2, 3, 4, 6], [7, 6, 5, 4, 3]]
    expected = nltk_bleu(hyps, refs, 3)
    assert bleu(hyps, refs, 3) == pytest.approx(expected, abs=TOL)
    assert bleu(torch.tensor(hyps), [torch.tensor(r) for r in refs], 3) == pytest.approx(expected, abs=TOL)


SELF_SETS = {
    "distinct lengths": ["a b c".split(), "a b c d".split(), "x y".split(), "a b".split()],
    "shared top count": ["a a b".split(), "a a c".split(), "a d".split()],  # 'a' twice in two samples
    "own top count": ["a a a b".split(), "a a c".split(), "a e".split()],  # the top is sample 0's only
    "duplicates": ["a b c".split(), "a b c".split(), "c b a".split()],
    "empty sample": [[], "a b".split(), "b a".split()],
    "unique length, tie around it": ["a b".split(), "a b c d".split(), "a b c".split()],
}


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("case", sorted(SELF_SETS))
def test_self_bleu_matches_nltk(case, n):
    samples = SELF_SETS[case]
    assert self_bleu(samples, n) == pytest.approx(nltk_self_bleu(samples, n), abs=TOL)


def test_coco_slice_matches_nltk():
    hyps, refs = coco("coco_train.txt", 40), coco("coco_test.txt", 300)
    scores = bleu_scores(hyps, refs)
    for n in (2, 3, 4, 5):
        assert scores[f"bleu{n}"] == pytest.approx(nltk_bleu(hyps, refs, n), abs=TOL)
    samples = coco("coco_train.txt", 80)
    selfs = self_bleu_scores(samples, orders=(2, 4))
    for n in (2, 4):
        assert selfs[f"self_bleu{n}"] == pytest.approx(nltk_self_bleu(samples, n), abs=TOL)


def test_coco_sizes_are_fast():
    """2 000 captions against 10 000 references, and Self-BLEU of 2 000: nltk needs an hour."""
    hyps, refs = coco("coco_train.txt", 2000), coco("coco_test.txt", 10_000)
    start = time.perf_counter()
    scores = bleu_scores(hyps, refs)
    self_scores = self_bleu_scores(hyps)
    assert time.perf_counter() - start < 30  # about 0.5 s on one core
    assert 0.7 < scores["bleu2"] < 0.8 and 0.15 < scores["bleu5"] < 0.3  # real captions
    assert 0.7 < self_scores["self_bleu2"] < 0.9


token_seqs = st.lists(st.integers(0, 5), max_size=12)


@given(hyp=token_seqs, refs=st.lists(token_seqs, min_size=1, max_size=6), n=st.integers(1, 5))
def test_random_sentences_match_nltk(hyp, refs, n):
    assert bleu([hyp], refs, n) == pytest.approx(nltk_sentence(refs, hyp, n), abs=TOL)


@given(samples=st.lists(token_seqs, min_size=2, max_size=8), n=st.integers(1, 5))
def test_random_self_bleu_matches_nltk(samples, n):
    assert self_bleu(samples, n) == pytest.approx(nltk_self_bleu(samples, n), abs=TOL)


@pytest.mark.parametrize("call, message", [
    (lambda: bleu(["a cat"], REFS), "hypothesis 0 is a string"),
    (lambda: bleu([["a"]], ["a cat"]), "reference 0 is a string"),
    (lambda: bleu([["a"]], []), "at least one reference"),
    (lambda: bleu([], REFS), "at least one hypothesis"),
    (lambda: bleu([["a"]], REFS, 0), "positive int"),
    (lambda: bleu_scores([["a"]], REFS, orders=()), "orders is empty"),
    (lambda: References(REFS, max_n=2).scores([["a"]], (4,)), "above this References' max_n=2"),
    (lambda: self_bleu([["a"]]), "at least 2 samples"),
    (lambda: bleu([3], REFS), "hypothesis 0 is a int"),
])
def test_bad_input_is_named(call, message):
    with pytest.raises((TypeError, ValueError), match=message):
        call()
