"""The ``reinforce-lstm`` preset: the LSTM generator, trained by the reinforce recipe."""

from seqgan_core.engine.presets import Preset

REINFORCE_LSTM = Preset(
    "reinforce-lstm", "an LSTM by maximum likelihood, then REINFORCE with Monte Carlo rollouts judged by the rule",
    run=dict(recipe="reinforce", max_steps=400, eval_every=50, eval_samples=500, patience=4),
    options=dict(generator="extras-lstm", generator_options={"embed": 32, "hidden": 64}, batch_size=64,
                 pretrain_steps=100, pretrain_lr=5e-3, lr=1e-3, rollouts=1),
)


def register_presets(register):
    register(REINFORCE_LSTM)
