"""Named presets: a recipe, its options and run settings, chosen by measurement on the whole rule
suite (``benchmarks/benchmark.py suite``) — never by a rule's name.

With no ``--preset``, ``seqgan train`` picks ``independent`` or ``autoregressive`` from the rule
itself (``seqgan_core.engine.choice``). Presets are found by name in ``PRESETS``, which plugins
fill through the ``register_presets`` hook; the built-in ones below are registered by
``seqgan_core.engine.builtins`` like any plugin's. Adding one is one ``add(Preset(...))`` here
(or one ``register(Preset(...))`` in a plugin).
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, fields
from typing import Any

from seqgan_core.engine.config import TrainConfig
from seqgan_core.errors import SeqganError
from seqgan_core.options import coerce
from seqgan_core.plugins.registry import Registry


@dataclass(frozen=True)
class Preset:
    name: str
    summary: str  # one line for `seqgan train --help` and the README
    run: dict  # TrainConfig fields, ``recipe`` among them (default: the sequence recipe)
    options: dict  # the recipe's options


def _check_preset(thing: Any) -> str:
    if not isinstance(thing, Preset):
        raise SeqganError(f"{thing!r} is not a seqgan_core.engine.presets.Preset")
    if not thing.name or not isinstance(thing.run, dict) or not isinstance(thing.options, dict):
        raise SeqganError(f"preset {thing.name!r} needs a name and dicts run= and options=")
    unknown = sorted(set(thing.run) - {f.name for f in fields(TrainConfig)})
    if unknown:
        raise SeqganError(f"preset {thing.name!r} has unknown run settings: {', '.join(unknown)}")
    return thing.name


PRESETS = Registry("preset", "register_presets", _check_preset)
BUILTIN_PRESETS: list[Preset] = []  # registered by seqgan_core.engine.builtins


def add(preset: Preset) -> Preset:
    BUILTIN_PRESETS.append(preset)
    return preset


# The tutorial, parameter for parameter: one sequence per step, the rule's own distance on the ten
# generated numbers every step, patience 800 steps, the final generator saved.
add(Preset(
    "article", "the tutorial, parameter for parameter (one-row-per-token linear G and D, BCE)",
    run=dict(recipe="article", max_steps=10_000, eval_every=1, eval_samples=0, patience=800, min_delta=0.0,
             distance="rule", keep="final", until_valid=False),
    options=dict(lr=5e-4),
))

# For rules whose positions are independent: the product of the positions' own distributions
# (models/marginals.py), fitted by maximum likelihood until its held-out NLL stops improving.
# It is the model the choice test (choice.py) checks a rule against, so once its rows match real
# data's frequencies it is valid at real data's rate. On five rules with independent positions,
# three of them written for the measurement (README, "Rules with independent positions"), seeds
# 0-2, it was learned as trained on all 15 runs with token TV 0.006-0.025, at real data's own
# level, in 1.5-3.3 s; the GAN below (this preset until then) was learned on 6 of the 15, with
# TV up to 0.24. Adam without much memory (betas 0.5, 0.9) keeps lowering tokens that never
# occur, where the usual 0.999 stalls them (88 % valid as trained against 100 %).
# ``--set adversarial=true`` then trains it against the packed discriminator. Its first plateau
# cuts the learning rate to a tenth (below) instead of ending the phase: on the same five rules,
# seeds 0-2, token TV fell further (multiples5 0.010 -> 0.006, banded 0.026 -> 0.013, odd 0.024 ->
# 0.018) for 250-400 more steps, about 0.1 s.
add(Preset(
    "independent", "each position from its own learned distribution, by maximum likelihood",
    run=dict(recipe="sequence", max_steps=3000, eval_every=50, eval_samples=1000, patience=4),
    options=dict(generator="marginals", pretrain_steps=1000, pretrain_lr=0.1, pretrain_betas=(0.5, 0.9),
                 batch_size=256, adversarial=False, plateau_cut=0.1,
                 discriminator="mlp", discriminator_options={"pack": 2}, loss="hinge", lr=0.03, lr_d=0.03,
                 betas=(0.0, 0.5), betas_d=(0.0, 0.9), tau=1.0, ema=0.99, d_warmup=0),
))

# All positions at once from noise, straight-through Gumbel-softmax outputs, a packed (PacGAN)
# discriminator, hinge loss, fast Adam without momentum, and an EMA of G, which is what is checked
# and saved. The default for independent positions until the marginals model above measured
# better; a GAN from noise can, unlike it, make positions vary together.
add(Preset(
    "pacgan", "all positions at once from noise (MLP generator, PacGAN discriminator, hinge loss, EMA of G)",
    run=dict(recipe="sequence", max_steps=3000, eval_every=50, eval_samples=1000, patience=4),
    options=dict(generator="mlp", discriminator="mlp", discriminator_options={"pack": 2}, loss="hinge",
                 lr=0.3, lr_d=0.03, betas=(0.0, 0.5), betas_d=(0.0, 0.9), batch_size=64, tau=1.0, ema=0.99),
))

# For rules whose positions depend on each other: an autoregressive generator trained by maximum
# likelihood until its held-out NLL stops improving (at most 3 000 steps, the learning rate decaying
# to 10 %), then sampled with the least min-p the verdict calls learned (temperature.py). The GRU's
# ``seen`` term (one learned number per step on every token already used) is on: on the suite's
# all-different rule maximum likelihood went from 70 % valid in 4 000 steps to 99.9 % in 1 000.
#
# The first plateau of a phase cuts its learning rates to a tenth and the phase goes on; the next
# one ends it (``plateau_cut``, recipes/sequence.py). A plateau while the rate is still ~30 % of
# its start is often the optimiser's noise: on the suite's `steps` rule (seeds 0-2) token TV went
# from 0.036 / 0.052 / 0.050 to 0.021 / 0.018 / 0.022, and `walk64` seed 0 from not learned
# (97.9 %, TV 0.052) to 100 % at TV 0.016, for 500-900 more steps. Jumping to the schedule's own
# end (10 % of the start) instead did worse (steps TV 0.025 on every seed, walk64 0.032 / 0.025).
#
# A step holds at most 4 096 tokens (``max_batch_tokens``): 256 sequences up to length 16, 64 at
# length 64. On the suite's walk64 (L = 64, seed 0, two runs at once) batch 64 was learned at TV
# 0.017 in 85 s, batch 128 at 0.021 in 122 s, and 256 at 0.016 in 302 s.
#
# ... and at most 1 280 000 output logits (``max_batch_logits``: batch x length x vocabulary, never
# below 64 sequences), which only large vocabularies reach: 128 sequences of 10 tokens of 1 000, 85
# at 1 500. On the suite's `pairs` (V = 1 000, seeds 0-2, two runs at once) 128 a step was learned
# on every seed in 77-81 s where 256 took 172-185 s (one thread each: the cores were shared), at
# token TV 0.021-0.042 on 100 000 samples against 256's 0.022 / 0.037 (real data's own: 0.017);
# on a ring walk with V = 1 500 written outside the suite, 85 a step was learned in 80 s against
# 178 s (TV 0.031 against 0.026; real 0.021).
#
# The adversarial phase (a short discriminator warm-up, then non-saturating steps with the MLE
# term against a 1-D CNN discriminator) is off: ``--set adversarial=true`` runs it. On the rule
# suite (seed 0) maximum likelihood alone for the GAN run's own step count was
# at least 99 % valid on 13 of 14 autoregressive rules against the GAN's 12 (walk64: 100 % against
# 97.9 %), as valid or more on 10 of them, in 0.38-0.67x the wall time; on finite data it was
# never beaten either (recipes/sequence.py). Maximum likelihood alone is the baseline a GAN must
# beat; here the GAN did not.
_AUTOREGRESSIVE = dict(
    generator="gru", generator_options={"embed": 32, "hidden": 128, "seen": True}, discriminator="cnn",
    loss="nonsaturating", batch_size=256, lr=1e-4, lr_d=2e-4, betas=(0.5, 0.999), tau=1.0,
    pretrain_steps=3000, pretrain_lr=5e-3, pretrain_head_lr=0.05, pretrain_decay=0.1, d_warmup=100, mle_weight=1.0,
    adversarial=False, plateau_cut=0.1, max_batch_tokens=4096, max_batch_logits=1_280_000,
)
add(Preset(
    "autoregressive", "autoregressive generator by maximum likelihood (--set adversarial=true: then adversarial "
    "steps with an MLE term)",
    run=dict(recipe="sequence", max_steps=4000, eval_every=100, eval_samples=1000, patience=4, log_every=500),
    options=_AUTOREGRESSIVE,
))
add(Preset(
    "gru", "the same as autoregressive (its generator is a GRU); kept for runs that name it",
    run=dict(recipe="sequence", max_steps=4000, eval_every=100, eval_samples=1000, patience=4, log_every=500),
    options=_AUTOREGRESSIVE,
))
# The same schedule with a causal transformer generator (token + position embeddings, masked
# self-attention). By maximum likelihood alone on the suite (4 000 steps, seed 0, before the GRU's
# seen term) it took 1.7-1.9x the GRU's wall time, was ahead on `sum` (95.5 % vs 92.1 %) and
# behind on `ascending` (93.6 % vs 96.9 %), so it is not the default.
add(Preset(
    "transformer", "as autoregressive, with a small causal transformer generator (nanoGPT-style)",
    run=dict(recipe="sequence", max_steps=4000, eval_every=100, eval_samples=1000, patience=4, log_every=500),
    options={**_AUTOREGRESSIVE, "generator": "transformer", "generator_options": {},
             "pretrain_lr": 1e-3, "pretrain_head_lr": None},
))

# Maximum likelihood on finite data (a data file, a rule with a fixed training set), on top of the
# recipe's and the generator's own ``finite_data``, unless given: smaller steps (2e-3 for body and
# head), a step budget of ``FINITE_EPOCHS`` passes over the training sequences (the learning rate
# decaying over all of it), and patience counted in more held-out checks, so that the run ends when
# held-out NLL stops improving, not when the budget or a noisy check ends it. On the SeqGAN paper's
# oracle (``--data`` on 9 984 of its samples, seed 0) the earlier defaults stopped after 100-300
# steps at NLL_oracle / NLL_test 9.83 / 7.78 (T = 1), about 1 nat above the best published
# maximum-likelihood curve (Caccia et al. 2020) at a matched NLL_test; these settings with the GRU's
# finite-data dropout 0.6 and embedding 64, given by hand (2 500 steps), gave 9.17 / 7.45 (T = 1),
# 8.26 / 7.61 (0.8), 7.61 / 7.82 (0.7), 6.85 / 8.22 (0.6): below that curve at every point.
# The budget's floor: on benchmarks/data/words.txt (--chars, seed 0) a floor of 1 000 steps ended
# the run still improving at held-out NLL 2.517 against the earlier defaults' 2.492; with 2 500 it
# reached 2.493 (3 000: 2.492), in about 6x the earlier defaults' steps. On shop.csv (--header)
# 0.893 against 0.895, both stopped by memorising at step 600.
FINITE_EPOCHS = 70  # passes over the training sequences the step budget allows
FINITE_STEPS = (2500, 20_000)  # the step budget's floor and cap, whatever the data's size
FINITE_STEPS_UNKNOWN = 2500  # the budget where the training set's size is not known (a rule)
FINITE_DATA = {"pretrain_lr": 2e-3, "pretrain_head_lr": 2e-3}  # recipe options
FINITE_RUN = {"patience": 6}  # run settings: held-out checks without improvement before the end


def finite_data(train_sequences: int | None, batch_size: int) -> tuple[dict, dict]:
    """What maximum likelihood on finite data changes, as (run settings, recipe options): the step
    budget (``max_steps`` and the learning-rate schedule's ``pretrain_steps``) is ``FINITE_EPOCHS``
    passes over ``train_sequences`` at ``batch_size`` a step, within ``FINITE_STEPS``."""
    if train_sequences is None:
        steps = FINITE_STEPS_UNKNOWN
    else:
        low, high = FINITE_STEPS
        steps = min(high, max(low, round(FINITE_EPOCHS * train_sequences / max(1, batch_size))))
    return {**FINITE_RUN, "max_steps": steps}, {**FINITE_DATA, "pretrain_steps": steps}

# SeqGAN itself (Yu et al. 2017; recipes/seqgan.py): maximum likelihood, discriminator pretraining, then
# policy-gradient rounds with Monte Carlo rollouts against the CNN + highway discriminator, every count
# the paper's (120 + 50 + 200; max_steps covers 120 epochs of 157 batches and the 250 steps after them).
# A fixed schedule, checked every 200 steps; the final generator is saved, at temperature 1.
add(Preset(
    "seqgan", "SeqGAN as the paper trains it (MLE, D pretraining, REINFORCE with Monte Carlo rollouts, CNN D)",
    run=dict(recipe="seqgan", max_steps=19_090, eval_every=200, eval_samples=1000, patience=4, keep="final",
             choose_temperature=False, log_every=200),
    options={},
))

# RelGAN (Nie et al. 2019; recipes/relgan.py): maximum likelihood, then adversarial rounds on Gumbel-softmax
# relaxations annealed to beta_max 1000 against the multi-representation CNN discriminator, RSGAN loss, every
# count the paper's synthetic setting (150 epochs of 157 batches + 3000 rounds = 26 550 steps). A fixed
# schedule, checked every 200 steps; the final generator is saved, at temperature 1.
add(Preset(
    "relgan", "RelGAN as the paper trains it (MLE, then Gumbel-softmax annealed to beta_max, RSGAN, multi-rep CNN D)",
    run=dict(recipe="relgan", max_steps=26_550, eval_every=200, eval_samples=1000, patience=4, keep="final",
             choose_temperature=False, log_every=200),
    options={},
))

# MaliGAN (Che et al. 2017; recipes/maligan.py) as TextGAN-PyTorch's oracle run trains it: maximum likelihood,
# discriminator pretraining, then rounds of 50 generator steps on its own samples weighted by D / (1 - D),
# normalised, minus their mean, and one discriminator step (80 + 4 + 200; max_steps covers 80 epochs of
# 157 batches and the 204 steps after them). Checked and saved as the seqgan preset.
add(Preset(
    "maligan", "MaliGAN as its reference code trains it (MLE, D pretraining, samples weighted by D/(1-D), CNN D)",
    run=dict(recipe="maligan", max_steps=12_764, eval_every=200, eval_samples=1000, patience=4, keep="final",
             choose_temperature=False, log_every=200),
    options={},
))

RUN_FIELDS = {f.name for f in fields(TrainConfig)} - {"options", "recipe", "preset"}


def get_preset(name: str) -> Preset:
    return PRESETS.lookup(name)


def preset_config(name: str, **overrides) -> TrainConfig:
    """The preset with ``overrides`` applied (None values are ignored) and checked.

    An override is a run setting (a ``TrainConfig`` field: ``seed``, ``max_steps``...) or a
    recipe option (``lr``, ``batch_size``, ``generator.hidden``...).
    """
    preset = get_preset(name)
    given = {k: v for k, v in overrides.items() if v is not None}
    hints = typing.get_type_hints(TrainConfig)  # --set gives strings: a run setting takes its field's type
    run = {**preset.run, **{k: coerce(v, hints[k], f"run setting {k!r}") for k, v in given.items() if k in RUN_FIELDS}}
    options = {k: v for k, v in given.items() if k not in RUN_FIELDS}
    for cap in ("max_batch_tokens", "max_batch_logits"):  # a batch size asked for is the batch size
        if "batch_size" in options and cap in preset.options and cap not in options:
            options[cap] = None
    config = TrainConfig(preset=name, **run, options=dict(preset.options)).with_options(**options)
    return config.validate()
