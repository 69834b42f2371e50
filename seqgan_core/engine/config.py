"""What a training run does: run-level settings, and which recipe trains with which options.

``TrainConfig`` holds what every recipe shares (seed, step budget, checks, stopping, device,
threads). What trains is ``recipe`` (see ``seqgan_core.engine.recipes``) with ``options``, a plain dict
that the recipe's own ``Options`` dataclass validates; model families validate theirs. Presets
(``seqgan_core.engine.presets``) are named sets of both; none of them knows any rule.
"""

from __future__ import annotations

from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from seqgan_core.errors import SeqganError
from seqgan_core.options import at_least, build, fields_in_file, plain_type

MAX_SEED = 2**63 - 1
DISTANCES = ("quality", "rule")
STOP_SIGNALS = ("distance", "heldout_nll")
MAX_THREADS = 256


def check_seed(seed: int, flag: str = "--seed") -> int:
    if not 0 <= seed <= MAX_SEED:
        raise SeqganError(f"{flag} must be between 0 and 2**63-1, got {seed}")
    return seed


@dataclass
class TrainConfig:
    preset: str = "independent"  # the preset these values came from (seqgan_core.engine.presets)
    recipe: str = "sequence"  # the GAN recipe that trains (seqgan_core.engine.recipes.RECIPES)
    options: dict = field(default_factory=dict)  # the recipe's options; its Options class checks them
    seed: int = 0  # seeds model init, noise and the real-data sampler
    max_steps: int = 3000  # most training steps in all phases (with --resume: the new total, above the step reached)
    eval_every: int = 50  # check the generator every this many steps
    eval_samples: int = 1000  # sequences sampled per check; 0 = the ones the step just generated
    patience: int = 5  # checks without a significant improvement before a phase (or the run) ends
    min_delta: float | None = None  # smallest improvement of the distance that counts; None = 2 x the check's noise
    distance: str = "quality"  # quality: invalid share + per-position TV to real data | rule: the rule's own
    keep: str = "best"  # which generator is saved: the best checked one, or the final one
    stop_on: str = "distance"  # after maximum likelihood, what ends a phase and picks the best: distance | heldout_nll
    until_valid: bool = True  # never stop early while validity is far below real data's
    choose_temperature: bool = True  # a rule run not learned at T = 1 may save a colder sampler (temperature.py)
    metrics_every: int = 250  # full metrics to metrics.jsonl every this many steps
    checkpoint_every: int = 500  # checkpoint.pt every this many steps
    log_every: int = 200  # a progress line with a decoded sample every this many steps
    device: str = "auto"  # where to train: auto | cpu | cuda | cuda:N
    threads: int = 0  # torch intra-op threads; 0 = chosen from the model's size (seqgan_core.runtime.threads)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        """A saved config (config.json, a checkpoint), checked like a new one."""
        return build(cls, values, "the saved config")

    def check(self) -> None:
        check_seed(self.seed)
        at_least(self, 1, "max_steps", "patience", "eval_every", "log_every", "metrics_every", "checkpoint_every")
        at_least(self, 0, "eval_samples", "threads")
        if self.threads > MAX_THREADS:
            raise SeqganError(f"--threads must be at most {MAX_THREADS}, got {self.threads}")
        if self.min_delta is not None and not 0 <= self.min_delta < float("inf"):
            raise SeqganError(f"--min-delta must be >= 0, got {self.min_delta}")
        if self.distance not in DISTANCES:
            raise SeqganError(f"unknown distance {self.distance!r}; use {' or '.join(DISTANCES)}")
        if self.stop_on not in STOP_SIGNALS:
            raise SeqganError(f"unknown stop_on {self.stop_on!r}; use {' or '.join(STOP_SIGNALS)}")
        if self.keep not in ("best", "final"):
            raise SeqganError(f"keep must be 'best' or 'final', got {self.keep!r}")
        self.recipe_options()  # the recipe checks its own options (and its models theirs)

    def validate(self) -> TrainConfig:
        self.check()
        return self

    def recipe_options(self):
        from seqgan_core.engine.recipes import get_recipe

        return build(get_recipe(self.recipe).Options, self.options, f"the {self.recipe} recipe")

    def with_options(self, **changes) -> TrainConfig:
        """A copy with some recipe options changed (dotted names reach into model options:
        ``generator.layers``)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["options"] = set_options(self.options, changes)
        return TrainConfig(**values)


def set_options(options: dict, changes: dict) -> dict:
    """``options`` with ``changes`` applied; ``generator.x`` / ``discriminator.x`` set options of
    the model families."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in options.items()}
    for part in ("generator", "discriminator"):  # another family starts from its own defaults
        if part in changes and changes[part] != out.get(part):
            out[f"{part}_options"] = {}
    for key, value in sorted(changes.items(), key=lambda kv: "." in kv[0]):
        if "." in key:
            part, name = key.split(".", 1)
            if part not in ("generator", "discriminator"):
                raise SeqganError(f"unknown option {key!r}: dotted options start with generator. or discriminator.")
            out.setdefault(f"{part}_options", {})[name] = value
        else:
            out[key] = value
    return out


# The default recipe's options class: the comments beside its defaults are the help of the recipe
# options `seqgan train` has flags for (--lr, --batch-size...). Read as text: importing the recipe
# imports torch, which `seqgan --help` must not wait for.
RECIPE_OPTIONS_SOURCE = (Path(__file__).parent / "recipes" / "sequence.py", "SequenceOptions")


@dataclass(frozen=True)
class SettingHelp:
    name: str  # a TrainConfig field or an option of the default recipe
    kind: type  # what a command-line value is read as: int, float or str
    help: str  # the comment beside the setting's default in its dataclass
    recipe: bool  # a recipe option (its default comes from the preset), not a run setting
    default: Any = None  # the run setting's dataclass default (None for recipe options)


def setting_help(name: str) -> SettingHelp:
    """Type and help of the run setting or recipe option ``name``, from the one place it is defined."""
    run = {f.name: f for f in fields(TrainConfig)}
    if name in run:
        annotation, comment = fields_in_file(__file__, "TrainConfig")[name]
        default = run[name].default if run[name].default is not MISSING else None
        return SettingHelp(name, plain_type(annotation), comment, False, default)
    path, cls = RECIPE_OPTIONS_SOURCE
    options = fields_in_file(path, cls)
    if name not in options:
        raise SeqganError(f"{name!r} is neither a run setting nor an option of {cls}; "
                          f"run settings: {', '.join(run)}")
    annotation, comment = options[name]
    return SettingHelp(name, plain_type(annotation), comment, True)
