"""The SeqGAN oracle rule: contract, reproducibility, and its NLL and sampler against slow loops."""

import subprocess
import sys

import pytest
import torch
from hypothesis import given, settings

from seqgan_core.errors import RuleError
from seqgan_core.plugins.manager import get_plugin_manager, load_rules
from seqgan_core.rules.testing import check_rule, seeds
from seqgan_plugins import oracle as o

RULE = load_rules(get_plugin_manager(entry_points=False))["oracle"]
FLOOR = 5.9985  # NLL_oracle of 10 000 fresh draws (FLOOR_SEED); pinned so a changed RNG shows


@settings(max_examples=5)
@given(seed=seeds())
def test_contract(seed):
    check_rule(RULE, seed, n=500, distance_tolerance=FLOOR + 0.3)


def g(seed):
    return torch.Generator().manual_seed(seed)


def test_shapes_and_reproducibility():
    for draw in (RULE.sample, RULE.heldout):
        seqs = draw(7, g(3))
        assert seqs.dtype == torch.long and seqs.shape == (7, 20)
        assert 0 <= int(seqs.min()) and int(seqs.max()) < 5000
        assert torch.equal(seqs, draw(7, g(3)))
        assert not torch.equal(seqs, draw(7, g(4)))
    assert RULE.valid(torch.zeros(3, 20, dtype=torch.long)).all()


def test_sampling_uses_only_the_generator():
    torch.manual_seed(0)
    state = torch.get_rng_state()
    RULE.sample(5, g(1))
    RULE.heldout(5, g(1))
    assert torch.equal(torch.get_rng_state(), state)


def test_heldout_draws_are_not_the_training_set():
    train = {tuple(s) for s in o.training_set().tolist()}
    assert len(train) == o.TRAIN_SIZE  # 20 tokens of 5 000: no repeats
    fresh = RULE.heldout(500, g(0)).tolist()
    assert not train & {tuple(s) for s in fresh}
    assert {tuple(s) for s in RULE.sample(500, g(0)).tolist()} <= train


def test_training_data_scores_the_floor_and_random_tokens_far_above():
    assert o.floor() == pytest.approx(FLOOR, abs=1e-3)
    assert RULE.score(o.training_set()) == pytest.approx(FLOOR, abs=0.05)
    uniform = torch.randint(5000, (2000, 20), generator=g(0))
    assert RULE.score(uniform) > FLOOR + 4  # about 11.1
    assert RULE.metrics(uniform) == {"nll_oracle": RULE.score(uniform), "nll_oracle_floor": o.floor()}


def test_training_set_is_pinned():
    """The oracle's numbers hold only for this training set; a change in torch's RNG shows here."""
    assert o.training_set()[0].tolist()[:6] == [1261, 494, 4747, 3990, 4233, 712]


def reference_cell(oracle):
    """torch.nn.LSTMCell (gates i, f, g, o; two biases) holding the oracle's parameters."""
    H = o.HIDDEN
    order = torch.cat([torch.arange(0, 2 * H), torch.arange(3 * H, 4 * H), torch.arange(2 * H, 3 * H)])
    cell = torch.nn.LSTMCell(o.EMBED, H).double()
    with torch.no_grad():
        cell.weight_ih.copy_(oracle.w_input.T[order])
        cell.weight_hh.copy_(oracle.w_hidden.T[order])
        cell.bias_ih.copy_(oracle.bias[order])
        cell.bias_hh.zero_()
    return cell


def reference_log_probs(oracle, seq):
    """Token by token: log p(next token | prefix) over the vocabulary, ``(L, V)`` float64."""
    cell = reference_cell(oracle)
    emb, w_out, b_out = oracle.embedding.double(), oracle.w_out.double(), oracle.b_out.double()
    h = c = torch.zeros(1, o.HIDDEN, dtype=torch.float64)
    token, rows = o.START, []
    for next_token in seq:
        h, c = cell(emb[token][None], (h, c))
        rows.append(torch.log_softmax(h[0] @ w_out + b_out, dim=0))
        token = next_token
    return torch.stack(rows)


def test_nll_matches_a_slow_loop():
    seqs = torch.cat([o.training_set()[:3], torch.randint(5000, (2, 20), generator=g(1))])
    fast = o.oracle().nll(seqs)  # (5, 20)
    with torch.no_grad():
        slow = torch.stack([-reference_log_probs(o.oracle(), s.tolist()).gather(1, s[:, None])[:, 0]
                            for s in seqs])
    assert torch.allclose(fast, slow, atol=2e-4)
    assert RULE.score(seqs) == pytest.approx(slow.mean().item(), abs=1e-5)


def test_sampler_matches_a_slow_loop():
    """Each token is the first whose cumulative probability exceeds the step's uniform."""
    n = 6
    seqs = o.oracle().generate(n, g(7))
    uniforms = torch.rand(n, o.LENGTH, generator=g(7), dtype=torch.float64)
    with torch.no_grad():
        for seq, u in zip(seqs, uniforms):
            cdf = reference_log_probs(o.oracle(), seq.tolist()).exp().cumsum(dim=1)  # (L, V)
            expected = (cdf <= u[:, None]).sum(dim=1)
            assert seq.tolist() == expected.tolist()


def test_bad_sequences_are_named():
    with pytest.raises(RuleError, match=r"rule 'oracle': .*shape \(n, 20\), got \(3, 10\)"):
        RULE.score(torch.zeros(3, 10, dtype=torch.long))
    with pytest.raises(RuleError, match="rule 'oracle': .*indices 0..4999"):
        RULE.score(torch.full((3, 20), 5000))


def test_import_and_registration_build_nothing():
    """Plugin discovery imports every plugin on every command: no oracle, no training set."""
    code = ("from seqgan_core.plugins.manager import get_plugin_manager, load_rules; "
            "load_rules(get_plugin_manager(entry_points=False)); import seqgan_plugins.oracle as o; "
            "print(*(f.cache_info().currsize for f in (o.oracle, o.training_set, o.floor)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "0", "0"]
