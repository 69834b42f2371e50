import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from seqgan_core import Vocabulary
from seqgan_core.errors import SeqganError

tokens = st.one_of(st.integers(-10**6, 10**6), st.text(max_size=5))
vocabularies = st.lists(tokens, min_size=1, max_size=60, unique_by=lambda t: (type(t), t))


@given(vocabularies, st.data())
def test_tokens_indices_onehot_round_trip(vocab_tokens, data):
    vocab = Vocabulary(vocab_tokens)
    seq = data.draw(st.lists(st.sampled_from(vocab_tokens), max_size=20))
    indices = vocab.encode(seq)
    onehot = vocab.one_hot(indices)
    assert onehot.shape == (len(seq), len(vocab_tokens))
    assert torch.all(onehot.sum(-1) == 1)
    assert torch.equal(vocab.from_one_hot(onehot), indices)
    assert vocab.decode(vocab.from_one_hot(onehot)) == seq


@given(st.integers(1, 200), st.data())
def test_index_sequences_round_trip_batched(size, data):
    vocab = Vocabulary(range(size))
    shape = data.draw(st.tuples(st.integers(0, 4), st.integers(1, 6)))
    indices = torch.tensor(
        data.draw(st.lists(st.lists(st.integers(0, size - 1), min_size=shape[1], max_size=shape[1]),
                           min_size=shape[0], max_size=shape[0])),
        dtype=torch.long,
    ).reshape(shape)
    onehot = vocab.one_hot(indices)
    assert onehot.shape == (*shape, size)
    assert torch.equal(vocab.from_one_hot(onehot), indices)
    assert vocab.encode([t for row in vocab.decode(indices) for t in row]).reshape(shape).equal(indices)


def test_tutorial_encoding():
    vocab = Vocabulary(range(100))
    row = vocab.one_hot(torch.tensor(35))
    assert row.shape == (100,) and row[35] == 1 and row.sum() == 1
    assert vocab.decode(vocab.from_one_hot(row)) == 35


def test_mixed_token_types():
    vocab = Vocabulary([0, "a", (1, 2), None])
    assert vocab.decode(vocab.encode(["a", None, (1, 2)])) == ["a", None, (1, 2)]


@given(vocabularies, st.integers())
def test_out_of_range_index_is_named(vocab_tokens, index):
    vocab = Vocabulary(vocab_tokens)
    if 0 <= index < len(vocab):
        return
    with pytest.raises(ValueError, match=str(index)):
        vocab.one_hot(torch.tensor([index]))
    with pytest.raises(ValueError, match=str(index)):
        vocab.decode([index])


def test_unknown_token_is_named():
    with pytest.raises(ValueError, match="'zebra'"):
        Vocabulary(["a", "b"]).encode(["a", "zebra"])


def test_duplicate_tokens_are_named():
    with pytest.raises(ValueError, match="duplicate token 'b' at indices 1 and 3"):
        Vocabulary(["a", "b", "c", "b"])


def test_bad_one_hot_width_is_named():
    with pytest.raises(ValueError, match="last dimension is \\(7,\\), expected the vocabulary size 5"):
        Vocabulary(range(5)).from_one_hot(torch.zeros(3, 7))


def test_errors_are_seqgan_errors_and_value_errors():
    with pytest.raises(SeqganError):
        Vocabulary([])
    with pytest.raises(ValueError):
        Vocabulary([[1]])  # unhashable
    with pytest.raises(ValueError, match="integers"):
        Vocabulary(range(3)).one_hot(torch.tensor([0.5]))
