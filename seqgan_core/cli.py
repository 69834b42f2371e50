"""The ``seqgan`` command line: rules, plugins, train, sample.

Every mistake a user can make ends in one line on stderr, ``seqgan: error: ...``, and exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import torch

from . import __version__
from .errors import SeqganError

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line that points at --help."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument(
        "-p", dest="plugins", action="append", default=[], metavar="MODULE",
        help="also load this plugin module by import path (repeatable)",
    )
    parser = _Parser(
        prog="seqgan",
        description="Train GANs that generate sequences of discrete tokens following a rule.",
        epilog=_examples("seqgan rules", "seqgan train --rule multiples5",
                         "seqgan sample runs/multiples5/generator.pt -n 5"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
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

    t = command("train", "train a generator for a rule and save it",
                ["seqgan train --rule multiples5",
                 "seqgan train --rule multiples5 --seed 1 --max-steps 2000 --out runs/m5-seed1"])
    t.add_argument("--rule", required=True, help="rule name (see `seqgan rules`)")
    t.add_argument("--preset", default=None, help="training preset (default: article)")
    t.add_argument("--seed", type=int, default=None, help="random seed (default 0)")
    t.add_argument("--max-steps", type=int, default=None, help="most training steps")
    t.add_argument("--patience", type=int, default=None, help="checks without improvement before stopping")
    t.add_argument("--lr", type=float, default=None, help="Adam learning rate")
    t.add_argument("--loss", default=None, help="bce, nonsaturating, hinge or wgan-gp (not for article)")
    t.add_argument("--distance", default=None, help="early-stopping distance: rule, tv or js")
    t.add_argument("--min-delta", type=float, default=None, help="smallest improvement that counts")
    t.add_argument("--out", default=None, help="run folder (default runs/<rule>/)")
    t.add_argument("--format", default="torchscript", choices=["torchscript", "export"],
                   help="torchscript (generator.pt, default) or torch.export (generator.pt2)")
    t.add_argument("--device", default=None, help="auto, cpu or cuda (default auto)")

    s = command("sample", "sample sequences from a saved generator",
                ["seqgan sample runs/multiples5/generator.pt",
                 "seqgan sample runs/multiples5/generator.pt -n 100 --seed 3 --json"])
    s.add_argument("model", help="generator.pt / .pt2 written by `seqgan train`, or its run folder")
    s.add_argument("-n", type=int, default=10, help="how many sequences (default 10)")
    s.add_argument("--seed", type=int, default=None, help="random seed for reproducible samples")
    s.add_argument("--json", action="store_true", help="print one JSON array of arrays")

    e = command("evaluate", "measure a saved generator against its rule",
                ["seqgan evaluate runs/multiples5", "seqgan evaluate runs/multiples5/generator.pt -n 10000 --json"])
    e.add_argument("model", help="model file or run folder")
    e.add_argument("-n", type=int, default=10_000, help="sequences to sample (default 10000)")
    e.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    e.add_argument("--json", action="store_true", help="print the metrics as JSON")

    pl = command("plot", "write PNGs of a run's curves and token histogram (needs matplotlib)",
                 ["seqgan plot runs/multiples5", "seqgan plot runs/multiples5 --out pictures/"])
    pl.add_argument("run", help="run folder written by `seqgan train`")
    pl.add_argument("--out", default=None, help="folder for the PNGs (default: the run folder)")
    pl.add_argument("-n", type=int, default=10_000, help="sequences sampled for the histogram")
    return parser


def _load_rules(args):
    from .plugins import get_plugin_manager, load_rules

    pm = get_plugin_manager(args.plugins)
    return pm, load_rules(pm)


def cmd_rules(args) -> int:
    _, rules = _load_rules(args)
    rows = [(r.name, r.plugin, r.description) for r in rules.values()]
    widths = [max(len(row[i]) for row in rows + [("name", "plugin", "")]) for i in range(2)]
    for name, plugin, description in rows:
        print(f"{name:<{widths[0]}}  {plugin:<{widths[1]}}  {description}")
    return 0


def cmd_plugins(args) -> int:
    from .plugins import describe_plugins

    pm, _ = _load_rules(args)
    print(json.dumps(describe_plugins(pm), indent=2))
    return 0


def cmd_train(args) -> int:
    from .config import DEFAULT_PRESET, preset_config
    from .plugins import get_rule
    from .metrics import Reference
    from .progress import ProgressReporter
    from .run import MetricsLog, save_run
    from .training import resolve_device, train

    _, rules = _load_rules(args)
    rule = get_rule(rules, args.rule)
    config = preset_config(
        args.preset or DEFAULT_PRESET, seed=args.seed, max_steps=args.max_steps,
        patience=args.patience, lr=args.lr, device=args.device, loss=args.loss,
        distance=args.distance, min_delta=args.min_delta,
    )
    resolve_device(config.device)  # fail before any work
    out = Path(args.out) if args.out else Path("runs") / rule.name
    if out.exists() and not out.is_dir():
        raise SeqganError(f"--out {str(out)!r} exists and is not a directory")
    print(f"training rule {rule.name!r} with preset {config.preset!r}, seed {config.seed}", file=sys.stderr)
    reporter = ProgressReporter(rule.vocabulary, config.max_steps, config.log_every)
    metrics_log = MetricsLog(out, Reference.from_rule(rule), config.metrics_every)
    try:
        result = train(rule, config, callbacks=[reporter, metrics_log])
    finally:
        reporter.close()
    model = save_run(out, result, rule, args.format)
    torch.manual_seed(config.seed)
    metrics_log.add({"step": "final", "steps": result.steps}, result.generator.sample(metrics_log.n))
    print(
        f"stopped after {result.steps} steps ({result.stop_reason}, {result.seconds:.1f} s), "
        f"best distance {result.best_distance:.4f} at step {result.best_step}; saved {model}",
        file=sys.stderr,
    )
    return 0


def _positive(value: int, flag: str) -> int:
    if value < 1:
        raise SeqganError(f"{flag} must be at least 1, got {value}")
    return value


def _model_and_rule(args, path):
    """The saved model, and the rule it was trained on (from the installed plugins)."""
    from .export import load_model
    from .plugins import get_rule
    from .run import model_path

    model = load_model(model_path(path))
    _, rules = _load_rules(args)
    name = model.meta["rule"]
    if name not in rules:
        raise SeqganError(
            f"the model was trained on rule {name!r} (plugin {model.meta.get('plugin')}), which is not "
            "installed; install that plugin or load it with -p MODULE"
        )
    return model, get_rule(rules, name)


def cmd_sample(args) -> int:
    from .export import load_model
    from .run import model_path

    _positive(args.n, "-n")
    model = load_model(model_path(args.model))
    seqs = model.vocabulary.decode(model.sample(args.n, seed=args.seed))
    if args.json:
        print(json.dumps(seqs))
    else:
        sys.stdout.write("".join(" ".join(str(t) for t in seq) + "\n" for seq in seqs))
    return 0


def cmd_evaluate(args) -> int:
    from .metrics import Reference, evaluate

    _positive(args.n, "-n")
    model, rule = _model_and_rule(args, args.model)
    metrics = evaluate(model.sample(args.n, seed=args.seed), Reference.from_rule(rule))
    if args.json:
        print(json.dumps(metrics, indent=2))
        return 0
    print(f"{model.path}: rule {rule.name}, {metrics['n']} sequences, seed {args.seed}")
    rows = [
        ("validity", f"{metrics['validity']:.4%}", "share of sequences the rule accepts"),
        ("coverage", f"{metrics['coverage_count']}/{metrics['real_token_count']}", "real tokens produced"),
        ("tv", f"{metrics['tv']:.4f}", "pooled token TV to real data (0 = same)"),
        ("js", f"{metrics['js']:.4f}", "pooled Jensen-Shannon distance"),
        ("tv per position", f"{metrics['tv_position_mean']:.4f}", "mean over positions"),
        ("js per position", f"{metrics['js_position_mean']:.4f}", "mean over positions"),
        ("unique ratio", f"{metrics['unique_ratio']:.4f}", f"real data: {metrics['real_unique_ratio']:.4f}"),
        ("rule distance", f"{metrics['rule_distance']:.4f}", "the rule's own distance"),
    ]
    for name, value, note in rows:
        print(f"  {name:<16} {value:>10}   {note}")
    return 0


def cmd_plot(args) -> int:
    from .metrics import Reference
    from .plot import plot_curves, plot_histogram
    from .run import HISTORY_FILE, METRICS_FILE, read_jsonl

    run = Path(args.run)
    if not run.is_dir():
        raise SeqganError(f"{str(run)!r} is not a run folder; give the folder `seqgan train --out` wrote")
    _positive(args.n, "-n")
    model, rule = _model_and_rule(args, run)
    out = Path(args.out) if args.out else run
    if out.exists() and not out.is_dir():
        raise SeqganError(f"--out {str(out)!r} exists and is not a directory")
    curves = plot_curves(read_jsonl(run / HISTORY_FILE), read_jsonl(run / METRICS_FILE), out / "curves.png")
    hist = plot_histogram(model.sample(args.n, seed=0), Reference.from_rule(rule), model.vocabulary.tokens,
                          out / "histogram.png")
    print(curves)
    print(hist)
    return 0


COMMANDS = {
    "rules": cmd_rules, "plugins": cmd_plugins, "train": cmd_train, "sample": cmd_sample,
    "evaluate": cmd_evaluate, "plot": cmd_plot,
}


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"seqgan: warning: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    warnings.showwarning = _show_warning
    try:
        return COMMANDS[args.command](args)
    except SeqganError as e:
        print(f"seqgan: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("seqgan: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `seqgan sample ... | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
