"""The seqgan recipe (SeqGAN: policy gradient with Monte Carlo rollouts) and its CNN + highway discriminator."""

import json
import os
import subprocess
import sys

import pytest
import torch

from seqgan_core.engine.presets import preset_config
from seqgan_core.engine.recipes import RECIPES
from seqgan_core.engine.recipes.seqgan import SeqGAN, SeqGANOptions, d_logits, rewards
from seqgan_core.engine.training import Trainer
from seqgan_core.models import GRUGenerator, HighwayCNNDiscriminator
from seqgan_core.models.base import AutoregressiveGenerator, Discriminator
from seqgan_core.models.rollout import draw, rollouts
from seqgan_core.options import build
from seqgan_core.plugins.manager import get_plugin_manager, load_rules
from seqgan_core.plugins.registry import DISCRIMINATORS, GENERATORS

from helpers import real_sampler, small_recipe

RULES = load_rules(get_plugin_manager(entry_points=False))
RULE = RULES["multiples5"]
V, L = len(RULE.vocabulary), RULE.length
SMALL_D = {"filter_sizes": (1, 2, 3), "num_filters": (8, 8, 8), "embed": 8}
TINY = dict(pretrain_epochs=2, epoch_sequences=128, d_pretrain=2, d_sequences=64, d_epochs=1,
            adversarial_rounds=2, rollouts=2, d_steps=1)


def _generator(seed: int = 0) -> GRUGenerator:
    torch.manual_seed(seed)
    return GRUGenerator(V, L, GRUGenerator.Options(embed=8, hidden=16, follow=False)).eval()


def _recipe(**options) -> SeqGAN:
    return small_recipe(SeqGAN, RULE, SMALL_D, **options)


def _real(seed: int = 1):
    return real_sampler(RULE, seed)


# -- defaults: the paper's


def test_options_default_to_the_papers_values():
    o = SeqGANOptions()
    assert (o.batch_size, o.epoch_sequences, o.pretrain_epochs, o.d_pretrain, o.d_sequences, o.d_epochs) == \
        (64, 10_000, 120, 50, 10_000, 3)
    assert (o.adversarial_rounds, o.g_steps, o.rollouts, o.rollout_update, o.d_steps) == (200, 1, 16, 0.8, 5)
    assert (o.lr, o.pretrain_lr, o.lr_d, o.l2_reg, o.grad_clip) == (0.01, 0.01, 1e-4, 0.2, 5.0)
    assert o.generator == "lstm" and o.generator_options == {"embed": 32, "hidden": 32}
    d = HighwayCNNDiscriminator.Options()
    assert d.filter_sizes == (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20)
    assert d.num_filters == (100, 200, 200, 200, 200, 100, 100, 100, 100, 100, 160, 160)
    assert (d.embed, d.dropout) == (64, 0.25)
    assert RECIPES["seqgan"] is SeqGAN and DISCRIMINATORS["highway_cnn"] is HighwayCNNDiscriminator
    assert SeqGAN.data_parallel is False
    assert issubclass(GENERATORS["lstm"], AutoregressiveGenerator) and issubclass(HighwayCNNDiscriminator, Discriminator)
    config = preset_config("seqgan")
    assert config.recipe == "seqgan" and config.recipe_options() == SeqGANOptions()
    assert config.max_steps >= sum(SeqGANOptions().budgets().values())  # the whole schedule fits


# -- the discriminator


def test_highway_cnn_shapes_and_index_scores_match_one_hots():
    torch.manual_seed(0)
    d = HighwayCNNDiscriminator(V, L, HighwayCNNDiscriminator.Options(filter_sizes=(1, 2, 3, 50),
                                                                      num_filters=(4, 5, 6, 7))).eval()
    assert [c.kernel_size[0] for c in d.convs] == [1, 2, 3]  # a width longer than L has nowhere to sit
    seqs = torch.randint(V, (7, L))
    onehots = torch.nn.functional.one_hot(seqs, V).float()
    assert d(onehots).shape == (7, 1) and d.features(d.embed(onehots)).shape == (7, 15)
    assert torch.allclose(d(onehots), d.score_indices(seqs), atol=1e-5)
    assert d.penalty().item() > 0


def test_highway_cnn_refuses_widths_longer_than_every_sequence():
    from seqgan_core.errors import SeqganError

    with pytest.raises(SeqganError, match="filter_sizes"):
        HighwayCNNDiscriminator(V, 3, HighwayCNNDiscriminator.Options(filter_sizes=(5,), num_filters=(4,)))


