"""The likelihood of discriminator rejection sampling (models/drs.py ``log_correction``): checked
against the exact distribution of k-candidate resampling, enumerated on a four-sequence world."""

import itertools
import math

import pytest
import torch

from seqgan_core.models.drs import log_correction


def exact_ratio(log_w: torch.Tensor, k: int) -> torch.Tensor:
    """q_k(x) / p(x) for a uniform p over len(log_w) sequences, by enumerating every k candidates."""
    n = len(log_w)
    q = torch.zeros(n, dtype=torch.float64)
    for cands in itertools.product(range(n), repeat=k):
        w = log_w[list(cands)].double().exp()
        for j, c in enumerate(cands):
            q[c] += (1 / n) ** k * w[j] / w.sum()
    return q * n


@pytest.mark.parametrize("k", [2, 3, 4])
def test_matches_enumeration(k):
    log_w = torch.tensor([0.9, -1.3, 0.2, 2.0])
    est = log_correction(log_w, log_w, k, draws=100_000, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(est, exact_ratio(log_w, k).log(), atol=0.02)


def test_resampled_distribution_sums_to_one():
    log_w = torch.tensor([0.5, -2.0, 1.5, 0.0, -0.7])
    est = log_correction(log_w, log_w, 5, draws=100_000, generator=torch.Generator().manual_seed(1))
    assert math.isclose(float(est.exp().mean()), 1.0, abs_tol=0.01)  # p uniform: mean of q/p is sum of q


def test_one_candidate_or_equal_weights_change_nothing():
    assert torch.equal(log_correction(torch.randn(3), torch.randn(10), 1), torch.zeros(3, dtype=torch.float64))
    same = log_correction(torch.full((4,), 0.7), torch.full((50,), 0.7), 8)
    assert torch.allclose(same, torch.zeros(4, dtype=torch.float64), atol=1e-12)


def test_exported_drs_file_scores_sequences(tmp_path):
    """``seqgan drs``'s file carries the likelihood: its token_log_probs sum to log p_G + log_correction
    per sequence, and with k = 1 they are G's own."""
    from seqgan_core.io.export import load_model, save_sampler
    from seqgan_core.models.drs import DRSGenerator
    from seqgan_core.models.highway_cnn import HighwayCNNDiscriminator
    from seqgan_core.models.lstm import LSTMGenerator

    torch.manual_seed(0)
    g = LSTMGenerator(7, 5, LSTMGenerator.Options(embed=4, hidden=8))
    d = HighwayCNNDiscriminator(7, 5, HighwayCNNDiscriminator.Options(embed=4, filter_sizes=(1, 2), num_filters=(3, 3)))
    drs = DRSGenerator(g, d, k=4)
    drs.pool = 500
    meta = {"vocab": [str(i) for i in range(7)], "length": 5, "rule": "toy", "format_version": 1}
    path = save_sampler(drs, meta, tmp_path / "drs.pt")
    model = load_model(path)
    seqs = g.sample(6)
    got = model.token_log_probs(seqs, 1.0).sum(1).double()
    plain = g.token_log_probs(seqs).detach().sum(1).double()
    assert model.scores_likelihood
    assert not torch.allclose(got, plain, atol=1e-4)  # the correction is there
    assert (got - plain).abs().max() < 5  # and of a sane size for k = 4
    model.sampler.generator.k = 1
    assert torch.allclose(model.token_log_probs(seqs, 1.0).sum(1).double(), plain, atol=1e-4)
