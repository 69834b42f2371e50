"""benchmark.py checksum: its data is the suite's checksum rule at K = 9, and a probe trains and reports."""

import sys
from pathlib import Path
from types import SimpleNamespace

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import bench_checksum  # noqa: E402
from plugins import checksum  # noqa: E402


def test_k9_is_the_suite_rule_and_k1_copies_the_first_digit():
    seqs = bench_checksum.sample(500, 9, torch.Generator().manual_seed(0))
    assert checksum.is_valid(seqs).all()
    copies = bench_checksum.sample(500, 1, torch.Generator().manual_seed(0))
    assert ((copies[:, 0] + copies[:, -1]) % 10 == 0).all()
    assert not checksum.is_valid(copies).all()  # K = 1 is another rule


def test_a_short_probe_reports_its_curve(capsys):
    args = SimpleNamespace(only="1", seeds=1, max_steps=4, model="gru", every=2)
    (row,) = bench_checksum.run(args)
    assert [s for s, _ in row["curve"]] == [2, 4]
    assert 0.0 <= row["validity"] <= 1.0 and row["final_ce"] > 0
    assert "| 1 | 0 |" in capsys.readouterr().out
