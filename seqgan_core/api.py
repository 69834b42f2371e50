"""The Python API: what ``seqgan train`` does, for a notebook. Both train through ``session.train``.

    from seqgan_core import SeqGAN

    gan = SeqGAN(seed=0).fit("multiples5")            # a rule name, a Rule, or a list of sequences
    print(gan.verdict.line)                             # learned: validity 99.9 % (real data 100.0 %) ...
    gan.sample(3)                                       # [[35, 5, 90, ...], ...] as tokens
    gan.save("runs/m5")                                 # a run folder, like `seqgan train --out`
    again = SeqGAN.load("runs/m5")

``fit`` chooses a preset from the rule exactly as the CLI does (or takes ``preset=``); ``SeqGAN``'s
docstring documents each argument, and any other keyword is a run setting (``eval_every``...) or a
recipe option (``loss``, ``**{"generator.layers": 3}``...); an unknown one is an error.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Sequence
from pathlib import Path

from seqgan_core.advice import as_keywords
from seqgan_core.engine.choice import Choice, choose
from seqgan_core.engine.config import TrainConfig
from seqgan_core.errors import SeqganError
from seqgan_core.engine.presets import preset_config
from seqgan_core.rules.rule import Rule
from seqgan_core.rules.target import Target, data_target, rule_target, sequences_target


def load_target(rule: str | Rule | None = None, data: str | Path | None = None, *, sequences=None,
                chars: bool = False, header: bool = False, seed: int = 0, plugins: Sequence[str] = (), entry_points: bool = True,
                events: dict | None = None, min_count: int | None = None) -> Target:
    """What to learn: a registered rule (by name), a ``Rule``, a data file, or token sequences.
    ``events`` ({"entity", "order", "event", "context"} column names) reads the data file as an event
    log (``seqgan_core.rules.frames``). ``min_count`` (a text data file): training tokens seen fewer
    times are the unknown token ``<unk>`` (None = ``rules.data.MIN_COUNT``; 1 keeps every one)."""
    if min_count is not None and data is None:
        raise SeqganError("--min-count applies to a --data text file; drop it")
    if isinstance(rule, Rule):
        return rule_target(rule)
    if rule is not None:
        from seqgan_core.plugins import registry
        from seqgan_core.plugins.manager import get_plugin_manager, get_rule, load_rules

        pm = get_plugin_manager(plugins, entry_points=entry_points)
        registry.use(pm)  # generators, recipes and presets from the same plugins as the rule
        return rule_target(get_rule(load_rules(pm), rule))
    if data is not None and events:
        from seqgan_core.rules.target import frame_target

        if chars or header or min_count is not None:
            raise SeqganError("an event log (--entity) is a CSV file with a header row; drop --chars, --header "
                              "and --min-count")
        return frame_target(None, seed, path=data, **events)
    if data is not None:
        if min_count is not None and Path(data).suffix.lower() == ".csv":
            raise SeqganError(f"--min-count applies to text files, not to the CSV table {str(data)!r}; drop it")
        return data_target(data, seed=seed, chars=chars, header=header,
                           **({} if min_count is None else {"min_count": min_count}))
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
    from seqgan_core.engine.recipes import get_recipe
    from seqgan_core.models import AutoregressiveGenerator
    from seqgan_core.plugins.registry import GENERATORS

    family = GENERATORS.get(config.options.get("generator", ""))
    if not target.finite or family is None or not issubclass(family, AutoregressiveGenerator):
        return config, {}
    from seqgan_core.engine.presets import finite_data

    train = None if target.dataset is None else len(target.dataset.train)
    run, options = finite_data(train, int(config.options.get("batch_size") or 1))
    declared = {**get_recipe(config.recipe).finite_data, **options,
                **{f"generator.{k}": v for k, v in family.finite_data.items()}}
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
    from seqgan_core.models import AutoregressiveGenerator
    from seqgan_core.plugins.registry import GENERATORS
    from seqgan_core.rules.reference_file import heldout_nll, score_against
    from seqgan_core.evaluation.verdict import judge

    if target.rule.allowed_next is not None:  # the rule's constraint: seqgan's sampler applies it, the file cannot
        from seqgan_core.rules import conditions

        raw = conditions.sample(model, n, None, target.rule.constraint(), seed, temperature, min_p)
    else:
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
                    autoregressive=family is not None and issubclass(family, AutoregressiveGenerator),
                    patience=int(config.get("patience") or 1), data=target.dataset is not None)
    return metrics, verdict


class SeqGAN:
    """Train a sequence GAN on a rule or on sequences, sample from it, save and load it.

    Every argument is optional; None leaves the setting to the preset (chosen from the rule's
    structure, as ``seqgan train`` does, unless ``preset`` names one):

    - ``preset``: the preset to train with (``seqgan_core.engine.presets.PRESETS``: independent,
      autoregressive, pacgan, transformer, article...); None = chosen from the rule.
    - ``generator``: the generator family (``mlp``, ``gru``, ``transformer``, ``marginals``...).
    - ``max_steps``: most training steps, all phases together.
    - ``patience``: checks without a significant improvement before a phase (or the run) ends.
    - ``seed``: seeds model initialisation, noise and the real-data sampler (default 0).
    - ``batch_size``: sequences per step.
    - ``lr``: the generator's learning rate in the adversarial phase.
    - ``device``: where to train: ``"auto"`` (default), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    - ``threads``: torch threads; None = chosen from the model's size and the machine's free cores,
      and followed during the run.
    - ``out``: a folder to keep the run in (like ``seqgan train --out``); None = the run is kept in
      memory and ``save`` writes it, nothing is left on disk.
    - ``fmt``: the saved generator's format: ``"torchscript"`` (default), ``"export"`` or ``"weights"``.
    - ``progress``: print progress lines (or a bar in a terminal) to stderr while training.
    - ``**options``: any other run setting (``eval_every``, ``min_delta``, ``pretrain_steps``...: the
      fields of ``TrainConfig``) or recipe option (``loss``, ``tau``...), and model options by their
      dotted names: ``**{"generator.hidden": 64}``. ``SeqGAN.settings()`` lists them all.

    A verdict's advice names these arguments: ``try max_steps=8000, patience=8``.
    """

    def __init__(self, preset: str | None = None, *, generator: str | None = None, max_steps: int | None = None,
                 patience: int | None = None, seed: int = 0, batch_size: int | None = None, lr: float | None = None,
                 device: str = "auto", threads: int | None = None, out: str | Path | None = None,
                 fmt: str = "torchscript", progress: bool = False, **options):
        _check_names(options)
        self.preset, self.seed, self.fmt, self.out, self.progress = preset, seed, fmt, out, progress
        named = dict(generator=generator, max_steps=max_steps, patience=patience, batch_size=batch_size, lr=lr,
                     device=device, threads=threads)
        self.overrides = {**{k: v for k, v in named.items() if v is not None}, **options}
        self.outcome = None
        self._model = None
        self._files: dict[str, bytes] = {}  # the run folder's files, when the run was kept in memory

    @staticmethod
    def settings() -> list[str]:
        """Every keyword ``SeqGAN`` takes: its named arguments, the run settings and the recipes' options."""
        return sorted(set(_NAMED) | _setting_names())

    def fit(self, target, out: str | Path | None = None, progress: bool | None = None, *, entity: str | None = None,
            order: str | None = None, event: str | None = None, context: Sequence[str] = ()) -> SeqGAN:
        """Train on ``target``: a rule name, a ``Rule``, a list of token sequences (lists), or a
        pandas DataFrame — wide (a row a sequence, a column a position with its own values) or,
        with ``entity``, ``order`` and ``event`` column names, long (an event log: an entity's
        events in order make its sequence, of any length; ``context`` columns hold one value per
        entity and come first). ``sample`` then returns a DataFrame of the same form.

        ``out`` (default: the constructor's): the run folder to train into; None keeps the run in
        memory (``save`` writes it). ``progress`` (default: the constructor's): print progress."""
        from seqgan_core.rules.frames import is_frame
        from seqgan_core.session import train

        if isinstance(target, (str, Rule)):
            tgt = load_target(target)
        elif is_frame(target):
            from seqgan_core.rules.target import frame_target

            tgt = frame_target(target, self.seed, entity, order, event, tuple(context))
        else:
            if entity is not None:
                raise SeqganError("entity=, order=, event= and context= apply to a pandas DataFrame only")
            tgt = load_target(sequences=target, seed=self.seed)
        config, choice = plan(tgt, self.preset, seed=self.seed, **self.overrides)
        out = self.out if out is None else out
        progress = self.progress if progress is None else progress
        say = _stderr if progress else None
        if out is not None:
            self.outcome = train(tgt, config, Path(out), fmt=self.fmt, choice=choice.reason, progress=progress,
                                 say=say, render=as_keywords)
            self._files, self._model = {}, None
        else:
            with tempfile.TemporaryDirectory(prefix="seqgan-") as folder:
                self.outcome = train(tgt, config, Path(folder), fmt=self.fmt, choice=choice.reason,
                                     progress=progress, say=say, render=as_keywords)
                self._model = self._load(self.outcome.model)
                self._files = {p.name: p.read_bytes() for p in Path(folder).iterdir() if p.is_file()}
        self.choice, self.target = choice, tgt
        return self

    @property
    def verdict(self):
        """The verdict on the run; its advice names ``SeqGAN``'s keyword arguments."""
        self._need_fit()
        return self.outcome.verdict.for_python()

    @property
    def metrics(self) -> dict:
        self._need_fit()
        return self.outcome.metrics

    @property
    def model(self):
        if self._model is None:
            self._need_fit()
            self._model = self._load(self.outcome.model)
        return self._model

    @staticmethod
    def _load(path: Path):
        from seqgan_core.io.export import load_model

        return load_model(path)

    def sample(self, n: int = 10, seed: int | None = None, temperature: float | None = None,
               min_p: float | None = None, where: dict | None = None) -> list[list]:
        """``n`` sequences as lists of tokens (end tokens stripped), or a DataFrame of the form
        ``fit`` was given one in; ``temperature`` and ``min_p`` None = how the run saved the model
        to sample.

        ``where`` ({column: value}, a CSV header's names or positions "1".."L") keeps only sequences
        holding those values: exact by construction when the fixed columns are the first ones of an
        autoregressive model (the prefix is set, the rest drawn given it), else exact by bounded
        rejection (at most ``conditions.REJECTION_BUDGET`` x n rows drawn; a rarer condition raises
        one ``ConditionError`` line). A rule's ``allowed_next`` is applied here, by seqgan's
        sampler, never by the bare exported file (``seqgan_core.rules.conditions``)."""
        from seqgan_core.rules import conditions

        model = self.model
        constraint = self._constraint()
        if not where and constraint is None:
            rows = model.sample_tokens(n, seed=seed, temperature=temperature, min_p=min_p)
        else:
            seqs = conditions.sample(model, n, where, constraint, seed, temperature, min_p)
            rows = [model.strip(row) for row in model.vocabulary.decode(seqs)]
        record = model.meta.get("target") or {}
        if record.get("kind") == "frame":  # fitted on a DataFrame: samples in its form
            from seqgan_core.rules.frames import FrameLayout, to_frame

            layout = FrameLayout(**record["layout"])
            return to_frame(layout.to_rows(rows), layout)
        return rows

    def _constraint(self):
        """The rule's ``allowed_next`` for sampling: from the fitted target, else (a loaded run) from
        the installed plugin that the model's metadata names."""
        record = self.model.meta.get("target") or {}
        if not record.get("allowed_next"):
            return None
        target = getattr(self, "target", None)
        if target is None:
            from seqgan_core.rules.target import target_from_record
            from seqgan_core.plugins.manager import get_plugin_manager, load_rules

            target = target_from_record(record, lambda: load_rules(get_plugin_manager()))
        return target.rule.constraint()

    def save(self, path: str | Path) -> Path:
        """Write the run folder to ``path`` (which must not hold a run): the files kept in memory,
        or a copy of the folder the run trained in."""
        import shutil

        from seqgan_core.runtime.atomic import write_bytes

        self._need_fit()
        dest = Path(path)
        if self._files:
            if dest.exists() and any(dest.iterdir()):
                raise SeqganError(f"{str(dest)!r} is not empty; save into a new folder")
            dest.mkdir(parents=True, exist_ok=True)
            for name, data in self._files.items():
                write_bytes(dest / name, data)
        elif dest.resolve() != self.outcome.out.resolve():
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



