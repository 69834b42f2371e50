"""The relgan recipe (RelGAN: Gumbel-softmax relaxations annealed to beta_max, RSGAN) and its
multi-representation CNN discriminator."""

import json
import math
import os
import subprocess
import sys

import pytest
import torch

from seqgan_core.engine.presets import preset_config
from seqgan_core.engine.recipes import RECIPES
from seqgan_core.engine.recipes.relgan import SCHEDULES, RelGAN, RelGANOptions, inverse_temperature, rsgan
from seqgan_core.engine.training import Trainer
from seqgan_core.errors import SeqganError
from seqgan_core.models import LSTMGenerator, RelGANDiscriminator
from seqgan_core.models.sampling import gumbel_noise, gumbel_softmax
from seqgan_core.options import build
from seqgan_core.plugins.manager import get_plugin_manager, load_rules
from seqgan_core.plugins.registry import DISCRIMINATORS

from helpers import real_sampler, small_recipe

RULES = load_rules(get_plugin_manager(entry_points=False))
RULE = RULES["multiples5"]
V, L = len(RULE.vocabulary), RULE.length
SMALL_D = {"num_rep": 4, "embed": 8, "num_filters": (6, 6, 6, 6), "hidden": 10}
TINY = dict(pretrain_epochs=2, epoch_sequences=128, adversarial_rounds=3, d_steps=1)
TINY_SETS = {**TINY, "discriminator.num_rep": "4", "discriminator.embed": "8", "discriminator.num_filters": "6,6,6,6"}


def _recipe(**options) -> RelGAN:
    return small_recipe(RelGAN, RULE, SMALL_D, **options)


def _real(seed: int = 1):
    return real_sampler(RULE, seed)


# -- defaults: the paper's


def test_options_default_to_the_papers_values():
    o = RelGANOptions()
    assert (o.batch_size, o.epoch_sequences, o.pretrain_epochs, o.pretrain_lr, o.grad_clip) == (64, 10_000, 150, 1e-2, 5.0)
    assert (o.adversarial_rounds, o.g_steps, o.d_steps, o.lr, o.lr_d) == (3000, 1, 5, 1e-4, 1e-4)
    assert (o.beta_max, o.schedule) == (1000.0, "exp")
    assert o.generator == "lstm" and o.generator_options == {"embed": 32, "hidden": 32}
    assert o.discriminator == "relgan_cnn"
    d = RelGANDiscriminator.Options()
    assert (d.embed, d.num_rep, d.filter_sizes, d.num_filters, d.hidden, d.dropout) == \
        (64, 64, (2, 3, 4, 5), (300, 300, 300, 300), 100, 0.25)
    assert RECIPES["relgan"] is RelGAN and DISCRIMINATORS["relgan_cnn"] is RelGANDiscriminator
    config = preset_config("relgan")
    assert config.recipe == "relgan" and config.recipe_options() == RelGANOptions()
    assert (config.choose_temperature, config.keep) == (False, "final")
    assert config.max_steps >= sum(RelGANOptions().budgets().values())  # the whole schedule fits


@pytest.mark.parametrize("bad, culprit", [
    ({"beta_max": 0.5}, "beta_max"), ({"beta_max": math.inf}, "beta_max"), ({"schedule": "cubic"}, "schedule"),
    ({"generator": "mlp"}, "autoregressive"), ({"batch_size": 0}, "batch-size"), ({"grad_clip": 0.0}, "grad_clip"),
    ({"lr": 0.0}, "lr"), ({"pretrain_epochs": 0, "adversarial_rounds": 0}, "nothing to train"),
    ({"d_steps": -1}, "d-steps"), ({"discriminator": "nope"}, "nope"),
])
def test_options_refuse_bad_values_with_one_line(bad, culprit):
    with pytest.raises(SeqganError) as e:
        build(RelGANOptions, {"discriminator_options": SMALL_D, **bad}, "test").check()
    assert culprit in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("bad, culprit", [({"embed": 10, "num_rep": 4}, "num_rep"), ({"hidden": 0}, "hidden"),
                                          ({"filter_sizes": (11,), "num_filters": (3,)}, "longer than the sequences")])
