"""The maligan recipe (MaliGAN: G's own samples weighted by D / (1 - D), normalised, minus a baseline)."""

import dataclasses
import json
import os
import subprocess
import sys

import pytest
import torch

from seqgan_core.engine.optim import Adam
from seqgan_core.engine.presets import preset_config
from seqgan_core.engine.recipes import RECIPES
from seqgan_core.engine.recipes.maligan import MaliGAN, MaliGANOptions, importance_weights, maligan_loss
from seqgan_core.engine.recipes.sampled import ClippedAdam, d_logits
from seqgan_core.engine.training import Trainer
from seqgan_core.errors import SeqganError
from seqgan_core.plugins.manager import get_plugin_manager, load_rules

from helpers import real_sampler, small_recipe

RULES = load_rules(get_plugin_manager(entry_points=False))
RULE = RULES["multiples5"]
V, L = len(RULE.vocabulary), RULE.length
SMALL_D = {"filter_sizes": (1, 2, 3), "num_filters": (8, 8, 8), "embed": 8}
TINY = dict(pretrain_epochs=2, epoch_sequences=128, d_pretrain=2, d_sequences=64, d_epochs=1, adv_d_epochs=1,
            adversarial_rounds=2, g_steps=3, d_passes=2)


def _recipe(**options) -> MaliGAN:
    return small_recipe(MaliGAN, RULE, SMALL_D, **options)


def _real(seed: int = 1):
    return real_sampler(RULE, seed)


# -- defaults: the reference code's


def test_options_default_to_the_reference_values():
    o = MaliGANOptions()
    assert (o.batch_size, o.epoch_sequences, o.pretrain_epochs, o.d_pretrain, o.d_sequences, o.d_epochs) == \
        (64, 10_000, 80, 4, 10_000, 2)
    assert (o.adversarial_rounds, o.g_steps, o.d_steps, o.adv_d_epochs, o.d_passes) == (200, 50, 1, 3, 16)
    assert (o.lr, o.pretrain_lr, o.lr_d, o.l2_reg, o.grad_clip) == (0.01, 0.01, 1e-4, 0.0, 5.0)
    assert o.generator == "lstm" and o.generator_options == {"embed": 32, "hidden": 32}
    assert o.discriminator == "highway_cnn"  # MaliGAN_D: SeqGAN's filters, embedding 64, dropout 0.25
    assert "recipe" not in {f.name for f in dataclasses.fields(o)}  # the name in messages is not an option
    assert RECIPES["maligan"] is MaliGAN and MaliGAN.data_parallel is False
    config = preset_config("maligan")
    assert config.recipe == "maligan" and config.recipe_options() == MaliGANOptions()
    assert config.max_steps == sum(MaliGANOptions().budgets().values())  # the whole schedule, nothing after it


def test_optimisers_clip_where_the_reference_clips():
    recipe = _recipe()
    assert isinstance(recipe.pretrain_opt, ClippedAdam) and isinstance(recipe.d_opt, ClippedAdam)
    assert type(recipe.g_opt) is Adam  # the MaliGAN step is not clipped
    assert recipe.d_opt.max_norm == recipe.pretrain_opt.max_norm == 5.0
    assert set(recipe.modules()) == {"generator", "discriminator", "pretrain_opt", "g_opt", "d_opt"}


@pytest.mark.parametrize("bad, culprit", [
    ({"d_passes": 0}, "d-passes"), ({"adv_d_epochs": 0}, "adv-d-epochs"), ({"g_steps": -1}, "g-steps"),
    ({"d_sequences": 0}, "d-sequences"), ({"grad_clip": 0}, "grad_clip"), ({"lr": 0}, "lr"),
    ({"l2_reg": -1}, "l2_reg"), ({"generator": "mlp"}, "maligan recipe needs an autoregressive"),
    ({"generator": "nope"}, "nope"), ({"discriminator.width": "3"}, "width"),
    ({"pretrain_epochs": 0, "d_pretrain": 0, "adversarial_rounds": 0}, "nothing to train"),
])
def test_options_refuse_bad_values_with_one_line(bad, culprit):
    with pytest.raises(SeqganError) as err:
        preset_config("maligan", **bad)
    assert culprit in str(err.value) and "\n" not in str(err.value), str(err.value)


# -- the weights and the loss


def test_weights_are_normalised_and_grow_with_d():
    logits = torch.tensor([-3.0, -1.0, 0.0, 0.5, 2.0])  # D's log-odds of "real", one pass
    w = importance_weights(logits)
    assert w.shape == (5,) and torch.isclose(w.sum(), torch.tensor(1.0))
    assert bool((w[1:] > w[:-1]).all())  # higher D, higher weight
    d = torch.sigmoid(logits)
    r = d / (1 - d)  # the paper's r_D = D / (1 - D)
    assert torch.allclose(w, r / r.sum(), atol=1e-6)


def test_several_passes_average_d_before_the_odds():
    logits = torch.tensor([[-2.0, 1.0, 0.3], [1.0, -1.0, 0.3]])  # (K=2 passes, B=3)
    d = torch.sigmoid(logits).mean(dim=0)  # the reference's mean over rollout_num passes of D's probability
    r = d / (1 - d)
    assert torch.allclose(importance_weights(logits), r / r.sum(), atol=1e-6)


def test_a_confident_discriminator_gives_finite_weights():
    w = importance_weights(torch.tensor([[40.0, 60.0, -50.0]]))  # D of 1.0 in float32 for the first two
    assert bool(torch.isfinite(w).all()) and torch.isclose(w.sum(), torch.tensor(1.0))
    assert w[1] > w[0] > w[2]


