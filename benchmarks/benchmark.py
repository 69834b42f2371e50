"""seqgan benchmarks: every figure on the docs' benchmark pages comes from a section here.

    python benchmarks/benchmark.py SECTION [--seeds N] [--json FILE] [--results NAME]

Each section lives in its own module ``benchmarks/bench_<section>.py`` with a ``run(args)`` that
prints its tables (Markdown) and returns its rows. The rows are written, with the command, the
machine and the date, to ``benchmarks/results/SECTION.json``; ``python benchmarks/render.py``
turns those files into the docs' benchmark pages. ``--json FILE`` keeps the bare rows too.
Training runs are whole ``seqgan`` processes with seqgan's own thread choice, as users run them
(see common.py); medians are over seeds, and ratios compare runs made side by side in the same
invocation.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

SECTIONS = {  # section -> what it measures
    "multiples5": "the CLI against the tutorial's own script, whole processes, idle and busy machine",
    "threads": "seqgan's thread choice against fixed thread counts, per model size",
    "step": "ms per multiples5 training step, in-process, 1 thread (--against DIR: another checkout)",
    "suite": "plain `seqgan train --rule NAME` on every suite rule, beside maximum likelihood alone",
    "scaling": "sequences/s and peak memory of every generator family up to V = 50 000, L = 128",
    "data": "--data runs: a word list, a CSV, a large token file; copies, novelty, held-out NLL",
    "oracle": "the SeqGAN synthetic oracle (NLL_oracle / NLL_test) beside the published table",
    "frontier": "maximum likelihood's temperature curve on the paper's oracle beside Caccia et al.'s best",
    "coco": "COCO captions (BLEU / Self-BLEU) beside the published table",
    "ddp": "data-parallel training: 1 against 2 processes",
    "kill": "random SIGKILLs in a run's last moments: how many lose the model (sample, or resume then sample)",
    "checksum": "whether the GRU learns a check digit over K digits by maximum likelihood, given 5x the budget",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="sections:\n" + "\n".join(f"  {k:<11} {v}" for k, v in SECTIONS.items()))
    parser.add_argument("section", choices=list(SECTIONS))
    parser.add_argument("--seeds", type=int, default=3, help="seeds per configuration (default 3)")
    parser.add_argument("--only", default=None, help="comma-separated subset (rules, files...) where a section has one")
    parser.add_argument("--jobs", type=int, default=1,
                        help="training runs at once where a section allows (default 1; more makes wall times those of a busy machine)")
    parser.add_argument("--json", default=None, help="also write every row to this file")
    parser.add_argument("--results", default=None, metavar="NAME",
                        help="write benchmarks/results/NAME.json (default: the section's name; "
                             "'-' writes none), which the docs' benchmark pages are rendered from")
    parser.add_argument("--max-steps", type=int, default=None,
                        help="cap every training run at this many steps, where a section allows (a shortened run)")
    args, rest = parser.parse_known_args()
    module = importlib.import_module(f"bench_{args.section}")
    if hasattr(module, "add_arguments"):  # a section's own options, e.g. coco --max-steps
        own = argparse.ArgumentParser(prog=f"benchmark.py {args.section}")
        module.add_arguments(own)
        own.parse_args(rest, namespace=args)
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    from common import machine_line, say, write_results

    say(machine_line() + "\n")
    rows = module.run(args)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=str))
    if args.results != "-":
        name = args.results or args.section
        command = " ".join(["python", "benchmarks/benchmark.py", *sys.argv[1:]])
        say(f"results: {write_results(name, command, rows, shortened=args.max_steps is not None)}")


if __name__ == "__main__":
    main()
