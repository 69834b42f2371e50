"""Does an adversarial recipe move NLL_oracle of its own pretrained generator? SeqGAN's Table/Figure:
its adversarial phase lowers it (9.038 -> 8.736 on the paper's oracle).

Trains ``--preset`` (default ``seqgan``; ``relgan``, ``maligan`` or a plugin's) on ``--rule``
(default the built-in seeded ``oracle``; ``seqgan-oracle`` is the paper's own) in one process (the
Trainer, one thread) and measures NLL_oracle of ``--samples`` sequences drawn at temperature 1 from the
generator right after maximum-likelihood pretraining (the D-pretraining phase leaves G as it is)
and every ``--every`` adversarial rounds, on the same seed each time. Writes
``benchmarks/results/seqgan.json`` after every measurement, so a run cut short keeps what it had.

    python benchmarks/bench_seqgan.py [--preset seqgan] [--rule oracle] [--pretrain-epochs 120 ...]

Without flags every count is the paper's; a CPU run scales them down with the flags, and the
JSON records exactly what was used (``options``).
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

from seqgan_core.api import load_target
from seqgan_core.engine.presets import preset_config
from seqgan_core.engine.training import Trainer

RESULTS = Path(__file__).resolve().parent / "results" / "seqgan.json"
SAMPLE_SEED = 12_345
SWEEP = (1.0, 0.9, 0.8, 0.7)  # temperatures of the final generator's curve  # the noise NLL_oracle's samples are drawn with, the same for every measurement
COUNTS = ("pretrain_epochs", "epoch_sequences", "d_pretrain", "d_sequences", "d_epochs", "adversarial_rounds",
          "rollouts", "d_steps", "g_steps")


def nll_oracle(rule, generator: torch.nn.Module, n: int) -> float:
    """NLL_oracle (nats per token) of ``n`` sequences from ``generator`` at temperature 1."""
    with torch.random.fork_rng():
        torch.manual_seed(SAMPLE_SEED)
        was_training = generator.training
        generator.eval()
        with torch.no_grad():
            seqs = torch.cat([generator.sample(min(2000, n - i)) for i in range(0, n, 2000)])
        generator.train(was_training)
    return float(rule.metrics(seqs)["nll_oracle"])


def sweep(rule, generator: torch.nn.Module, n: int) -> list[dict]:
    """The final generator's curve: NLL_oracle of ``n`` samples and NLL_test (its NLL per token of
    the frontier's 2 000 fresh oracle samples, ``rules/frontier.py``) at each temperature of SWEEP."""
    from seqgan_core.rules.frontier import TEST_SEED, TEST_SIZE

    test = rule.heldout_checked(TEST_SIZE, torch.Generator().manual_seed(TEST_SEED))  # (2000, L) rule indices
    rows = []
    generator.eval()
    for t in SWEEP:
        with torch.random.fork_rng(), torch.no_grad():
            torch.manual_seed(SAMPLE_SEED)
            seqs = torch.cat([generator.sample(min(2000, n - i), t) for i in range(0, n, 2000)])
            logp = (generator.teacher_forced_logits(test) / t).log_softmax(-1).gather(-1, test.unsqueeze(-1))
        rows.append({"temperature": t, "nll_oracle": round(float(rule.metrics(seqs)["nll_oracle"]), 4),
                     "nll_test": round(float(-logp.mean()), 4)})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="seqgan", help="the adversarial preset measured (default seqgan)")
    parser.add_argument("--rule", default="oracle", help="a rule with an oracle (default oracle; seqgan-oracle)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="one more option of the preset's recipe, as `seqgan train --set` takes it")
    for name in COUNTS:
        parser.add_argument("--" + name.replace("_", "-"), type=int, default=None)
    parser.add_argument("--num-filters", default=None, help="discriminator.num_filters, comma-separated")
    parser.add_argument("--d-embed", type=int, default=None, help="discriminator.embed")
    parser.add_argument("--samples", type=int, default=10_000, help="sequences behind each NLL_oracle")
    parser.add_argument("--every", type=int, default=10, help="adversarial rounds between measurements")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None,
                        help="the JSON written (default results/seqgan.json; results/PRESET.json for another preset)")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    if args.out is None:
        args.out = RESULTS if args.preset == "seqgan" else RESULTS.with_name(f"{args.preset}.json")
    overrides = {name: getattr(args, name) for name in COUNTS if getattr(args, name) is not None}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--set {item!r}: write it as KEY=VALUE")
        overrides[key] = value
    if args.num_filters:
        overrides["discriminator.num_filters"] = args.num_filters
    if args.d_embed:
        overrides["discriminator.embed"] = args.d_embed
    rule = load_target(args.rule).rule
    config = preset_config(args.preset, seed=args.seed, threads=args.threads, eval_every=10**9, **overrides)
    options = config.recipe_options()
    record = {
        "command": " ".join(["python", "benchmarks/" + Path(sys.argv[0]).name, *sys.argv[1:]]),
        "machine": {"cpu_count": os.cpu_count(), "platform": f"{platform.machine()} {platform.system()}",
                    "torch": torch.__version__, "threads": torch.get_num_threads()},
        "date": datetime.date.today().isoformat(),
        "rule": args.rule, "preset": args.preset, "seed": args.seed, "samples": args.samples,
        "options": {k: v for k, v in vars(options).items()},
        "nll_oracle_floor": float(rule.metrics(rule.sample_checked(10, torch.Generator()))["nll_oracle_floor"]),
        "figures": [],
    }
    started = time.perf_counter()

    def write(phase: str, round_: int, generator: torch.nn.Module) -> None:
        nll = nll_oracle(rule, generator, args.samples)
        row = {"phase": phase, "round": round_, "nll_oracle": round(nll, 4),
               "seconds": round(time.perf_counter() - started, 1)}
        record["figures"].append(row)
        pre = next((r["nll_oracle"] for r in record["figures"] if r["phase"] == "pretrained"), None)
        if pre is not None:
            record["adversarial_gain"] = round(pre - nll, 4)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        print(json.dumps(row), flush=True)

    seen = {"pretrained": False}
    first_adv = [None]

    def callback(progress) -> None:
        recipe = progress.trainer.recipe
        if progress.phase != "mle" and not seen["pretrained"]:
            seen["pretrained"] = True  # G as maximum likelihood left it (D-pretraining steps leave G alone)
            write("pretrained", 0, copy.deepcopy(recipe.generator))
        if progress.phase == "adversarial":
            if first_adv[0] is None:
                first_adv[0] = progress.step - 1
            done = progress.step - first_adv[0]
            if done % args.every == 0 or done == options.adversarial_rounds:
                write("adversarial", done, recipe.generator)
        elif progress.step % 200 == 0:
            print(json.dumps({"step": progress.step, "phase": progress.phase, **progress.losses}), flush=True)

    result = Trainer(rule, config, callbacks=[callback]).run()
    record["stop_reason"], record["steps"] = result.stop_reason, result.steps
    record["sweep"] = sweep(rule, result.generator, args.samples)  # the final generator (the presets keep it)
    record["seconds"] = round(time.perf_counter() - started, 1)
    args.out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: record[k] for k in ("stop_reason", "steps", "seconds", "adversarial_gain") if k in record}))


if __name__ == "__main__":
    main()
