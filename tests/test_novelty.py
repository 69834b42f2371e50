"""Novelty: copied and novel shares, and each novel sample's distance to the training part."""

import torch
from hypothesis import given
from hypothesis import strategies as st

from seqgan_core.evaluation.novelty import nearest_edit, nearest_hamming, novelty

EOS = 9


def levenshtein(a, b):
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def padded(seqs, length=6):
    return torch.tensor([list(s) + [EOS] * (length - len(s)) for s in seqs], dtype=torch.long)


words = st.lists(st.integers(0, 3), max_size=6)


@given(st.lists(words, min_size=1, max_size=8), st.lists(words, min_size=1, max_size=5))
def test_edit_distance_matches_the_textbook_definition(train, queries):
    got = nearest_edit(padded(queries), padded(train), EOS).tolist()
    assert got == [min(levenshtein(q, t) for t in train) for q in queries]


def test_hamming_counts_differing_positions():
    train = torch.tensor([[0, 0, 0], [1, 1, 1]])
    assert nearest_hamming(torch.tensor([[0, 0, 1], [1, 0, 1], [2, 2, 2]]), train).tolist() == [1, 1, 3]


def test_copied_novel_and_nearest_figures():
    train = torch.tensor([[0, 1, 2], [1, 1, 1]])
    heldout = torch.tensor([[0, 1, 3], [1, 1, 1]])  # one held-out row also occurs in training
    generated = torch.tensor([[0, 1, 2], [0, 1, 2], [0, 1, 3], [3, 3, 3]])
    m = novelty(generated, train, heldout)
    assert m["copied"] == 0.5 and m["novel"] == 0.5
    assert m["novel_in_heldout"] == 0.25 and m["heldout_copied"] == 0.5
    assert (m["nearest_hamming_min"], m["nearest_hamming_median"]) == (1.0, 2.0)
    variable = novelty(padded([[0, 1], [0, 1, 2]]), padded([[0, 1]]), padded([[2]]), EOS)
    assert variable["copied"] == 0.5 and variable["nearest_edit_min"] == 1.0


def test_nothing_novel_has_no_nearest_figures():
    train = torch.tensor([[0, 1]])
    m = novelty(train.repeat(3, 1), train, train)
    assert m["novel"] == 0 and not any(k.startswith("nearest") for k in m)


def test_data_verdict_names_memorising_and_inventing():
    from seqgan_core.evaluation.verdict import judge

    def metrics(nll, copied):
        return {"validity": 0.99, "unique_ratio": 0.5, "real_unique_ratio": 0.5, "heldout_nll": nll,
                "bigram_heldout_nll": 2.7, "rule_metrics": {"copied": copied, "novel": 1 - copied,
                                                            "heldout_copied": 0.0, "heldout_validity": 0.97}}

    kwargs = dict(steps=2300, max_steps=2300, stop_reason="max_steps", autoregressive=True, patience=4, data=True)
    memorised = judge(metrics(4.6, 0.78), **kwargs)
    assert not memorised.learned and "memorised" in memorised.problem and "stop_on=heldout_nll" in memorised.advice
    assert "--max-steps" in judge(metrics(3.0, 0.2), **kwargs).advice  # undertrained: more steps
    assert judge(metrics(2.5, 0.01), **kwargs).learned
    assert not judge(metrics(2.5, 0.99), **kwargs).learned  # better than a bigram, yet it only copies


def test_a_run_that_stopped_memorising_is_not_told_to_train_longer():
    """COCO's data run ended when held-out NLL rose (stop "memorising") a little under held-out data's
    validity, and the verdict said "try --patience 8": more patience only memorises more."""
    from seqgan_core.evaluation.verdict import judge

    metrics = {"validity": 0.224, "unique_ratio": 1.0, "real_unique_ratio": 1.0, "heldout_nll": 3.48,
               "bigram_heldout_nll": 3.87, "rule_metrics": {"copied": 0.0, "novel": 1.0, "heldout_copied": 0.01,
                                                            "heldout_validity": 0.263}}
    kwargs = dict(steps=600, max_steps=4000, autoregressive=True, patience=4, data=True)
    plateau = judge(metrics, stop_reason="early_stopping", **kwargs)
    assert not plateau.learned and "--patience 8" in plateau.advice
    stopped = judge(metrics, stop_reason="memorising", **kwargs)
    assert not stopped.learned and "adjacent pairs seen in training 22.4%" in stopped.problem
    assert "--patience" not in stopped.advice and "more training data" in stopped.advice
