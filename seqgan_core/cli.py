"""The ``seqgan`` command line: rules, plugins, train, sample, evaluate, plot.

Every mistake a user can make ends in one line on stderr, ``seqgan: error: ...``, and exit 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

from seqgan_core._version import __version__
from seqgan_core.advice import FLAG_SETTINGS, as_flags
from seqgan_core.errors import EXIT_FAILED, EXIT_LOST, LostPeers, SeqganError

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

EXIT_NOT_LEARNED = 3  # training finished and the model is saved, but the verdict is "not learned"

# `seqgan train` flags: a run setting (TrainConfig field) or a recipe option of the same name; their
# help is the comment beside each default in its dataclass (engine.config.setting_help)
TRAIN_OPTIONS = FLAG_SETTINGS


def train_flag_help(name: str) -> tuple[type, str]:
    """(type, help) of the `seqgan train` flag for the setting ``name``, from its dataclass."""
    from seqgan_core.engine.config import setting_help

    setting = setting_help(name)
    if setting.recipe:
        where = "recipe option; default: from the preset"
    elif name in _preset_settings():
        where = "default: from the preset"
    else:
        where = f"default {setting.default}"
    return setting.kind, f"{setting.help} ({where})".replace("%", "%%")


def _preset_settings() -> set[str]:
    # the built-in presets only: reading the registry would load every plugin (and torch) for --help
    from seqgan_core.engine.presets import BUILTIN_PRESETS

    return {name for preset in BUILTIN_PRESETS for name in preset.run}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line that points at --help."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("-p", dest="plugins", action="append", default=[], metavar="MODULE",
                        help="also load this plugin module by import path (repeatable)")
    common.add_argument("--no-plugins", action="store_true",
                        help="load no installed plugins: only built-in rules and -p modules")
    parser = _Parser(
        prog="seqgan",
        description="Train GANs that generate sequences of discrete tokens following a rule.",
        epilog=_examples("seqgan rules", "seqgan train --rule multiples5",
                         "seqgan sample runs/multiples5 -n 5"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"seqgan {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def command(name, help, examples):
        return sub.add_parser(name, help=help, description=help, parents=[common],
                              epilog=_examples(*examples),
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    command("rules", "list the rules that can be trained", ["seqgan rules", "seqgan rules -p my_rules"])
    command("plugins", "print the loaded plugins as JSON", ["seqgan plugins"])

    t = command("train", "train a generator for a rule or a data file, and save it",
                ["seqgan train --rule multiples5",
                 "seqgan train --rule multiples5 --preset article --seed 1 --out runs/m5-seed1",
                 "seqgan train --data names.txt --chars",
                 "seqgan train --resume runs/multiples5"])
    what = t.add_mutually_exclusive_group(required=True)
    what.add_argument("--rule", help="rule name (see `seqgan rules`)")
    what.add_argument("--data", metavar="FILE", help="learn from a file: one sequence per line, or .csv")
    what.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run from its checkpoint")
    t.add_argument("--resume-data", metavar="FILE", help="with --resume: the run's data file, if it moved")
    t.add_argument("--chars", action="store_true", help="with --data: every character is a token")
    t.add_argument("--min-count", type=int, metavar="N", default=None,
                   help="with a --data text file: tokens seen fewer than N times in the training part are the "
                   "unknown token <unk>, which the model learns and never samples, and which scores a reference's "
                   "unseen words (default 2; 1 keeps every training token)")
    t.add_argument("--header", action="store_true",
                   help="with a --data CSV file: the first row names the columns (shown by sample --json)")
    t.add_argument("--entity", metavar="COLUMN", help="with a --data CSV event log (header row): the column naming "
                   "whose event a row is; an entity's events, in --order, make one sequence")
    t.add_argument("--order", metavar="COLUMN", help="with --entity: the column that orders an entity's events")
    t.add_argument("--event", metavar="COLUMN", help="with --entity: the column holding the event (the token)")
    t.add_argument("--context", metavar="COL,COL", help="with --entity: columns with one value per entity "
                   "(plan, country), learned as the sequence's first positions (sample --where plan=pro)")
    from seqgan_core.engine.presets import BUILTIN_PRESETS  # plugins' presets: `seqgan plugins` (no loading here)

    presets = "; ".join(f"{p.name}: {p.summary}" for p in BUILTIN_PRESETS)
    t.add_argument("--preset", default=None,
                   help=f"training preset (default: chosen from the rule's structure). {presets}")
    for name in TRAIN_OPTIONS:
        kind, help = train_flag_help(name)
        t.add_argument("--" + name.replace("_", "-"), type=kind, default=None, help=help)
    t.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                   help="any run setting or recipe option, e.g. --set eval_every=25 --set generator.layers=3")
    t.add_argument("--out", default=None, help="run folder (default runs/<rule>/)")
    t.add_argument("--format", default=None, choices=["torchscript", "export", "weights"],
                   help="torchscript (generator.pt, default), torch.export (generator.pt2), or weights "
                        "(generator.weights.pt: data only, loads without running code from the file; to share)")
    t.add_argument("--nproc", type=int, default=None, metavar="N",
                   help="data-parallel training in N processes on this machine (starts torchrun; "
                        "--batch-size is per process). Several machines: see README")

    s = command("sample", "sample sequences from a saved generator",
                ["seqgan sample runs/multiples5", "seqgan sample downloaded/generator.pt --trust",
                 "seqgan sample runs/multiples5 -n 100 --seed 3 --json"])
    s.add_argument("model", help="a run folder written by `seqgan train` (its weights-only generator is loaded), "
                                 "or a model file")
    s.add_argument("--trust", action="store_true",
                   help="allow a TorchScript (.pt) or torch.export (.pt2) file given by path: loading one runs "
                        "code its author wrote; a run folder or a .weights.pt file needs no trust")
    s.add_argument("-n", type=int, default=10, help="how many sequences (default 10)")
    s.add_argument("--seed", type=int, default=None, help="random seed for reproducible samples")
    s.add_argument("--json", action="store_true",
                   help="print one JSON array of arrays (of objects keyed by column for a CSV read with --header; "
                        "for an event log, one object an event: entity, order, event and context columns)")
    s.add_argument("--temperature", type=float, default=None,
                   help="sampling temperature: 1 = as trained, below 1 safer, above 1 more varied "
                        "(default: the one the run chose, usually 1)")
    s.add_argument("--min-p", type=float, default=None, dest="min_p",
                   help="never draw a token below MIN_P x the most likely one's probability; 0 = every token, "
                        "as trained (default: the one the run chose, usually 0)")
    s.add_argument("--where", action="append", default=[], metavar="COLUMN=VALUE",
                   help="only sequences whose COLUMN (a CSV header's name, or a position 1..L) holds VALUE; "
                        "repeatable. The first columns are sampled exactly given the value, later ones by "
                        "bounded rejection")

    e = command("evaluate", "measure a saved generator against its rule or data",
                ["seqgan evaluate runs/multiples5", "seqgan evaluate runs/multiples5 -n 10000 --json",
                 "seqgan evaluate runs/oracle --sweep", "seqgan evaluate runs/mine --sweep --oracle seqgan-oracle"])
    e.add_argument("model", help="run folder (its weights-only generator is loaded) or model file")
    e.add_argument("--trust", action="store_true",
                   help="allow a TorchScript or torch.export file given by path (loading it runs its code)")
    e.add_argument("--force", action="store_true",
                   help="score against the data file even when it changed since training (a warning, not an error)")
    e.add_argument("-n", type=int, default=10_000, help="sequences to sample (default 10000)")
    e.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    e.add_argument("--json", action="store_true", help="print the metrics as JSON")
    e.add_argument("--data", metavar="FILE", help="the data file, if it moved since training")
    e.add_argument("--reference", metavar="FILE",
                   help="also score against FILE (one sequence per line): BLEU-2..5, Self-BLEU-4/5, NLL_gen")
    e.add_argument("--temperature", type=float, default=None,
                   help="sampling temperature (default: the one the run chose, usually 1 = as trained)")
    e.add_argument("--min-p", type=float, default=None, dest="min_p",
                   help="min-p of the draws, 0 = every token (default: the one the run chose, usually 0)")
    e.add_argument("--sweep", action="store_true",
                   help="the frontier: quality against diversity at every temperature of --temperatures "
                        "(NLL_oracle against NLL_test where there is an oracle, else validity / token TV "
                        "against distinct share)")
    e.add_argument("--temperatures", default=None, metavar="T,T,...",
                   help="with --sweep: the temperatures (default 1.0,0.9,0.8,0.7,0.6)")
    e.add_argument("--oracle", metavar="RULE", default=None,
                   help="with --sweep: score a data run against this rule's oracle (its data were that "
                        "oracle's samples), e.g. seqgan-oracle")

    d = command("drs", "correct a finished run's generator by discriminator rejection sampling: writes RUN/drs.pt",
                ["seqgan drs runs/multiples5", "seqgan drs runs/multiples5 --k 4 --steps 200",
                 "seqgan sample runs/multiples5/drs.pt --trust"])
    d.add_argument("run", help="run folder written by `seqgan train` (its final checkpoint is read)")
    d.add_argument("--k", type=int, default=8, help="candidates drawn per kept sequence (default 8; 1 = G itself)")
    d.add_argument("--steps", type=int, default=500,
                   help="steps the discriminator trains against the final generator (default 500)")
    d.add_argument("--seed", type=int, default=0, help="seed of the discriminator's training (default 0)")
    d.add_argument("--data", metavar="FILE", help="the data file, if it moved since training")

    pl = command("plot", "write PNGs of a run's curves and token histogram (needs matplotlib)",
                 ["seqgan plot runs/multiples5", "seqgan plot runs/multiples5 --out pictures/"])
    pl.add_argument("run", help="run folder written by `seqgan train`")
    pl.add_argument("--out", default=None, help="folder for the PNGs (default: the run folder)")
    pl.add_argument("-n", type=int, default=10_000, help="sequences sampled for the histogram")
    pl.add_argument("--data", metavar="FILE", help="the data file, if it moved since training")
    pl.add_argument("--trust", action="store_true",
                    help="allow a run folder without generator.weights.pt (an older run): its TorchScript or "
                         "torch.export generator runs code when it loads")
    return parser


def _load_rules(args):
    from seqgan_core.plugins import registry
    from seqgan_core.plugins.manager import get_plugin_manager, load_rules

    pm = get_plugin_manager(args.plugins, entry_points=not args.no_plugins)
    registry.use(pm)  # generators, recipes and presets come from the same plugins as the rules
    return pm, load_rules(pm)


MAX_SAMPLES = 10_000_000  # `sample -n`: enough for any honest use, small enough to fit in memory
MAX_EVAL_SAMPLES = 1_000_000  # `evaluate -n` / `plot -n`: metrics hold every sequence at once
MAX_EVAL_TOKENS = 1 << 26  # ... so -n x length is bounded too: 64 Mi tokens, 512 MiB of indices


def _fits(n: int, length: int, flag: str = "-n") -> None:
    if n * length > MAX_EVAL_TOKENS:
        raise SeqganError(f"{flag} {n:,} sequences of {length} tokens would hold {n * length:,} tokens in memory; "
                          f"give {flag} {max(1, MAX_EVAL_TOKENS // length):,} or fewer")


def _positive(value: int, flag: str, most: int) -> int:
    if not 1 <= value <= most:
        raise SeqganError(f"{flag} must be between 1 and {most:,}, got {value}")
    return value


def _seed(value: int | None) -> int | None:
    from seqgan_core.engine.config import check_seed

    return value if value is None else check_seed(value)


def _temperature(value: float | None) -> float | None:
    import math

    if value is not None and not (math.isfinite(value) and value > 0):
        raise SeqganError(f"--temperature must be a positive number, got {value}")
    return value


def _min_p(value: float | None) -> float | None:
    import math

    if value is not None and not (math.isfinite(value) and 0 <= value < 1):
        raise SeqganError(f"--min-p must be at least 0 and below 1 (0 = every token), got {value}")
    return value


def cmd_rules(args) -> int:
    _, rules = _load_rules(args)
    listed = rules.all_rules() if hasattr(rules, "all_rules") else rules.values()  # both of a name clash
    rows = [(r.name, r.plugin, r.description) for r in listed]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for name, plugin, description in rows:
        print(f"{name:<{widths[0]}}  {plugin:<{widths[1]}}  {description}")
    return 0


def cmd_plugins(args) -> int:
    from seqgan_core.plugins.manager import describe_plugins

    pm, _ = _load_rules(args)
    print(json.dumps(describe_plugins(pm), indent=2))
    return 0


def _overrides(args) -> dict:
    """Flags and --set KEY=VALUE pairs, as settings for ``presets.preset_config``."""
    given = {name: getattr(args, name) for name in TRAIN_OPTIONS if getattr(args, name) is not None}
    for item in args.settings:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SeqganError(f"--set takes KEY=VALUE, got {item!r}")
        given[key.strip().replace("-", "_")] = value.strip()
    return given


def _new_run(args):
    """(target, config, out, format, choice) for a fresh `train`."""
    from seqgan_core.api import load_target, plan
    from seqgan_core.io.run import refuse_existing_run

    if args.chars and not args.data:
        raise SeqganError("--chars only applies to --data")
    if args.header and not args.data:
        raise SeqganError("--header only applies to --data with a CSV file")
    if args.min_count is not None and not args.data:
        raise SeqganError("--min-count only applies to --data with a text file")
    overrides = _overrides(args)
    seed = int(overrides.get("seed", 0))
    events = {"entity": args.entity, "order": args.order, "event": args.event,
              "context": [c.strip() for c in (args.context or "").split(",") if c.strip()]}
    if (args.order or args.event or args.context) and not args.entity:
        raise SeqganError("--order, --event and --context describe an event log: give --entity too")
    if args.entity and not args.data:
        raise SeqganError("--entity reads an event log: give it with --data FILE.csv")
    if args.data:
        target = load_target(data=args.data, seed=seed, chars=args.chars, header=args.header,
                             events=events if args.entity else None, min_count=args.min_count)
    else:
        target = load_target(args.rule, plugins=args.plugins, entry_points=not args.no_plugins)
    config, choice = plan(target, args.preset, **overrides)
    out = Path(args.out) if args.out else Path("runs") / target.rule.name
    if out.is_dir():
        refuse_existing_run(out)  # asked again under the run's lock, in train_run
    return target, config, out, args.format or "torchscript", choice.reason


RESUME_OPTIONS = ("max_steps", "device", "checkpoint_every", "threads")  # may differ from the interrupted run


def _check_writable(out: Path) -> None:
    """Fail before training, not after it, when the run folder cannot be written."""
    import tempfile

    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as e:
        raise SeqganError(f"cannot write the run folder {str(out)!r}: {e.strerror}") from None


def _resumed_run(args):
    """(target, config, out, checkpoint, format, choice) for `train --resume RUN_DIR`."""
    from seqgan_core.engine.config import TrainConfig
    from seqgan_core.io.run import check_identity, load_checkpoint
    from seqgan_core.rules.target import target_from_record

    given = [f"--{n.replace('_', '-')}" for n in TRAIN_OPTIONS
             if getattr(args, n) is not None and n not in RESUME_OPTIONS]
    given += [flag for flag, value in (("--preset", args.preset), ("--out", args.out), ("--chars", args.chars),
                                       ("--header", args.header), ("--min-count", args.min_count),
                                       ("--format", args.format), ("--set", args.settings)) if value]
    if given:
        raise SeqganError(f"--resume continues a run with its saved settings; drop {', '.join(given)}")
    out = Path(args.resume)
    state = load_checkpoint(out)
    saved = dict(state["config"])
    for name in RESUME_OPTIONS:  # the few settings a resumed run may change
        if getattr(args, name) is not None:
            saved[name] = getattr(args, name)
    config = TrainConfig.from_dict(saved).validate()
    if config.max_steps <= int(state["step"]) and not state.get("pending"):
        raise SeqganError(
            f"--max-steps is the total number of steps; the run in {str(out)!r} is at step {state['step']}, "
            f"so give more than {state['step']} (or leave it out to keep {state['config']['max_steps']})"
        )
    target = target_from_record(state["target"], lambda: _load_rules(args)[1], data=args.resume_data,
                                data_flag="--resume-data FILE")
    if target.dataset is not None and state["target"].get("vocab_size") != len(target.rule.vocab):
        raise SeqganError(f"{target.record['path']} changed since the run started (its tokens differ); "
                          "pass the original file with --resume-data FILE")
    check_identity(state, target, out)
    return target, config, out, state, state.get("format", "torchscript"), state.get("choice", "")


def _without_nproc(argv: list[str]) -> list[str]:
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            out.append(arg)
    return out


def _check_parallel(config, state, nproc: int) -> None:
    """What data-parallel training refuses, checked before any process starts."""
    from seqgan_core.engine.recipes import get_recipe

    if not get_recipe(config.recipe).data_parallel:
        raise SeqganError(f"the {config.recipe} recipe (preset {config.preset!r}) trains in one process only; "
                          "drop --nproc / torchrun")
    if state is not None:
        saved = int(state.get("world_size", 1))
        if saved != nproc:
            how = "without --nproc or torchrun" if saved == 1 else f"with --nproc {saved}"
            raise SeqganError(f"this checkpoint was written by {saved} process(es), not {nproc}; resume it {how} "
                              "(each process has its own random streams)")


def cmd_train(args) -> int:
    from seqgan_core.runtime import distributed
    from seqgan_core.runtime.device import resolve_device

    if args.resume_data and not args.resume:
        raise SeqganError("--resume-data only applies to --resume")
    if args.nproc is not None and args.nproc < 1:
        raise SeqganError(f"--nproc must be at least 1, got {args.nproc}")
    if args.nproc is not None and distributed.launched():
        raise SeqganError("--nproc starts torchrun itself; under torchrun, drop --nproc")
    if args.resume:
        target, config, out, state, fmt, choice = _resumed_run(args)
    else:
        (target, config, out, fmt, choice), state = _new_run(args), None
    if out.exists() and not out.is_dir():
        raise SeqganError(f"--out {str(out)!r} exists and is not a directory")
    nproc = args.nproc or int(os.environ.get("WORLD_SIZE", "1"))
    if nproc > 1 or (state is not None and int(state.get("world_size", 1)) > 1):
        _check_parallel(config, state, nproc)
    if nproc > 1:
        distributed.rank_device(config.device, (args.nproc or int(os.environ.get("LOCAL_WORLD_SIZE", "1"))) - 1)
    else:
        resolve_device(config.device)  # every check that can fail runs before the run folder exists
    target.rule.probe()
    _check_writable(out)
    if args.nproc is not None and args.nproc > 1:
        return distributed.launch(args.nproc, _without_nproc(args.argv))
    ddp = distributed.setup(config.device)
    try:
        code = _train(target, config, out, state, fmt, choice, ddp)
    except BaseException:
        distributed.teardown(graceful=False)  # a group that lost a peer may never finish a clean shutdown
        raise
    distributed.teardown()
    return code


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _train(target, config, out, state, fmt, choice, ddp) -> int:
    from seqgan_core.session import DIVERGED_ADVICE, train

    writer = ddp is None or ddp.writer
    outcome = train(target, config, out, fmt=fmt, state=state, choice=choice, say=_say, ddp=ddp,
                    stop_on_signals=True)
    result = outcome.result
    if not writer:
        return 0  # rank 0 reports, and its exit status is the run's
    # the check's size says how much a best distance is worth (article: 1 sequence, so 0 is luck)
    checked = config.eval_samples or getattr(config.recipe_options(), "batch_size", 1)
    where = f"best distance {result.best_distance:.4f} at step {result.best_step} (checks of {checked:,} sequence{'s' * (checked != 1)})"
    if result.best_nll is not None:  # a data run keeps the generator with the best held-out NLL
        where = f"best held-out NLL {result.best_nll:.4f} at step {result.best_step}"
    if result.best_step < 0:
        where = "no check yet"
    nproc = f" --nproc {ddp.world_size}" if ddp is not None else ""
    if result.stop_reason == "interrupted":
        print(f"seqgan: interrupted at step {result.steps}; saved the best generator so far ({where}) to "
              f"{outcome.model} and a checkpoint; continue with: seqgan train --resume {out}{nproc}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if result.stop_reason == "diverged":
        hint = ("fix the rule's distance" if "returned distance" in result.message
                else f"try {as_flags(DIVERGED_ADVICE)}")
        print(f"seqgan: error: training diverged: {result.message}; kept the best generator so far ({where}) "
              f"in {outcome.model}; {hint}", file=sys.stderr)
        return EXIT_FAILED
    reason = "its phase's step budget" if result.stop_reason == "budget" else result.stop_reason.replace("_", " ")
    cuts = "".join(f", learning rates cut at a plateau at step {step}" for step in result.cuts)
    print(f"stopped after {result.steps} steps ({reason}, {result.seconds:.1f} s{cuts}), "
          f"{where}; saved {outcome.model}", file=sys.stderr)
    if result.message:  # why a data run stopped when it began to memorise
        print(f"why: {result.message}", file=sys.stderr)
    if outcome.temperatures_tried:  # not clearly learned as trained: other samplers were tried (temperature.py)
        from seqgan_core.evaluation.temperature import describe

        at_one = outcome.temperatures_tried[0]["problem"]
        if (outcome.temperature, outcome.min_p) != (1.0, 0.0):
            print(f"sampler: as trained {at_one}; the model samples with {describe(outcome.temperature, outcome.min_p)}, "
                  "the least change clearly learned (`seqgan sample --temperature 1 --min-p 0` draws the trained "
                  "distribution)", file=sys.stderr)
        else:
            others = ", ".join(describe(row["temperature"], row["min_p"]) for row in outcome.temperatures_tried[1:])
            print(f"sampler: as trained {at_one}, and none of {others} was clearly learned; the model "
                  "samples as trained", file=sys.stderr)
    print(f"verdict: {outcome.verdict.line}", file=sys.stderr)
    return 0 if outcome.verdict.learned else EXIT_NOT_LEARNED


def _model_and_target(args, path):
    """The saved model, and the target it was trained on (rule plugin or data file)."""
    from seqgan_core.io.export import load_model
    from seqgan_core.io.run import model_path
    from seqgan_core.rules.target import target_from_record

    model = load_model(model_path(path), trust=getattr(args, "trust", False))
    record = model.meta.get("target") or {"kind": "rule", "rule": model.meta["rule"]}
    target = target_from_record(record, lambda: _load_rules(args)[1], data=getattr(args, "data", None))
    _check_data_hash(record, target, getattr(args, "force", False))
    target.check_vocabulary(model.vocabulary.tokens, f"the model {str(model.path)!r}")
    return model, target


def _check_data_hash(record: dict, target, force: bool) -> None:
    """A data run scores against the file it was trained on: the run stored its SHA-256."""
    saved, now = record.get("sha256"), target.record.get("sha256")
    if target.dataset is None or not saved or not now or saved == now:
        return
    message = (f"{target.record['path']} is not the file this model was trained on (its SHA-256 changed since "
               "training)")
    if not force:
        raise SeqganError(f"{message}; give the original with --data FILE, or pass --force to score against "
                          "this one anyway")
    warnings.warn(f"{message}; scoring against it anyway (--force)", stacklevel=2)


def cmd_sample(args) -> int:
    from seqgan_core.io.export import load_model
    from seqgan_core.io.run import model_path
    from seqgan_core.rules import conditions
    from seqgan_core.rules.frames import FrameLayout

    _positive(args.n, "-n", MAX_SAMPLES)
    model = load_model(model_path(args.model), trust=args.trust)
    record = model.meta.get("target") or {}
    columns = record.get("columns")  # a CSV read with --header
    where = conditions.parse_where(args.where)
    constraint = None
    if record.get("allowed_next"):  # the rule's constraint is Python: seqgan's sampler applies it
        rule = target_from_model(args, model).rule
        constraint = rule.constraint()
        print(f"seqgan: rule {rule.name!r}: allowed_next {record['allowed_next']}", file=sys.stderr)
    seed, temperature, min_p = _seed(args.seed), _temperature(args.temperature), _min_p(args.min_p)
    if where or constraint is not None:
        chunks = [conditions.sample(model, args.n, where, constraint, seed, temperature, min_p)]
    else:  # streamed chunk by chunk: memory stays bounded whatever -n and the sequence length are
        chunks = model.chunks(args.n, seed=seed, temperature=temperature, min_p=min_p)
    chars = bool(record.get("chars"))
    layout = record.get("layout") or {}
    events = FrameLayout(**layout) if layout.get("form") == "long" else None  # an event log: --json in long form
    first, entities = True, 0
    for chunk in chunks:
        rows = [model.strip(row) for row in model.vocabulary.decode(chunk)]
        if args.json and events is not None:  # one record an event: entity, order, event, context columns
            items = events.to_rows(rows, first_entity=entities)
            entities += len(rows)
            if not items:  # every entity of the chunk without events: nothing to write, not an empty item
                continue
            sys.stdout.write(("[" if first else ", ") + ", ".join(json.dumps(item) for item in items))
        elif args.json:  # a --chars run's sequences are strings, as plain sample prints them
            items = (dict(zip(columns, row)) if columns else "".join(map(str, row)) if chars else row for row in rows)
            sys.stdout.write(("[" if first else ", ") + ", ".join(json.dumps(item) for item in items))
        else:
            sys.stdout.write("".join(model.as_line(row) + "\n" for row in rows))
        first = False
    if args.json:
        sys.stdout.write("[]\n" if first else "]\n")
    return 0


def cmd_drs(args) -> int:
    """``RUN/drs.pt``: a TorchScript program (G, D and k), so ``seqgan sample RUN/drs.pt`` needs
    ``--trust`` like any program file given by path; ``seqgan sample RUN`` still samples G alone."""
    import torch

    from seqgan_core.io.drs import save_drs
    from seqgan_core.io.export import load_model
    from seqgan_core.io.run import model_path

    _positive(args.k, "--k", 1024)
    _positive(args.steps, "--steps", 1_000_000)
    run = Path(args.run)
    model = load_model(model_path(run), trust=False)  # the run's own weights-only file: data, no code
    target = target_from_model(args, model)
    _check_data_hash(model.meta.get("target") or {}, target, False)
    torch.manual_seed(_seed(args.seed))
    g = torch.Generator().manual_seed(_seed(args.seed))
    path = save_drs(run, lambda n: target.rule.sample_checked(n, g), k=args.k, steps=args.steps)
    print(f"wrote {path} (k = {args.k}); sample it with: seqgan sample {path} --trust", file=sys.stderr)
    return 0


def target_from_model(args, model):
    """The target a loaded model was trained on (its rule, from the installed plugins)."""
    from seqgan_core.rules.target import target_from_record

    record = model.meta.get("target") or {"kind": "rule", "rule": model.meta["rule"]}
    return target_from_record(record, lambda: _load_rules(args)[1], data=getattr(args, "data", None))


METRIC_ROWS = [  # (key, label, format, note) of what `evaluate` prints
    ("validity", "validity", ".2%", "share of sequences the rule accepts (real data: {real_validity:.2%})"),
    ("coverage", "coverage", None, "real tokens produced"),
    ("tv", "token TV", ".4f", "pooled token TV to real data, 0 = same (real data: {real_tv:.4f})"),
    ("js", "token JS", ".4f", "pooled Jensen-Shannon distance"),
    ("tv_position_mean", "TV per position", ".4f", "mean over positions"),
    ("unique_ratio", "distinct", ".4f", "share of distinct sequences (real data: {real_unique_ratio:.4f})"),
    ("rule_distance", "rule distance", ".4f", "the rule's own distance, 0 = perfect"),
    ("heldout_nll", "held-out NLL", ".4f", "per token, nats: the model's NLL of held-out real data (NLL_test)"),
    ("bigram_heldout_nll", "bigram NLL", ".4f", "the same for the best bigram model of the training part"),
]
REFERENCE_ROWS = [  # (key, label, note) of `evaluate --reference FILE`
    ("bleu2", "BLEU-2", "vs FILE"), ("bleu3", "BLEU-3", "vs FILE"), ("bleu4", "BLEU-4", "vs FILE"),
    ("bleu5", "BLEU-5", "vs FILE"), ("self_bleu4", "Self-BLEU-4", "of the samples; lower = more diverse"),
    ("self_bleu5", "Self-BLEU-5", "of the samples"), ("copied", "copied", "share of samples found in FILE"),
    ("nll_gen", "NLL_gen", "per token, nats: the model's NLL of FILE"),
]


def cmd_evaluate(args) -> int:
    from seqgan_core.api import evaluate_model

    _positive(args.n, "-n", MAX_EVAL_SAMPLES)
    model, target = _model_and_target(args, args.model)
    _fits(args.n, model.length)
    if args.sweep or args.temperatures or args.oracle:
        return _sweep(args, model, target)
    if args.reference and not Path(args.reference).is_file():
        raise SeqganError(f"--reference {args.reference!r} is not a file; give one sequence per line")
    metrics, verdict = evaluate_model(model, target, args.n, seed=_seed(args.seed),
                                      temperature=_temperature(args.temperature), reference_file=args.reference,
                                      chars=bool(target.record.get("chars")), min_p=_min_p(args.min_p))
    if args.json:
        print(json.dumps({**metrics, "verdict": verdict.to_dict()}, indent=2))
        return 0
    print(f"{model.path}: {target.rule.name}, {metrics['n']} sequences, seed {args.seed}")
    shown = set()
    for key, label, fmt, note in METRIC_ROWS:
        if key not in metrics:
            continue
        shown.add(key)
        value = (f"{metrics['coverage_count']}/{metrics['real_token_count']}" if key == "coverage"
                 else format(metrics[key], fmt))
        print(f"  {label:<16} {value:>10}   {note.format(**metrics)}")
    own = "data" if target.dataset is not None else "the rule's own figure"
    for key, value in metrics.get("rule_metrics", {}).items():
        print(f"  {key:<16} {value:>10.4f}   ({own})")
    ref = metrics.get("reference")
    if ref:
        print(f"against {ref['reference']} ({ref['reference_size']} sequences; BLEU of {ref['bleu_samples']} samples):")
        for key, label, note in REFERENCE_ROWS:
            if key in ref:
                print(f"  {label:<16} {ref[key]:>10.4f}   {note}")
        if ref.get("nll_gen_unk_tokens"):
            print(f"  ({ref['nll_gen_unk_tokens']} tokens in {ref['nll_gen_unk_lines']} sequences of FILE are words the "
                  f"model never trained on, scored with the unknown class {model.unk}: see docs/data.md)")
        if ref.get("nll_gen_skipped"):
            why = "too long" if model.unk is not None else "unknown tokens or too long"
            print(f"  ({ref['nll_gen_skipped']} sequences of FILE not scored by NLL_gen: {why})")
    print(f"verdict: {verdict.line}")
    return 0


def _sweep_values(text: str | None) -> tuple[float, ...]:
    from seqgan_core.rules.frontier import TEMPERATURES

    if text is None:
        return TEMPERATURES
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise SeqganError(f"--temperatures takes numbers separated by commas, got {text!r}") from None
    if not values:
        raise SeqganError("--temperatures is empty; give e.g. 1.0,0.8,0.6")
    return tuple(_temperature(v) for v in values)


def _sweep(args, model, target) -> int:
    """``evaluate --sweep``: the frontier over temperatures, as a table or JSON."""
    from seqgan_core.plugins.manager import get_rule
    from seqgan_core.rules.frontier import sweep

    if not args.sweep:
        raise SeqganError("--temperatures and --oracle go with --sweep; add --sweep")
    if args.reference or args.temperature is not None or args.min_p is not None:
        raise SeqganError("--sweep sets the temperature itself, at min-p 0; drop --reference, --temperature "
                          "and --min-p (or run evaluate without --sweep)")
    oracle = get_rule(_load_rules(args)[1], args.oracle) if args.oracle else None
    frontier = sweep(model, target, _sweep_values(args.temperatures), args.n, seed=_seed(args.seed),
                     oracle_rule=oracle)
    if args.json:
        print(json.dumps(frontier.to_dict(), indent=2))
        return 0
    keys = ["temperature", *frontier.quality, frontier.diversity]
    print(f"{model.path}: {target.rule.name}, frontier over temperature, {args.n} sequences a point, seed {args.seed}")
    if frontier.oracle:
        print(f"  NLL_oracle: {frontier.oracle}'s NLL per token of the samples (quality, lower is better); "
              f"NLL_test: the model's NLL per token of {frontier.notes['test_size']} fresh {frontier.oracle} "
              "samples at that temperature (diversity, lower is better)")
        if frontier.notes.get("test_unk_tokens"):
            print(f"  ({frontier.notes['test_unk_tokens']} tokens in {frontier.notes['test_unk_lines']} fresh samples "
                  "are scored as the model's <unk> class: words it never saw, or saw fewer than --min-count times)")
        if frontier.notes["test_unscored"]:
            print(f"  ({frontier.notes['test_unscored']} fresh samples hold a token the model never saw "
                  "and are left out of NLL_test)")
    else:
        print("  validity and token TV to real data (quality); distinct: share of distinct samples (diversity)")
    labels = {"temperature": "T", "nll_oracle": "NLL_oracle", "nll_test": "NLL_test", "validity": "validity",
              "tv": "token TV", "unique_ratio": "distinct"}
    print("  " + "".join(f"{labels[k]:>12}" for k in keys))
    for point in frontier.points:
        print("  " + "".join(f"{point[k]:>12.4g}" if k == "temperature" else f"{point[k]:>12.4f}" for k in keys))
    return 0


def cmd_plot(args) -> int:
    from seqgan_core.evaluation.metrics import reference
    from seqgan_core.io.plot import plot_curves, plot_histogram
    from seqgan_core.io.run import CONFIG_FILE, HISTORY_FILE, read_jsonl

    run = Path(args.run)
    if not run.is_dir():
        raise SeqganError(f"{str(run)!r} is not a run folder; give the folder `seqgan train --out` wrote")
    _positive(args.n, "-n", MAX_EVAL_SAMPLES)
    model, target = _model_and_target(args, run)
    _fits(args.n, model.length)
    out = Path(args.out) if args.out else run
    if out.exists() and not out.is_dir():
        raise SeqganError(f"--out {str(out)!r} exists and is not a directory")
    ref = reference(target.rule)
    config = json.loads((run / CONFIG_FILE).read_text()) if (run / CONFIG_FILE).exists() else {}
    kept_on = config.get("kept_on", "distance")
    real_validity = None if kept_on == "heldout_nll" else ref.real_scores(min(args.n, 5000))["real_validity"]
    curves = plot_curves(read_jsonl(run / HISTORY_FILE), out / "curves.png", real_validity, kept_on=kept_on,
                         kept_step=config.get("best_step"))
    label = "real (the rule's own samples)"
    if target.dataset is not None:  # a data file: compared with the part training never saw
        from seqgan_core.evaluation.metrics import Reference, position_counts, token_counts

        held, V = target.rule.canonical(target.dataset.heldout), len(target.rule.vocabulary)
        ref = Reference(target.rule, held, token_counts(held, V), position_counts(held, V))
        name = Path(target.record["path"]).name if target.record.get("path") else "the data"
        label = f"real (held-out part of {name}, {len(held):,} sequences)"
    hist = plot_histogram(model.sample(args.n, seed=0), ref, model.vocabulary.tokens, out / "histogram.png", label)
    print(curves)
    print(hist)
    return 0


COMMANDS = {
    "rules": cmd_rules, "plugins": cmd_plugins, "train": cmd_train, "sample": cmd_sample, "drs": cmd_drs,
    "evaluate": cmd_evaluate, "plot": cmd_plot,
}


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"seqgan: warning: {message}", file=sys.stderr)


def _check_settings(args) -> None:
    """``--set`` values that are parsed before the settings are: the seed, one line when it is no integer."""
    for item in getattr(args, "settings", None) or []:
        key, sep, value = item.partition("=")
        if sep and key.strip().replace("-", "_") == "seed":
            try:
                int(value.strip())
            except ValueError:
                raise SeqganError(f"--set seed={value.strip()} is not a whole number; give e.g. --set seed=1") from None


def _first_line(e: BaseException) -> str:
    lines = str(e).strip().splitlines()
    text = lines[0] if lines else ""
    return f"{type(e).__name__}: {text[:200]}" if text else type(e).__name__


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    warnings.showwarning = _show_warning
    try:
        from seqgan_core.rules.rule import plugin_timeout
        from seqgan_core.runtime.distributed import check_environment

        check_environment()  # WORLD_SIZE, RANK, LOCAL_RANK, ...: one line each, before any work
        plugin_timeout()
        _check_settings(args)
        return COMMANDS[args.command](args)
    except LostPeers as e:  # another rank died: the launcher says which, once (distributed.launch)
        if not e.quiet:
            print(f"seqgan: error: {e}", file=sys.stderr)
        return EXIT_LOST
    except SeqganError as e:
        print(f"seqgan: error: {e}", file=sys.stderr)
        stopped = getattr(e, "interrupted", None)  # rules.rule.PluginCallStopped: a hung plugin call, abandoned
        if stopped is not None:
            return EXIT_INTERRUPTED if stopped else EXIT_FAILED
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("seqgan: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `seqgan sample ... | head`
        sys.stderr.close()
        return 0
    except OSError as e:  # disk full, permissions, ... while reading or writing
        where = f": {e.filename}" if e.filename else ""
        print(f"seqgan: error: {e.strerror or e}{where}", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 - the boundary: a traceback is a bug, one line says which
        # CancelledError, GeneratorExit and the like from a plugin or a model end here, not in a traceback
        print(f"seqgan: error: unexpected {_first_line(e)} (a bug in seqgan or in a plugin; please report it "
              "with the command that caused it)", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
