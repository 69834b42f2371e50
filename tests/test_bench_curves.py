"""The benchmarks' "GAN against MLE's temperature curve" verdicts, which the README quotes: a GAN
point is better only by more than a margin, and a GAN whose sweep equals MLE's is one model."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
bench_oracle = pytest.importorskip("bench_oracle")
bench_coco = pytest.importorskip("bench_coco")

MLE = [{"nll_test": 8.0, "nll_oracle": 9.7}, {"nll_test": 8.1, "nll_oracle": 9.4},
       {"nll_test": 8.4, "nll_oracle": 8.9}]


@pytest.mark.parametrize("oracle, expected", [(9.0, "below (better)"), (9.41, "on the curve"),
                                              (9.38, "on the curve"), (9.6, "above (worse)")])
def test_oracle_point_against_curve_needs_a_margin(oracle, expected):
    assert expected in bench_oracle.below({"nll_test": 8.1, "nll_oracle": oracle}, MLE)


def test_oracle_same_sweep_is_one_model():
    # the 2026-12-03 run: both sweeps identical, GAN's own evaluate 0.004 below by interpolation
    verdict = bench_oracle.below({"nll_test": 8.077, "nll_oracle": 9.463}, MLE, [dict(r) for r in MLE])
    assert "same curve" in verdict


def test_oracle_point_outside_the_sweep_is_not_compared():
    assert "not comparable" in bench_oracle.below({"nll_test": 12.5, "nll_oracle": 8.7}, MLE)


COCO_MLE = [{"self_bleu4": 0.23, "bleu4": 0.24}, {"self_bleu4": 0.33, "bleu4": 0.29},
            {"self_bleu4": 0.45, "bleu4": 0.34}]


@pytest.mark.parametrize("bleu4, expected", [(0.31, "above (outside: better)"), (0.292, "on the curve"),
                                             (0.27, "below (worse)")])
def test_coco_point_against_curve_needs_a_margin(bleu4, expected):
    assert expected in bench_coco.dominance({"self_bleu4": 0.33, "bleu4": bleu4}, COCO_MLE)


def test_coco_same_sweep_is_one_model():
    assert "same curve" in bench_coco.dominance(COCO_MLE[1], COCO_MLE, [dict(r) for r in COCO_MLE])