def test_discriminator_refuses_bad_sizes_with_one_line(bad, culprit):
    with pytest.raises(SeqganError) as e:
        RelGANDiscriminator(V, L, RelGANDiscriminator.Options(**{**SMALL_D, **bad}))
    assert culprit in str(e.value) and "\n" not in str(e.value)


# -- the inverse temperature


@pytest.mark.parametrize("schedule", sorted(set(SCHEDULES) - {"no"}))
def test_every_schedule_rises_from_1_to_beta_max(schedule):
    betas = [inverse_temperature(1000.0, n, 50, schedule) for n in range(50)]
    near = 1e-4 * 1000 if schedule == "sigmoid" else 1e-9  # the reference's sigmoid stops e^-10 short of both ends
    assert betas[0] == pytest.approx(1.0, abs=near) and betas[-1] == pytest.approx(1000.0, abs=near)
    assert all(a <= b for a, b in zip(betas, betas[1:]))


def test_the_papers_schedule_is_geometric():
    assert inverse_temperature(100.0, 0, 3, "exp") == 1.0
    assert inverse_temperature(100.0, 1, 3, "exp") == pytest.approx(10.0)  # 100 ** (1 / 2)
    assert inverse_temperature(100.0, 2, 3, "exp") == 100.0
    assert inverse_temperature(100.0, 0, 3, "no") == 100.0 and inverse_temperature(7.0, 0, 1, "exp") == 1.0


def test_a_run_anneals_beta_over_its_adversarial_rounds():
    config = preset_config("relgan", **{**TINY_SETS, "adversarial_rounds": 5, "beta_max": 16}, eval_every=1000)
    seen = []
    result = Trainer(RULE, config, callbacks=[lambda p: seen.append((p.phase, p.losses.get("beta")))]).run()
    assert [phase for phase, _ in seen] == ["mle"] * 4 + ["adversarial"] * 5  # 2 epochs of 2 batches of 64
    assert [b for _, b in seen[4:]] == pytest.approx([1, 2, 4, 8, 16])
    assert result.stop_reason == "budget"


# -- the relaxation and the discriminator


def test_relaxation_is_a_distribution_whose_argmax_is_the_drawn_token():
    logits = torch.randn(500, 7, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    soft, index = gumbel_softmax(logits, 1.0)
    assert torch.allclose(soft.sum(-1), torch.ones(500)) and torch.equal(soft.argmax(-1), index)
    torch.manual_seed(0)
    hard, same = gumbel_softmax(logits, 1000.0)  # the same noise at a high inverse temperature: nearly one-hot
    assert torch.equal(same, index) and (hard.max(-1).values > 0.99).float().mean() > 0.95
    counts = torch.bincount(gumbel_softmax(logits[:1].expand(20_000, 7), 1.0)[1], minlength=7).float() / 20_000
    assert torch.allclose(counts, logits[0].softmax(-1), atol=0.015)  # argmax(logits + g) draws from the softmax


def test_generator_relaxation_feeds_its_tokens_and_passes_gradients():
    torch.manual_seed(0)
    g = LSTMGenerator(V, L, LSTMGenerator.Options(embed=8, hidden=16))
    torch.manual_seed(5)
    soft, tokens = g.relaxed(6, 2.0)
    assert soft.shape == (6, L, V) and tokens.shape == (6, L) and torch.equal(soft.argmax(-1), tokens)
    # the drawn tokens, not their relaxations, were fed: teacher forcing on them and the same
    # noise, position by position, give the same relaxations
    torch.manual_seed(5)
    with torch.no_grad():
        logits = g.teacher_forced_logits(tokens)  # (6, L, V)
        want = torch.stack([(2.0 * (logits[:, t] + gumbel_noise([6, V], logits.device))).softmax(-1)
                            for t in range(L)], dim=1)
    assert torch.allclose(soft.detach(), want, atol=1e-5)
    soft[:, :, :10].sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in g.parameters())


