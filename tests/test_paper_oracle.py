"""The SeqGAN paper's oracle (plugins/paper_oracle.py): its parameters, its equations, its levels."""

import hashlib
import subprocess
import sys

import numpy as np
import pytest
import torch

from seqgan_core import Rule
from seqgan_core.errors import RuleError
from seqgan_core.plugins.manager import get_plugin_manager, load_rules
from seqgan_core.rules.likelihood import OracleLikelihood
from seqgan_plugins import paper_oracle as p

SHA256 = "82588a47b8b3328979b959c8a736643cb5598190af2ef08cc988720584769bac"  # the oracle README's
RULE = load_rules(get_plugin_manager(entry_points=False))["seqgan-oracle"]


def g(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_parameters_are_the_papers():
    assert hashlib.sha256(p.PARAMS.read_bytes()).hexdigest() == SHA256


def readme_log_probs(seq: list[int]) -> np.ndarray:
    """log p of every token after each prefix ``(L, V)``, straight from the README's equations on
    the .npz arrays (row vectors, ``x @ W``), in float64: independent of OracleLSTM's packing."""
    a = {k: v.astype(np.float64) for k, v in np.load(p.PARAMS).items()}
    sig = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
    h, c, prev, out = np.zeros(32), np.zeros(32), 0, []
    for token in seq:
        x = a["embedding"][prev]
        i = sig(x @ a["Wi"] + h @ a["Ui"] + a["bi"])
        f = sig(x @ a["Wf"] + h @ a["Uf"] + a["bf"])
        o = sig(x @ a["Wog"] + h @ a["Uog"] + a["bog"])
        c = f * c + i * np.tanh(x @ a["Wc"] + h @ a["Uc"] + a["bc"])
        h = o * np.tanh(c)
        logits = h @ a["Wo"] + a["bo"]
        out.append(logits - logits.max() - np.log(np.exp(logits - logits.max()).sum()))
        prev = token
    return np.stack(out)


def test_nll_follows_the_readme_equations():
    seqs = torch.cat([p.training_set()[:2], torch.randint(5000, (2, 20), generator=g(1))])
    fast = p.oracle().nll(seqs)  # (4, 20)
    slow = torch.tensor(np.stack([-readme_log_probs(s)[np.arange(20), s] for s in seqs.tolist()]))
    assert torch.allclose(fast, slow, atol=2e-4)
    assert RULE.oracle.nll(seqs) == pytest.approx(slow.mean().item(), abs=1e-5)


def test_sampler_follows_the_readme_equations():
    """Each token is the first whose cumulative probability exceeds its step's uniform."""
    seqs = p.oracle().generate(3, g(7))
    uniforms = torch.rand(3, 20, generator=g(7), dtype=torch.float64).numpy()
    for seq, u in zip(seqs.tolist(), uniforms):
        cdf = np.exp(readme_log_probs(seq)).cumsum(axis=1)  # (L, V)
        assert seq == (cdf <= u[:, None]).sum(axis=1).tolist()


def test_levels_the_readme_measured():
    """Its own samples score the floor, 5.74-5.75 in the README (a mean over draws: 10 000 on
    FLOOR_SEED give 5.760, 2 000 on another seed within 0.05); uniform random tokens 11.42."""
    own = p.nll_oracle(p.heldout(2000, g(3)))
    assert own == pytest.approx(5.745, abs=0.05)
    assert p.floor() == pytest.approx(5.745, abs=0.02)
    uniform = p.nll_oracle(torch.randint(5000, (2000, 20), generator=g(1)))
    assert uniform == pytest.approx(11.42, abs=0.03)


def test_rule_declares_its_oracle_and_others_do_not():
    rules = load_rules(get_plugin_manager(entry_points=False))
    assert isinstance(RULE.oracle, OracleLikelihood) and isinstance(rules["oracle"].oracle, OracleLikelihood)
    assert rules["multiples5"].oracle is None
    with pytest.raises(RuleError, match="oracle must be an OracleLikelihood"):
        Rule(name="x", description="x", vocab=[0, 1], length=2, sample=lambda n, gen: torch.zeros(n, 2).long(),
             is_valid=lambda s: torch.ones(len(s), dtype=torch.bool), oracle=lambda s: 0.0)


def test_bad_sequences_are_named():
    with pytest.raises(RuleError, match=r"rule 'seqgan-oracle': .*shape \(n, 20\), got \(3, 10\)"):
        RULE.score(torch.zeros(3, 10, dtype=torch.long))


def test_import_and_registration_build_nothing():
    code = ("from seqgan_core.plugins.manager import get_plugin_manager, load_rules; "
            "load_rules(get_plugin_manager(entry_points=False)); import seqgan_plugins.paper_oracle as o; "
            "print(*(f.cache_info().currsize for f in (o.oracle, o.training_set, o.floor)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "0", "0"]