_NAMED = ("preset", "generator", "max_steps", "patience", "seed", "batch_size", "lr", "device", "threads", "out",
          "fmt", "progress")


def _setting_names() -> set[str]:
    """Run settings (``TrainConfig`` fields a user may give) and every recipe's options."""
    from dataclasses import fields

    from seqgan_core.engine.presets import RUN_FIELDS
    from seqgan_core.engine.recipes import RECIPES

    recipes = [RECIPES[name] for name in RECIPES if name not in RECIPES.ambiguous()]  # a clash is not asked for here
    return set(RUN_FIELDS) | {f.name for recipe in recipes for f in fields(recipe.Options)}


def _check_names(options: dict) -> None:
    """One line naming the first keyword ``SeqGAN`` does not know, and the ones it does."""
    known = _setting_names()
    for name in options:
        part, dot, _ = name.partition(".")
        if dot and part in ("generator", "discriminator"):
            continue  # a model family's option, checked by the family when fit builds the config
        if name not in known:
            raise SeqganError(f"SeqGAN() got an unknown argument {name!r}; valid: {', '.join(SeqGAN.settings())}, "
                              "or generator.X / discriminator.X for a model family's options")


def _stderr(line: str) -> None:
    import sys

    print(line, file=sys.stderr, flush=True)
