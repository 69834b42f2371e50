"""Property tests for the evens rule, written with seqgan's testing helpers."""

import torch
from hypothesis import given

import seqgan_evens
from seqgan_core import Rule
from seqgan_core.rules.testing import check_rule, index_sequences, seeds

registered = []
seqgan_evens.register_rules(registered.append)
(EVENS,) = registered


def test_registers_one_rule():
    assert isinstance(EVENS, Rule) and EVENS.name == "evens"


@given(seed=seeds())
def test_contract(seed):
    check_rule(EVENS, seed)  # shape, dtype, range, determinism, every sample valid, distance 0


@given(seqs=index_sequences(EVENS))
def test_is_valid_means_all_even(seqs):
    assert EVENS.valid(seqs).tolist() == [all(x % 2 == 0 for x in row) for row in seqs.tolist()]


def test_odd_numbers_are_rejected():
    assert not EVENS.valid(torch.tensor([[0, 2, 4, 6, 8, 10, 12, 14, 16, 17]])).any()