def test_loss_subtracts_the_mean_weight_as_baseline():
    logp = torch.tensor([[-1.0, -2.0], [-0.5, -0.5], [-3.0, -1.0]], requires_grad=True)  # (B=3, L=2)
    w = torch.tensor([0.5, 0.3, 0.2])
    loss = maligan_loss(logp, w)
    b = 1 / 3  # mean of normalised weights
    want = -sum((w[i] - b) * logp[i].sum() for i in range(3))
    assert torch.isclose(loss, want)
    loss.backward()
    assert torch.allclose(logp.grad, -(w - b).unsqueeze(1).expand(3, 2))  # a sequence's every token, its weight
    flat = maligan_loss(logp, torch.full((3,), 1 / 3))
    assert flat.item() == 0.0  # D that cannot tell samples apart moves nothing


def test_weights_score_with_ds_dropout_on_and_restore_its_mode():
    recipe = _recipe(d_passes=4, discriminator_options={**SMALL_D, "dropout": 0.0})
    seqs = recipe.negatives(6)
    recipe.discriminator.eval()
    w = recipe.weights(seqs)
    assert not recipe.discriminator.training  # its mode is put back
    one_pass = importance_weights(d_logits(recipe.discriminator, seqs))
    assert torch.allclose(w, one_pass, atol=1e-6)  # no dropout: every pass is the one pass
    dropped = _recipe(d_passes=1, discriminator_options={**SMALL_D, "dropout": 0.5})
    torch.manual_seed(3)
    a = dropped.weights(seqs)
    b = dropped.weights(seqs)
    assert not torch.allclose(a, b)  # dropout on: each call draws its own masks, as the reference's passes do


def test_a_maligan_step_raises_the_likelihood_of_what_d_prefers():
    """With D fixed to call sequences that start with one of the first ten tokens real, G's MaliGAN
    steps raise the probability of such a first token."""
    recipe = _recipe(lr=0.05, d_passes=1)

    class LikesLow(torch.nn.Module):
        def score_indices(self, seqs):
            return ((seqs[:, :1] < 10).float() * 8 - 4)  # log-odds +4 / -4

    recipe.discriminator = LikesLow()
    G = recipe.generator
    low = lambda: G.teacher_forced_logits(torch.zeros(1, L, dtype=torch.long))[0, 0].softmax(-1)[:10].sum().item()
    before = low()
    for _ in range(15):
        losses, seqs = recipe.g_step()
    assert low() > before + 0.1, (before, low())
    assert seqs.shape == (64, L) and 1 <= losses["ess"] <= 64


def test_discriminator_loss_falls_without_an_l2_term():
    recipe = _recipe(d_sequences=256, d_epochs=1, lr_d=1e-3)
    calls = []
    recipe.discriminator.penalty = lambda: calls.append(1) or torch.tensor(0.0)
    real = _real()
    first = recipe.d_step(real)["d"]
    for _ in range(6):
        last = recipe.d_step(real)["d"]
    assert last < first - 0.05, (first, last)
    assert not calls  # l2_reg 0: the reference's plain cross-entropy


# -- the schedule


def test_phases_run_their_budgets_in_order_and_rounds_use_their_own_d_epochs():
    config = preset_config("maligan", **TINY, eval_every=1000, **{"discriminator.filter_sizes": "1,2",
                                                                   "discriminator.num_filters": "4,4"})
    trainer = Trainer(RULE, config)
    recipe = trainer.recipe
    epochs, g_steps = [], []
    d_step, g_step = recipe.d_step, recipe.g_step
    recipe.d_step = lambda real, n=None: (epochs.append(n), d_step(real, n))[1]
    recipe.g_step = lambda: (g_steps.append(1), g_step())[1]
    phases = []
    trainer.callbacks.append(lambda p: phases.append(p.phase))
    result = trainer.run()
    assert phases == ["mle"] * 4 + ["warmup"] * 2 + ["adversarial"] * 2  # 2 epochs of 2 batches of 64
    assert result.stop_reason == "budget"
    assert epochs == [None, None, 1, 1] and len(g_steps) == 2 * 3  # pretraining: d_epochs; rounds: adv_d_epochs
    recipe.options.adv_d_epochs = 5
    assert recipe.round_d_epochs == 5 and recipe.options.d_epochs == 1


def test_cli_trains_the_maligan_preset_end_to_end_and_samples(tmp_path):
    out = tmp_path / "run"
    sets = [f"{k}={v}" for k, v in TINY.items()] + ["discriminator.filter_sizes=1,2,3",
                                                    "discriminator.num_filters=8,8,8"]
    cli = [sys.executable, "-m", "seqgan_core"]
    cmd = cli + ["train", "--rule", "multiples5", "--preset", "maligan", "--threads", "1", "--out", str(out),
                 "--max-steps", "7"]
    for s in sets:
        cmd += ["--set", s]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=dict(os.environ))
    assert done.returncode in (0, 3), done.stderr  # 3: trained, but the verdict says not learned
    assert "Traceback" not in done.stderr
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["recipe"] == "maligan" and int(config["options"]["d_passes"]) == 2
    assert config["max_steps"] == 7  # one adversarial round: 4 batches, 2 D steps, 1 round
    sampled = subprocess.run(cli + ["sample", str(out), "-n", "3"], capture_output=True, text=True, timeout=120,
                             env=dict(os.environ))
    assert sampled.returncode == 0, sampled.stderr
    rows = sampled.stdout.strip().splitlines()
    assert len(rows) == 3 and all(len(row.split()) == L for row in rows)
    made = subprocess.run(cli + ["drs", str(out), "--k", "2", "--steps", "2"], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ))
    assert made.returncode == 0, made.stderr  # rejection sampling on a maligan run
    assert (out / "drs.pt").exists()