def test_discriminator_loss_falls_against_an_untrained_generator():
    recipe = _recipe(d_sequences=256, d_epochs=1, lr_d=1e-3)
    real = _real()
    first = recipe.d_step(real)["d"]
    for _ in range(6):
        last = recipe.d_step(real)["d"]
    assert last < first - 0.05, (first, last)


# -- rollouts and rewards


def _rng(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_rollout_keeps_the_prefix_and_is_reproducible():
    g = _generator()
    prefix = torch.randint(V, (5, 3))
    a = g.rollout(prefix, generator=_rng(7))
    b = g.rollout(prefix, generator=_rng(7))
    assert a.shape == (5, L) and torch.equal(a[:, :3], prefix) and torch.equal(a, b)
    whole = torch.randint(V, (4, L))
    assert torch.equal(g.rollout(whole), whole)  # nothing left to complete
    rng = _rng(8)
    assert not torch.equal(g.rollout(prefix.repeat(20, 1), generator=rng), g.rollout(prefix.repeat(20, 1), generator=rng))


@pytest.mark.parametrize("family", ["gru", "lstm"])
def test_stepping_rollout_draws_what_teacher_forcing_draws(family):
    """The base's stepping rollout and a rerun of teacher forcing per position are the same
    distribution on the same noise: the same tokens for a seed."""
    torch.manual_seed(0)
    g = GENERATORS[family](V, L, GENERATORS[family].Options(embed=8, hidden=16)).eval()
    prefix = torch.randint(V, (6, 2))
    stepped = g.rollout(prefix, generator=_rng(3))
    rng = _rng(3)
    generic = torch.cat([prefix, prefix.new_zeros(6, L - 2)], dim=1)  # (6, L); the zeros are overwritten
    with torch.no_grad():
        for s in range(2, L):  # position s sees tokens 0 .. s - 1 only
            probs = g.teacher_forced_logits(generic)[:, s].float().softmax(dim=-1)  # (6, V)
            generic[:, s] = torch.multinomial(probs, 1, generator=rng).squeeze(1)
    assert torch.equal(stepped, generic)


@pytest.mark.parametrize("family", ["gru", "lstm", "transformer"])
def test_rollouts_for_every_prefix_match_completing_each_prefix_from_scratch(family):
    """The batched helper reads each prefix once and repeats the state; completing each repeated
    prefix from a fresh state, on the same noise, gives the same tokens."""
    torch.manual_seed(0)
    small = {"gru": {"embed": 8, "hidden": 16}, "lstm": {"embed": 8, "hidden": 16},
             "transformer": {"embed": 16, "layers": 2, "heads": 2}}[family]
    g = GENERATORS[family](V, L, build(GENERATORS[family].Options, small, "test")).eval()
    seqs = g.sample(4)
    together = list(rollouts(g, seqs, 3, _rng(5)))
    assert [t for t, _ in together] == list(range(1, L))
    rng = _rng(5)
    with torch.no_grad():
        for t, completed in together:
            prefix = seqs[:, :t].repeat(3, 1)  # (12, t)
            assert completed.shape == (12, L) and torch.equal(completed[:, :t], prefix)
            state, tokens = g._begin(12), list(prefix.unbind(dim=1))
            for s in range(L):
                logits, state = g._advance(state, s)
                if s >= t:
                    tokens.append(draw(logits, rng))
                state = g._feed(state, tokens[s])
            assert torch.equal(completed, torch.stack(tokens, dim=1)), t


def test_draw_follows_the_softmax():
    logits = torch.tensor([[0.0, 1.0, 2.0]]).log_softmax(-1).expand(20_000, 3)
    counts = torch.bincount(draw(logits, _rng(0)), minlength=3).float() / 20_000
    assert torch.allclose(counts, logits[0].softmax(-1), atol=0.015), counts


def test_rewards_are_probabilities_per_token_and_the_last_is_ds():
    recipe = _recipe()
    seqs = recipe.negatives(5)
    r = rewards(recipe.policy, recipe.discriminator, seqs, 4)
    assert r.shape == (5, L) and bool(((r >= 0) & (r <= 1)).all())
    recipe.discriminator.eval()
    assert torch.allclose(r[:, -1], torch.sigmoid(d_logits(recipe.discriminator, seqs)), atol=1e-6)


def test_policy_follows_the_generator_at_the_update_rate():
    recipe = _recipe(rollout_update=0.8)
    with torch.no_grad():
        for p in recipe.generator.parameters():
            p.add_(1.0)
    before = [p.clone() for p in recipe.policy.parameters()]
    recipe.update_policy()
    names = [name for name, _ in recipe.policy.named_parameters()]
    assert "embed.weight" in names and "rnn.weight_hh_l0" in names
    for name, b, p, g in zip(names, before, recipe.policy.parameters(), recipe.generator.parameters()):
        if name.startswith(("embed.", "start")):  # the reference code copies the embeddings
            assert torch.equal(p, g), name
        else:
            assert torch.allclose(p, 0.8 * b + 0.2 * g, atol=1e-6), name


def test_a_policy_gradient_step_raises_the_likelihood_of_rewarded_tokens():
    """With D fixed to reward sequences that start with one of the first ten tokens (about a tenth
    of G's first draws at the start, so every batch holds some), G's policy-gradient steps raise
    the probability of such a first token."""
    recipe = _recipe(rollouts=2, lr=0.05)

    class LikesLow(torch.nn.Module):
        def score_indices(self, seqs):
            return ((seqs[:, :1] < 10).float() * 8 - 4)  # log-odds +4 / -4

    recipe.discriminator = LikesLow()
    G = recipe.generator
    low = lambda: G.teacher_forced_logits(torch.zeros(1, L, dtype=torch.long))[0, 0].softmax(-1)[:10].sum().item()
    before = low()
    for _ in range(15):
        recipe.g_step()
    assert low() > before + 0.1, (before, low())


# -- the schedule


def test_phases_run_their_budgets_in_order():
    config = preset_config("seqgan", **TINY, eval_every=1000, **{"discriminator.filter_sizes": "1,2",
                                                                  "discriminator.num_filters": "4,4"})
    phases = []
    result = Trainer(RULE, config, callbacks=[lambda p: phases.append(p.phase)]).run()
    assert phases == ["mle"] * 4 + ["warmup"] * 2 + ["adversarial"] * 2  # 2 epochs of 2 batches of 64
    assert result.stop_reason == "budget"


@pytest.fixture(scope="module")
def seqgan_run(tmp_path_factory):
    """A tiny ``seqgan train --rule multiples5 --preset seqgan`` run folder, and its process."""
    out = tmp_path_factory.mktemp("seqgan") / "run"
    sets = [f"{k}={v}" for k, v in TINY.items()] + ["discriminator.filter_sizes=1,2,3",
                                                    "discriminator.num_filters=8,8,8"]
    cmd = [sys.executable, "-m", "seqgan_core", "train", "--rule", "multiples5", "--preset", "seqgan",
           "--threads", "1", "--out", str(out)]
    for s in sets:
        cmd += ["--set", s]
    return out, subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=dict(os.environ))