def test_discriminator_scores_each_representation_and_matches_the_reference_convolution():
    torch.manual_seed(0)
    d = RelGANDiscriminator(V, L, RelGANDiscriminator.Options(**{**SMALL_D, "filter_sizes": (2, 3, 4, 50)})).eval()
    assert [c.kernel_size[0] for c in d.convs] == [2, 3, 4]  # a width longer than L has nowhere to sit
    seqs = torch.randint(V, (5, L))
    onehots = torch.nn.functional.one_hot(seqs, V).float()
    assert d.rep_logits(onehots).shape == (5, 4) and d(onehots).shape == (5, 1)
    assert torch.allclose(d(onehots), d.rep_logits(onehots).mean(1, keepdim=True))
    assert torch.allclose(d(onehots), d.score_indices(seqs), atol=1e-5)
    # TextGAN-PyTorch's RelGAN_D: Conv2d(1, n, (k, S), stride (1, S)) over (B, 1, L, E), pooled over time
    emb = d.embed(onehots)  # (5, L, 8)
    conv = d.convs[1]
    ref = torch.nn.Conv2d(1, 6, (3, 2), stride=(1, 2))
    with torch.no_grad():
        ref.weight.copy_(conv.weight.transpose(1, 2).unsqueeze(1))  # (n, S, k) -> (n, 1, k, S)
        ref.bias.copy_(conv.bias)
        pooled = torch.relu(ref(emb.unsqueeze(1))).amax(dim=2)  # (5, n, R)
        S, R = 2, 4
        h = emb.view(5, L, R, S).permute(0, 2, 3, 1).reshape(5 * R, S, L)
        mine = torch.relu(conv(h)).amax(dim=2).view(5, R, 6).permute(0, 2, 1)  # (5, n, R)
    assert torch.allclose(pooled, mine, atol=1e-5)


def test_discriminator_gradient_reaches_soft_inputs():
    torch.manual_seed(0)
    d = RelGANDiscriminator(V, L, RelGANDiscriminator.Options(**SMALL_D))
    soft = torch.rand(3, L, V).softmax(-1).requires_grad_(True)
    d(soft).sum().backward()
    assert soft.grad is not None and soft.grad.abs().sum() > 0


def test_rsgan_is_the_relativistic_standard_loss():
    a, b = torch.tensor([[2.0, 1.0]]), torch.tensor([[0.5, 0.5]])
    want = torch.nn.functional.softplus(-(a - b)).mean()
    assert torch.allclose(rsgan(a, b), want) and rsgan(b, a) > rsgan(a, b)


# -- the adversarial steps


def test_discriminators_gradient_reaches_the_generator_in_an_adversarial_step():
    recipe = _recipe()
    G, D = recipe.generator, recipe.discriminator
    before = [p.detach().clone() for p in G.parameters()]
    d_before = [p.detach().clone() for p in D.parameters()]
    recipe.g_step(_real(), beta=5.0)
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in G.parameters())  # every G weight
    assert all(not torch.equal(a, p) for a, p in zip(before, G.parameters()))
    assert all(p.grad is None for p in D.parameters())  # G's step leaves D alone
    assert all(torch.equal(a, p) for a, p in zip(d_before, D.parameters()))
    assert all(p.requires_grad for p in D.parameters())
    g_now = [p.detach().clone() for p in G.parameters()]
    recipe.d_step(_real(), beta=5.0)
    assert all(torch.equal(a, p) for a, p in zip(g_now, G.parameters()))  # and D's step leaves G alone
    assert any(not torch.equal(a, p) for a, p in zip(d_before, D.parameters()))


def test_generator_steps_move_mass_to_what_d_prefers():
    """With D fixed to score a sequence by its relaxed mass on the first ten tokens, G's RSGAN
    steps raise the probability it gives those tokens."""
    recipe = _recipe(lr=0.02)

    class LikesLow(torch.nn.Module):
        def rep_logits(self, onehots):  # (B, L, V) -> (B, 1)
            return onehots[:, :, :10].sum(-1).mean(-1, keepdim=True) * 8

    recipe.discriminator = LikesLow()
    G = recipe.generator
    low = lambda: G.teacher_forced_logits(G.sample(256)).softmax(-1)[:, :, :10].sum(-1).mean().item()  # noqa: E731
    torch.manual_seed(1)
    before = low()
    for _ in range(20):
        recipe.g_step(_real(), beta=1.0)
    assert low() > before + 0.05, (before, low())


