"""Training configuration: one dataclass, and the named presets that fill it in."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

from .errors import SeqganError


@dataclass
class TrainConfig:
    preset: str = "article"  # the named preset these values came from (see PRESETS)
    gan: str = "article"  # which GAN recipe trains (see seqgan_core.training.GANS)
    seed: int = 0  # seeds model init, noise and the real-data sampler
    max_steps: int = 10_000  # hard cap on training steps
    patience: int = 800  # stop after this many checks without improvement
    min_delta: float = 0.0  # an improvement must beat the best distance by more than this
    eval_every: int = 1  # check the distance every this many steps
    eval_samples: int = 0  # sequences sampled per check; 0 = the ones the step just generated
    lr: float = 5e-4  # Adam learning rate of G (and of D unless lr_d is set)
    lr_d: float | None = None  # Adam learning rate of D; None = lr
    betas: tuple[float, float] = (0.9, 0.999)  # Adam betas of G (and of D unless betas_d is set)
    betas_d: tuple[float, float] | None = None  # Adam betas of D; None = betas
    loss: str = "bce"  # bce | nonsaturating | hinge | wgan-gp (see seqgan_core.losses)
    distance: str = "rule"  # early-stopping distance: rule | tv | js (pooled, vs the rule's sampler)
    invalid_weight: float = 1.0  # tv/js distances add this x the share of invalid sequences
    batch_size: int = 64  # sequences per step (sequence GAN)
    pack: int = 2  # sequences per discriminator input (PacGAN); must divide batch_size
    noise_dim: int = 16  # generator noise size (sequence GAN)
    g_hidden: int = 0  # generator hidden width; 0 = a single linear layer
    d_hidden: int = 32  # discriminator hidden width
    tau: float = 1.0  # Gumbel-softmax temperature
    ema: float = 0.0  # decay of the generator's moving average used for checks/export; 0 = off
    generator: str = "mlp"  # sequence GAN generator: mlp (all positions at once) | gru (autoregressive)
    discriminator: str = "mlp"  # sequence GAN discriminator: mlp (packed, flattened) | cnn (1-D conv)
    embed_dim: int = 32  # gru generator: token embedding size
    pretrain_steps: int = 0  # maximum-likelihood steps on real sequences before the adversarial phase (gru)
    pretrain_lr: float = 5e-3  # Adam learning rate of the pretraining phase (GRU and embeddings)
    pretrain_head_lr: float = 0.1  # ... and of the output layer and skip table
    pretrain_decay: float = 0.1  # pretraining learning rates decay exponentially to this fraction
    d_warmup: int = 0  # discriminator-only steps after pretraining, before G trains adversarially
    mle_weight: float = 0.0  # weight of a maximum-likelihood term added to G's adversarial loss (gru)
    metrics_every: int = 250  # log metrics to metrics.jsonl every this many steps (train CLI)
    checkpoint_every: int = 500  # save checkpoint.pt in the run folder every this many steps (train CLI)
    export: str = "final"  # which generator is saved: "final" weights or the "best" checked ones
    device: str = "auto"  # auto | cpu | cuda
    log_every: int = 200  # show a decoded sample every this many steps

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise SeqganError(f"unknown training option(s) in saved config: {', '.join(sorted(unknown))}")
        values = dict(values)
        for key in ("betas", "betas_d"):
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        return cls(**values)

    def validate(self) -> TrainConfig:
        check_seed(self.seed)
        positive = ("max_steps", "patience", "eval_every", "log_every", "batch_size", "pack",
                    "noise_dim", "d_hidden", "metrics_every", "checkpoint_every", "embed_dim")
        for name in positive:
            if getattr(self, name) < 1:
                raise SeqganError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}")
        if self.eval_samples < 0:
            raise SeqganError(f"eval_samples must be >= 0, got {self.eval_samples}")
        for flag, lr in (("--lr", self.lr), ("lr_d", self.lr_d), ("pretrain_lr", self.pretrain_lr),
                         ("pretrain_head_lr", self.pretrain_head_lr)):
            if lr is not None and not 0 < lr <= 100:
                raise SeqganError(f"{flag} must be in (0, 100], got {lr}")
        if self.batch_size % self.pack:
            raise SeqganError(
                f"--batch-size {self.batch_size} must be a multiple of {self.pack} "
                f"(the preset's discriminator sees {self.pack} sequences at a time)"
            )
        if self.gan == "article" and self.batch_size != TrainConfig.batch_size:
            raise SeqganError("the article preset trains on one sequence per step; --batch-size does not apply")
        if not 0 <= self.ema < 1:
            raise SeqganError(f"--ema must be in [0, 1), got {self.ema}")
        if not self.tau > 0:
            raise SeqganError(f"--tau must be positive, got {self.tau}")
        from .losses import LOSSES

        if self.loss not in LOSSES:
            raise SeqganError(f"unknown loss {self.loss!r}; use one of {', '.join(LOSSES)}")
        if self.distance not in ("rule", "tv", "js"):
            raise SeqganError(f"unknown distance {self.distance!r}; use rule, tv or js")
        if self.gan == "article" and self.loss != "bce":
            raise SeqganError("the article preset always uses the tutorial's BCE loss; pick another preset for --loss")
        if self.pretrain_steps < 0 or self.mle_weight < 0 or self.d_warmup < 0:
            raise SeqganError("--pretrain-steps, d_warmup and mle_weight must be >= 0")
        if self.pretrain_steps and self.generator != "gru":
            raise SeqganError("--pretrain-steps needs an autoregressive generator; use a gru preset")
        if not 0 < self.pretrain_decay <= 1:
            raise SeqganError(f"pretrain_decay must be in (0, 1], got {self.pretrain_decay}")
        if self.generator not in ("mlp", "gru") or self.discriminator not in ("mlp", "cnn"):
            raise SeqganError(f"unknown generator/discriminator {self.generator!r}/{self.discriminator!r}; "
                              "generators: mlp, gru; discriminators: mlp, cnn")
        if not 0 <= self.min_delta < float("inf"):  # also refuses nan
            raise SeqganError(f"--min-delta must be >= 0, got {self.min_delta}")
        if self.export not in ("final", "best"):
            raise SeqganError(f"export must be 'final' or 'best', got {self.export!r}")
        if self.preset not in PRESETS:
            raise SeqganError(
                f"unknown preset {self.preset!r}; available presets: {', '.join(sorted(PRESETS))}"
            )
        return self


MAX_SEED = 2**63 - 1


def check_seed(seed: int, flag: str = "--seed") -> int:
    if not 0 <= seed <= MAX_SEED:
        raise SeqganError(f"{flag} must be between 0 and 2**63-1, got {seed}")
    return seed


# Each preset is the full set of defaults it needs; CLI flags override single fields.
PRESETS: dict[str, TrainConfig] = {
    # The tutorial, parameter for parameter: one sequence per step, distance on the ten
    # generated numbers every step, patience 800 steps, the final generator saved.
    "article": TrainConfig(preset="article"),
    # Chosen by measurement on multiples5 (benchmarks/benchmark.py): a linear generator over all
    # positions with straight-through Gumbel outputs, a packed (PacGAN) discriminator, hinge loss,
    # fast Adam without momentum, and an EMA of G. Every 50 steps the EMA generator is checked on
    # 1000 sampled sequences (pooled TV + 10 x invalid share); training stops at the first check
    # that does not improve (patience 2 was as good but ~50% slower; raise --patience for harder
    # rules) and the best checked generator is exported.
    "default": TrainConfig(
        preset="default", gan="sequence", loss="hinge", lr=0.3, lr_d=0.03, betas=(0.0, 0.5),
        betas_d=(0.0, 0.9), batch_size=64, pack=2, noise_dim=16, g_hidden=0, d_hidden=32, tau=1.0,
        ema=0.99, distance="tv", invalid_weight=10.0, eval_every=50, eval_samples=4000, patience=1,
        min_delta=0.002, max_steps=3000, export="best",
    ),
}

# Autoregressive presets for rules whose positions depend on each other, chosen by measurement
# (benchmarks/benchmark.py): 2000 maximum-likelihood steps with decaying learning rates, 100
# discriminator-only steps, then 200 adversarial steps (non-saturating loss + the MLE term) against
# a 1-D CNN discriminator. A fixed schedule: checks are for progress, not for stopping early.
_GRU = TrainConfig(
    preset="gru", gan="sequence", generator="gru", discriminator="cnn", loss="nonsaturating",
    batch_size=256, pack=1, embed_dim=32, g_hidden=128, d_hidden=256, lr=1e-4, lr_d=2e-4,
    betas=(0.5, 0.999), tau=1.0, pretrain_steps=2000, pretrain_lr=5e-3, pretrain_head_lr=0.05,
    pretrain_decay=0.1, d_warmup=100, mle_weight=1.0, max_steps=2300, eval_every=100,
    eval_samples=1000, patience=1000, export="final", log_every=500,
)
PRESETS["gru"] = _GRU  # palindrome, and the default for --data
PRESETS["gru-small"] = replace(_GRU, preset="gru-small", g_hidden=64, pretrain_head_lr=0.1)  # ascending
PRESETS["gru-wide"] = replace(_GRU, preset="gru-wide", embed_dim=64, pretrain_head_lr=0.1)  # arithmetic

DEFAULT_PRESET = "default"
DATA_PRESET = "gru"
RULE_PRESETS: dict[str, str] = {  # rule name -> the preset measured best for it
    "ascending": "gru-small",
    "arithmetic": "gru-wide",
    "palindrome": "gru",
}


def preset_for(rule_name: str) -> str:
    """The preset `seqgan train` uses when --preset is not given."""
    return RULE_PRESETS.get(rule_name, DEFAULT_PRESET)


def preset_config(name: str, **overrides) -> TrainConfig:
    """The preset's config with ``overrides`` (None values are ignored) applied and validated."""
    if name not in PRESETS:
        raise SeqganError(f"unknown preset {name!r}; available presets: {', '.join(sorted(PRESETS))}")
    known = {f.name for f in fields(TrainConfig)}
    unknown = set(overrides) - known
    if unknown:
        raise SeqganError(f"unknown training option(s): {', '.join(sorted(unknown))}")
    given = {k: v for k, v in overrides.items() if v is not None}
    return replace(PRESETS[name], **given).validate()
