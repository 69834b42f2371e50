"""The Python API: what ``seqgan train`` does, for a notebook. The CLI is a thin client of it.

    from seqgan_core import SeqGAN

    gan = SeqGAN(seed=0).fit("multiples5")            # a rule name, a Rule, or a list of sequences
    print(gan.verdict.line)                             # learned: validity 99.9 % (real data 100.0 %) ...
    gan.sample(3)                                       # [[35, 5, 90, ...], ...] as tokens
    gan.save("runs/m5")                                 # a run folder, like `seqgan train --out`
    again = SeqGAN.load("runs/m5")

``fit`` chooses a preset from the rule exactly as the CLI does (or takes ``preset=``); any other
keyword is a run setting (``max_steps``, ``patience``...) or a recipe option (``lr``,
``batch_size``, ``generator.layers``...).
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Sequence
from pathlib import Path

from seqgan_core.engine.choice import Choice, choose
from seqgan_core.engine.config import TrainConfig
from seqgan_core.errors import SeqganError
from seqgan_core.engine.presets import preset_config
from seqgan_core.rules.rule import Rule
from seqgan_core.rules.target import Target, data_target, rule_target, sequences_target


def load_target(rule: str | Rule | None = None, data: str | Path | None = None, *, sequences=None,
                chars: bool = False, header: bool = False, seed: int = 0, plugins: Sequence[str] = (), entry_points: bool = True) -> Target:
    """What to learn: a registered rule (by name), a ``Rule``, a data file, or token sequences."""
    if isinstance(rule, Rule):
        return rule_target(rule)
    if rule is not None:
        from seqgan_core.plugins.manager import get_plugin_manager, get_rule, load_rules

        return rule_target(get_rule(load_rules(get_plugin_manager(plugins, entry_points=entry_points)), rule))
    if data is not None:
        return data_target(data, seed=seed, chars=chars, header=header)
    if sequences is not None:
        return sequences_target(sequences, seed=seed)
    raise SeqganError("nothing to learn: give a rule, a data file or sequences")


def plan(target: Target, preset: str | None = None, **overrides) -> tuple[TrainConfig, Choice]:
    """The config a run trains with, and why: ``preset`` if given, else the choice the rule's own
    structure makes (``seqgan_core.engine.choice``), with the rule's recommended settings under
    ``overrides``."""
    given = {k: v for k, v in overrides.items() if v is not None}
    target.rule.probe()  # a broken plugin is named before anything else touches it
    if preset:
        config, changed = _for_data(target, preset_config(preset, **given), given)
        return config, _with(Choice(preset, "chosen with --preset"), changed)
    choice = choose(target.rule, data_file=target.dataset is not None)
    recommended = {k: v for k, v in (target.rule.recommend or {}).items() if k != "preset"}
    settings = {**recommended, **given}
    config, changed = _for_data(target, preset_config(choice.preset, **settings), settings)
    return config, _with(choice, changed)


def _with(choice: Choice, changed: dict) -> Choice:
    """``choice`` whose one-line reason also names what finite data changed (and how to undo it)."""
    if not changed:
        return choice
    values = ", ".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in changed.items())
    return dataclasses.replace(choice, reason=f"{choice.reason}; for finite data {values}, each a --set away")


def _option(config: TrainConfig, key: str):
    """The value ``config`` gives option ``key`` (``generator.x`` inside the family's options), or
    None where it leaves the option at its class default."""
    part, _, name = key.rpartition(".")
    return (config.options.get(f"{part}_options") or {}).get(name) if part else config.options.get(key)


DATA_RUN = {"stop_on": "heldout_nll", "until_valid": False}  # what a data run changes, unless given


def _for_data(target: Target, config: TrainConfig, given: dict) -> tuple[TrainConfig, dict]:
    """A run on finite data with a likelihood model stops on held-out NLL and keeps the generator
    best on it: it ends when it stops generalising, not after a fixed schedule. Validity does not
    hold it back: held-out data itself is not fully valid (``seqgan_core.rules.data``).

    Finite data is what a target with held-out sequences of its own has (``Rule.heldout``): a data
    file, and a rule whose sampler draws from a fixed training set while ``heldout`` draws fresh
    sequences (the SeqGAN oracle's 9 984). A rule that samples fresh sequences every step has
    no ``heldout``, cannot be memorised, and stops on its distance.

    The recipe and the generator family may also declare options of their own for finite data
    (``finite_data``: the sequence recipe's maximum likelihood alone, the GRU's dropout); each
    applies unless ``given`` sets it. Returns the config and what finite data changed in it."""
    from seqgan_core.models import GENERATORS
    from seqgan_core.engine.recipes import get_recipe

    family = GENERATORS.get(config.options.get("generator", ""))
    if not target.finite or not getattr(family, "autoregressive", False):
        return config, {}
    from seqgan_core.engine.presets import finite_data

    train = None if target.dataset is None else len(target.dataset.train)
    run, options = finite_data(train, int(config.options.get("batch_size") or 1))
    declared = {**getattr(get_recipe(config.recipe), "finite_data", {}), **options,
                **{f"generator.{k}": v for k, v in getattr(family, "finite_data", {}).items()}}
    own = {k: v for k, v in declared.items() if k not in given and _option(config, k) != v}
    if own:
        config = config.with_options(**own)
    for key, value in {**DATA_RUN, **run}.items():
        if key not in given and getattr(config, key) != value:
            setattr(config, key, value)
            if key in run:
                own[key] = value
    return config.validate(), own


def evaluate_model(model, target: Target, n: int, seed: int | None = 0, temperature: float | None = None,
                   reference_file: str | Path | None = None, chars: bool = False, min_p: float | None = None):
    """Metrics of ``n`` sequences from a saved ``model`` (``export.load_model``) against its
    target, and the verdict on them (with the run's own step count and stop reason).

    An autoregressive model also gets ``heldout_nll``, its NLL of held-out real data (NLL_test on
    the oracle); ``reference_file`` adds BLEU, Self-BLEU and NLL_gen against that file
    (``reference_file.score_against``) under ``metrics["reference"]``."""
    from seqgan_core.evaluation.metrics import evaluate, reference
    from seqgan_core.models import GENERATORS
    from seqgan_core.rules.reference_file import heldout_nll, score_against
    from seqgan_core.evaluation.verdict import judge

    raw = model.sample(n, seed=seed, temperature=temperature, min_p=min_p)
    seqs = target.rule.canonical(raw)
    metrics = evaluate(seqs, reference(target.rule))
    metrics["temperature"] = model.temperature if temperature is None else temperature
    metrics["min_p"] = model.min_p if min_p is None else min_p
    metrics.update(heldout_nll(model, target, temperature=temperature))  # before any min-p cut
    extra = target.extra_metrics(seqs)
    if extra:
        metrics["rule_metrics"] = extra
    metrics.update(model.meta.get("measured") or {})  # held-out NLL, measured when the run saved the model
    if reference_file is not None:
        samples = [model.strip(row) for row in model.vocabulary.decode(raw)]
        metrics["reference"] = score_against(model, samples, reference_file, chars=chars,
                                             temperature=temperature)
    config = model.meta.get("config") or {}
    options = config.get("options") or {}
    family = GENERATORS.get(options.get("generator", ""))
    verdict = judge(metrics, steps=int(model.meta.get("steps") or 0), max_steps=int(config.get("max_steps") or 0),
                    stop_reason=model.meta.get("stop_reason", "max_steps"),
                    autoregressive=bool(getattr(family, "autoregressive", False)),
                    patience=int(config.get("patience") or 1), data=target.dataset is not None)
    return metrics, verdict


class SeqGAN:
    """Train a sequence GAN on a rule or on sequences, sample from it, save and load it."""

    def __init__(self, preset: str | None = None, *, seed: int = 0, fmt: str = "torchscript", **overrides):
        self.preset, self.seed, self.fmt, self.overrides = preset, seed, fmt, overrides
        self.outcome = None
        self._model = None

    def fit(self, target: str | Rule | list, out: str | Path | None = None, progress: bool = False) -> SeqGAN:
        """Train on ``target``: a rule name, a ``Rule``, or a list of token sequences (lists).

        The run folder is ``out`` (default: a temporary folder; ``save`` copies it)."""
        from seqgan_core.engine.progress import ProgressReporter
        from seqgan_core.io.run import train_run
        from seqgan_core.runtime.threads import configure_threads, governor_for

        if isinstance(target, (str, Rule)):
            tgt = load_target(target)
        else:
            tgt = load_target(sequences=target, seed=self.seed)
        config, choice = plan(tgt, self.preset, seed=self.seed, **self.overrides)
        folder = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="seqgan-"))
        restore = configure_threads(config, tgt.rule)
        reporter = ProgressReporter(tgt.rule, config) if progress else None
        governor = governor_for(config, tgt.rule, say=reporter.write if reporter else None)
        callbacks = [c for c in (reporter, governor) if c is not None]
        try:
            self.outcome = train_run(tgt, config, folder, self.fmt, callbacks=callbacks, choice=choice.reason)
        finally:
            restore()
        self.choice, self.target = choice, tgt
        self._model = None
        return self

    @property
    def verdict(self):
        self._need_fit()
        return self.outcome.verdict

    @property
    def metrics(self) -> dict:
        self._need_fit()
        return self.outcome.metrics

    @property
    def model(self):
        from seqgan_core.io.export import load_model

        if self._model is None:
            self._need_fit()
            self._model = load_model(self.outcome.model)
        return self._model

    def sample(self, n: int = 10, seed: int | None = None, temperature: float | None = None,
               min_p: float | None = None) -> list[list]:
        """``n`` sequences as lists of tokens (end tokens stripped); ``temperature`` and ``min_p``
        None = how the run saved the model to sample."""
        return self.model.sample_tokens(n, seed=seed, temperature=temperature, min_p=min_p)

    def save(self, path: str | Path) -> Path:
        """Copy the run folder to ``path`` (which must not hold a run)."""
        import shutil

        self._need_fit()
        dest = Path(path)
        if dest.resolve() != self.outcome.out.resolve():
            if dest.exists() and any(dest.iterdir()):
                raise SeqganError(f"{str(dest)!r} is not empty; save into a new folder")
            shutil.copytree(self.outcome.out, dest, dirs_exist_ok=True)
        return dest

    @classmethod
    def load(cls, path: str | Path) -> SeqGAN:
        """A saved run folder (or model file), ready to ``sample``."""
        from seqgan_core.io.export import load_model
        from seqgan_core.io.run import model_path

        gan = cls()
        gan._model = load_model(model_path(path))
        return gan

    def _need_fit(self) -> None:
        if self.outcome is None:
            raise SeqganError("this SeqGAN has not been trained: call fit() first")

    def __repr__(self) -> str:
        if self.outcome is None:
            return f"SeqGAN(preset={self.preset!r}, seed={self.seed})"
        return f"SeqGAN({self.outcome.result.config.preset!r} on {self.target.rule.name!r}: {self.verdict.line})"