def test_discriminator_loss_falls_against_an_untrained_generator():
    recipe = _recipe(lr_d=1e-3)
    real = _real()
    first = sum(recipe.d_step(real, 10.0)["d"] for _ in range(3)) / 3
    for _ in range(40):
        recipe.d_step(real, 10.0)
    last = sum(recipe.d_step(real, 10.0)["d"] for _ in range(3)) / 3
    assert last < first - 0.05, (first, last)


# -- end to end


@pytest.fixture(scope="module")
def relgan_run(tmp_path_factory):
    """A tiny ``seqgan train --rule multiples5 --preset relgan`` run folder, and its process."""
    out = tmp_path_factory.mktemp("relgan") / "run"
    cmd = [sys.executable, "-m", "seqgan_core", "train", "--rule", "multiples5", "--preset", "relgan",
           "--threads", "1", "--max-steps", "6", "--out", str(out)]
    for k, v in TINY_SETS.items():
        cmd += ["--set", f"{k}={v}"]
    return out, subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=dict(os.environ))


def test_cli_trains_the_relgan_preset_end_to_end(relgan_run):
    out, done = relgan_run
    assert done.returncode in (0, 3), done.stderr  # 3: trained, but the verdict says not learned
    assert "Traceback" not in done.stderr
    record = json.loads((out / "config.json").read_text())
    assert record["config"]["recipe"] == "relgan" and int(record["config"]["options"]["adversarial_rounds"]) == 3
    assert record["steps"] == 6  # --max-steps: 4 maximum-likelihood batches, then 2 adversarial rounds
    history = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    assert any(row.get("phase") == "adversarial" for row in history)


def test_a_relgan_run_exports_and_samples(relgan_run):
    from seqgan_core.io.export import load_model

    out, done = relgan_run
    assert done.returncode in (0, 3), done.stderr
    sampled = subprocess.run([sys.executable, "-m", "seqgan_core", "sample", str(out), "-n", "3"],
                             capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert sampled.returncode == 0, sampled.stderr
    assert len(sampled.stdout.strip().splitlines()) == 3
    program, weights = load_model(out / "generator.pt"), load_model(out / "generator.weights.pt")
    drawn = program.sample(40, seed=3)
    assert drawn.shape == (40, L) and torch.equal(drawn, weights.sample(40, seed=3))  # rebuilt by build_generator


def test_a_resumed_run_goes_on_with_the_rounds_temperature(tmp_path):
    """The round index (and so beta) comes from the checkpointed phase state: a run interrupted
    after its first adversarial round and resumed runs its third round at beta_max."""
    from seqgan_core import cli
    from seqgan_core.engine.training import StopRequest
    from seqgan_core.io.run import load_checkpoint, train_run
    from seqgan_core.rules.target import rule_target

    stop = StopRequest()
    config = preset_config("relgan", **{**TINY_SETS, "beta_max": 9}, eval_every=1, threads=1)

    def stop_at_5(p):
        stop.requested = stop.requested or p.step == 5  # after round 0 (4 maximum-likelihood steps first)

    run = tmp_path / "r"
    train_run(rule_target(RULE), config, run, callbacks=[stop_at_5], stop=stop)
    assert load_checkpoint(run)["stop_reason"] == "interrupted"
    assert cli.main(["train", "--resume", str(run)]) in (0, 3)
    rows = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    betas = {row["step"]: row["losses"]["beta"] for row in rows if row["phase"] == "adversarial"}
    assert betas == pytest.approx({5: 1.0, 6: 3.0, 7: 9.0})  # 9 ** (n / 2), n = 0, 1, 2
