"""The Python API (seqgan_core.SeqGAN): what the CLI does, callable from a notebook."""

import re
from pathlib import Path

import pytest
import torch

from seqgan_core import Rule, SeqGAN
from seqgan_core.errors import SeqganError

README = Path(__file__).resolve().parent.parent / "README.md"


def test_fit_sample_save_load_for_a_rule_name(tmp_path):
    gan = SeqGAN(seed=0).fit("multiples5")
    assert gan.outcome.result.config.preset == "independent"  # chosen from the rule, as the CLI does
    assert gan.verdict.learned, gan.verdict.line
    rows = gan.sample(5, seed=1)
    assert len(rows) == 5 and all(len(r) == 10 and all(t % 5 == 0 for t in r) for r in rows)
    folder = gan.save(tmp_path / "m5")
    assert (folder / "generator.pt").exists() and (folder / "config.json").exists()
    again = SeqGAN.load(folder)
    assert again.sample(5, seed=1) == rows


def test_fit_a_rule_object_and_token_sequences():
    rule = Rule(name="pairs-of-letters", description="", vocab=list("abcd"), length=2,
                sample=lambda n, g: torch.randint(4, (n, 1), generator=g).repeat(1, 2),
                is_valid=lambda s: s[:, 0] == s[:, 1])
    gan = SeqGAN(seed=0, max_steps=40, eval_every=20).fit(rule)
    assert gan.outcome.result.config.preset == "autoregressive"
    words = [list("ab"), list("abc"), list("ba"), list("cab")] * 10
    fitted = SeqGAN(seed=0, max_steps=20, eval_every=10).fit(words)
    assert all(set(row) <= set("abc") for row in fitted.sample(20, seed=0))


def test_unfitted_model_says_so():
    with pytest.raises(SeqganError, match="has not been trained: call fit"):
        SeqGAN().verdict


def test_readme_python_api_snippet_runs(tmp_path, monkeypatch):
    """The README's notebook snippet, run as written (in a temporary folder)."""
    text = README.read_text()
    block = re.search(r"<!-- api-snippet[^>]*-->\s*```python\n(.*?)```", text, re.S)
    assert block, "README lost its api-snippet block"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(block.group(1), "README.md", "exec"), namespace)
    assert (tmp_path / "runs" / "m5-notebook" / "generator.pt").exists()
