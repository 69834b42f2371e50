"""What finite data changes: the step budget from the data's size, and the GRU's dropout masks."""

import torch

from seqgan_core.engine.presets import FINITE_EPOCHS, FINITE_STEPS, FINITE_STEPS_UNKNOWN, finite_data
from seqgan_core.models.gru import GRUGenerator


def test_step_budget_is_passes_over_the_training_set_within_bounds():
    run, options = finite_data(30_000, 256)
    assert run["max_steps"] == options["pretrain_steps"] == round(FINITE_EPOCHS * 30_000 / 256)
    assert finite_data(8986, 256)[0]["max_steps"] == 2500  # the paper oracle's 9 984 less a tenth held out
    assert finite_data(50, 256)[0]["max_steps"] == FINITE_STEPS[0]
    assert finite_data(10**9, 256)[0]["max_steps"] == FINITE_STEPS[1]
    assert finite_data(None, 256)[0]["max_steps"] == FINITE_STEPS_UNKNOWN
    assert run["patience"] > 4 and options["pretrain_lr"] == options["pretrain_head_lr"]


def test_variational_dropout_keeps_one_mask_over_time():
    g = GRUGenerator(7, 5, GRUGenerator.Options(dropout=0.5, variational=True)).train()
    x = torch.ones(3, 5, 4)  # (n, L, D)
    dropped = g._drop(x)
    assert torch.equal(dropped, dropped[:, :1].expand_as(dropped))  # the same at every position
    assert set(dropped.unique().tolist()) == {0.0, 2.0}
    plain = GRUGenerator(7, 5, GRUGenerator.Options(dropout=0.5)).train()._drop(torch.ones(64, 5, 4))
    assert not torch.equal(plain, plain[:, :1].expand_as(plain))
    assert torch.equal(g.eval()._drop(x), x)


def test_variational_dropout_trains_and_scores_like_the_plain_model_when_evaluating():
    torch.manual_seed(0)
    g = GRUGenerator(7, 5, GRUGenerator.Options(dropout=0.6, variational=True))
    seqs = torch.randint(7, (8, 5))
    g.train().nll(seqs).backward()
    assert g.embed.weight.grad is not None
    g.eval()
    assert torch.allclose(g.teacher_forced_logits(seqs), g.incremental_logits(seqs), atol=1e-5)