def test_cli_trains_the_seqgan_preset_end_to_end(seqgan_run):
    out, done = seqgan_run
    assert done.returncode in (0, 3), done.stderr  # 3: trained, but the verdict says not learned
    assert "Traceback" not in done.stderr
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["recipe"] == "seqgan" and int(config["options"]["rollouts"]) == 2  # --set values are kept as given
    sampled = subprocess.run([sys.executable, "-m", "seqgan_core", "sample", str(out), "-n", "3"],
                             capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert sampled.returncode == 0, sampled.stderr
    assert len(sampled.stdout.strip().splitlines()) == 3


# -- discriminator rejection sampling


class PrefersZeroFirst(torch.nn.Module):
    """A discriminator that says "real" (log-odds +3) to sequences starting with token 0, "fake" (-3) to others."""

    def score_indices(self, seqs: torch.Tensor) -> torch.Tensor:
        return (seqs[:, :1] == 0).float() * 6.0 - 3.0  # (n, 1)


def test_drs_shifts_samples_towards_what_d_prefers():
    from seqgan_core.models.drs import DRSGenerator

    g = _generator()
    torch.manual_seed(0)
    plain = (g.sample(4000)[:, 0] == 0).float().mean().item()
    drs = DRSGenerator(g, PrefersZeroFirst(), k=8)
    torch.manual_seed(0)
    out = drs.sample(4000)
    corrected = (out[:, 0] == 0).float().mean().item()
    # with share p of zeros, k = 8 and weights e^3 : e^-3 the kept share is about 1 - (1-p)^8 or more
    assert out.shape == (4000, L) and corrected > min(0.9, 3 * plain), (plain, corrected)
    drs.k = 1  # one candidate: G itself, on the same noise
    torch.manual_seed(0)
    assert torch.equal(drs.sample(50), (torch.manual_seed(0), g.sample(50))[1])


def test_drs_refuses_a_discriminator_that_cannot_score_indices():
    from seqgan_core.errors import SeqganError
    from seqgan_core.models.drs import DRSGenerator

    with pytest.raises(SeqganError, match="score_indices"):
        DRSGenerator(_generator(), DISCRIMINATORS["mlp"](V, L))


@pytest.mark.parametrize("fmt", ["torchscript", "export"])
def test_drs_survives_export_with_its_discriminator_and_k(tmp_path, fmt):
    from seqgan_core.io.export import load_model, metadata, save_sampler
    from seqgan_core.models.drs import DRSGenerator, fit_discriminator

    g = _generator()
    torch.manual_seed(1)
    d = HighwayCNNDiscriminator(V, L, HighwayCNNDiscriminator.Options(**SMALL_D))
    losses = fit_discriminator(d, g, _real(), steps=30, lr=1e-3)
    assert sum(losses[-5:]) < sum(losses[:5])  # D learns to tell this G's samples from real ones
    drs = DRSGenerator(g, d, k=4)
    path = save_sampler(drs, metadata(RULE), tmp_path / ("drs.pt" if fmt == "torchscript" else "drs.pt2"), fmt)
    loaded = load_model(path)
    torch.manual_seed(9)
    want = drs.sample(20)
    assert torch.equal(loaded.sample(20, seed=9), want)
    if fmt == "torchscript":  # k stays selectable in the file
        assert loaded.sampler.generator.k == 4
        loaded.sampler.generator.k = 1
        torch.manual_seed(9)
        assert torch.equal(loaded.sample(20, seed=9), (torch.manual_seed(9), g.sample(20))[1])


def test_save_drs_writes_a_file_that_sample_reads(seqgan_run):
    from seqgan_core.io.drs import save_drs
    from seqgan_core.io.export import load_model

    out, done = seqgan_run
    assert done.returncode in (0, 3), done.stderr
    path = save_drs(out, _real(), k=4, steps=5)
    assert path == out / "drs.pt"
    model = load_model(path)
    assert model.meta["drs"]["k"] == 4 and model.sampler.generator.k == 4
    drawn = model.sample(50, seed=0)  # LoadedModel checks shape, dtype and range
    assert drawn.shape == (50, L) and torch.equal(drawn, model.sample(50, seed=0))
    refused = subprocess.run([sys.executable, "-m", "seqgan_core", "sample", str(path), "-n", "3"],
                             capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert refused.returncode != 0 and "--trust" in refused.stderr  # a program file given by path needs trust
    sampled = subprocess.run([sys.executable, "-m", "seqgan_core", "sample", str(path), "-n", "3", "--trust"],
                             capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert sampled.returncode == 0, sampled.stderr
    assert len(sampled.stdout.strip().splitlines()) == 3


def test_cli_drs_writes_drs_pt_that_sample_reads_with_trust(seqgan_run):
    from seqgan_core.io.export import load_model

    out, done = seqgan_run
    assert done.returncode in (0, 3), done.stderr
    cli = [sys.executable, "-m", "seqgan_core"]
    made = subprocess.run(cli + ["drs", str(out), "--k", "2", "--steps", "3"], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ))
    assert made.returncode == 0, made.stderr
    assert "--trust" in made.stderr  # it says how to sample the program it wrote
    model = load_model(out / "drs.pt")
    assert model.meta["drs"] == {**model.meta["drs"], "k": 2, "steps": 3}
    sampled = subprocess.run(cli + ["sample", str(out / "drs.pt"), "-n", "4", "--trust"], capture_output=True,
                             text=True, timeout=120, env=dict(os.environ))
    assert sampled.returncode == 0, sampled.stderr
    assert len(sampled.stdout.strip().splitlines()) == 4
    bad = subprocess.run(cli + ["drs", str(out), "--k", "0"], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ))
    assert bad.returncode != 0 and "--k" in bad.stderr and "Traceback" not in bad.stderr
