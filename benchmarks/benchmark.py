"""seqgan benchmarks: rerun them to check every figure in README.

    python benchmarks/benchmark.py multiples5   # article vs default preset, seeds 0-4      (~1 min)
    python benchmarks/benchmark.py scaling      # throughput / memory vs vocabulary, length (~2 min)
    python benchmarks/benchmark.py rules        # ascending/arithmetic/palindrome, GAN vs MLE (~20 min)
    python benchmarks/benchmark.py data         # --data on a generated word list, GAN vs MLE (~5 min)
    python benchmarks/benchmark.py all

Every training run is a fresh subprocess (so its peak memory is its own) with one torch thread
(small models run fastest that way, and a 2-core machine stays usable). Wall time is the
``train()`` call: model construction, training, checks and early stopping. Medians are over seeds;
ratios compare runs made in the same invocation. Add ``--json FILE`` to keep the raw rows.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MB = 1024  # ru_maxrss is in KiB on Linux


# --------------------------------------------------------------------------- one run (child)

def synthetic_rule(vocab: int, length: int):
    """Every position independently uniform over the even indices of a ``vocab``-wide vocabulary."""
    import torch

    from seqgan_core import Rule

    def sample(n, g):
        return 2 * torch.randint(vocab // 2, (n, length), generator=g)

    return Rule(name=f"even-{vocab}x{length}", description="synthetic", vocab=list(range(vocab)),
                length=length, sample=sample, is_valid=lambda s: (s % 2 == 0).all(-1))


def one_run(spec: dict) -> dict:
    import torch

    torch.set_num_threads(1)
    from seqgan_core.presets import preset_config
    from seqgan_core.metrics import Reference, evaluate
    from seqgan_core.training import Trainer

    if spec["kind"] == "scaling":
        rule = synthetic_rule(spec["vocab"], spec["length"])
        config = preset_config("default", max_steps=10**9, eval_every=10**9, patience=1, **spec.get("overrides", {}))
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # after imports, before the models
        trainer = Trainer(rule, config)
        for _ in range(3):  # warm-up
            trainer.gan.step(trainer.real, 1)
        steps, started = 0, time.perf_counter()
        while steps < spec["min_steps"] or time.perf_counter() - started < spec["min_seconds"]:
            trainer.gan.step(trainer.real, steps + 1)
            steps += 1
        seconds = time.perf_counter() - started
        return {"seqs_per_s": steps * config.batch_size / seconds, "step_ms": 1000 * seconds / steps,
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / MB,
                "peak_growth_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / MB}

    if spec["kind"] == "data":
        from seqgan_core.target import data_target

        target = data_target(spec["path"], seed=spec["seed"], chars=True)
        rule = target.rule
    else:
        from seqgan_core.plugins import get_plugin_manager, load_rules

        rule = load_rules(get_plugin_manager(entry_points=False))[spec["rule"]]
        target = None
    reference = Reference.from_rule(rule)
    config = preset_config(spec["preset"], seed=spec["seed"], **spec.get("overrides", {}))
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = Trainer(rule, config).run()
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    torch.manual_seed(12345)
    seqs = result.generator.sample(10_000)
    m = evaluate(seqs, reference)
    numbers = evaluate(seqs[: 10_000 // rule.length], reference)  # 10 000 tokens, as the issue counts
    row = {
        "steps": result.steps, "wall_s": wall, "stop": result.stop_reason,
        "validity": m["validity"], "coverage": f"{m['coverage_count']}/{m['real_token_count']}",
        "coverage_share": m["coverage"], "tv_10k_tokens": numbers["tv"], "tv_all": m["tv"],
        "tv_position": m["tv_position_mean"], "unique_ratio": m["unique_ratio"],
        "real_unique_ratio": m["real_unique_ratio"],
        "peak_mb": peak / MB, "peak_growth_mb": (peak - rss0) / MB,
    }
    if target is not None:
        row.update(target.extra_metrics(seqs))
    return row


def run_child(spec: dict) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", json.dumps(spec)], capture_output=True,
                         text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    if out.returncode:
        raise SystemExit(f"benchmark run {spec} failed:\n{out.stderr}")
    return {**spec, **json.loads(out.stdout.strip().splitlines()[-1])}


# --------------------------------------------------------------------------- tables

def table(rows: list[dict], columns: list[tuple[str, str, str]]) -> str:
    head = "| " + " | ".join(title for title, _, _ in columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    lines = [head, rule]
    for row in rows:
        lines.append("| " + " | ".join(format(row[key], fmt) if fmt else str(row[key]) for _, key, fmt in columns) + " |")
    return "\n".join(lines)


def medians(rows: list[dict], keys: list[str], **fixed) -> dict:
    return {**fixed, **{k: statistics.median(r[k] for r in rows) for k in keys}}


def say(text: str = "") -> None:
    print(text, flush=True)


def bench_multiples5(seeds) -> list[dict]:
    say("## multiples5: article vs default preset\n")
    rows = []
    for seed in seeds:
        for preset in ("article", "default"):
            row = run_child({"kind": "rule", "rule": "multiples5", "preset": preset, "seed": seed})
            rows.append(row)
            print(f"  {preset:<8} seed {seed}: {row['steps']} steps, {row['wall_s']:.2f} s", file=sys.stderr)
    cols = [("preset", "preset", ""), ("seed", "seed", ""), ("steps", "steps", ""), ("wall s", "wall_s", ".2f"),
            ("validity", "validity", ".4%"), ("coverage", "coverage", ""),
            ("TV (10 000 numbers)", "tv_10k_tokens", ".4f"), ("peak RSS MB", "peak_mb", ".0f"),
            ("growth MB", "peak_growth_mb", ".1f")]
    say(table(rows, cols))
    keys = ["steps", "wall_s", "validity", "coverage_share", "tv_10k_tokens", "peak_mb", "peak_growth_mb"]
    med = [medians([r for r in rows if r["preset"] == p], keys, preset=p, seed="median") for p in ("article", "default")]
    for m in med:
        m["coverage"] = f"{m.pop('coverage_share') * 20:.0f}/20"
    say("\nMedians:\n")
    say(table(med, cols))
    article, default = med
    ratio = default["wall_s"] / article["wall_s"]
    ratios = [d["wall_s"] / a["wall_s"] for a, d in zip(rows[0::2], rows[1::2])]
    say(f"\nwall-time ratio default/article: {ratio:.2f} (of medians); per seed: "
        + ", ".join(f"{r:.2f}" for r in ratios))
    targets = [("default validity >= 99.9%", default["validity"] >= 0.999),
               ("default coverage 20/20", default["coverage"] == "20/20"),
               ("default TV <= 0.03 on 10 000 numbers", default["tv_10k_tokens"] <= 0.03),
               ("wall-time ratio default/article <= 1.0", ratio <= 1.0)]
    say("\nTargets: " + "; ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in targets))
    return rows


def bench_scaling() -> list[dict]:
    say("\n## scaling: default preset, synthetic rule, training steps only (no checks)\n")
    rows = []
    for vocab, length in [(100, 10), (1000, 10), (10_000, 10), (100, 64), (1000, 64), (10_000, 64)]:
        row = run_child({"kind": "scaling", "vocab": vocab, "length": length, "min_steps": 5, "min_seconds": 3.0})
        rows.append(row)
        print(f"  V={vocab} L={length}: {row['seqs_per_s']:.0f} seq/s", file=sys.stderr)
    say(table(rows, [("vocabulary V", "vocab", ""), ("length L", "length", ""), ("sequences/s", "seqs_per_s", ".0f"),
                     ("ms/step (64 seqs)", "step_ms", ".1f"), ("peak RSS MB", "peak_mb", ".0f"),
                     ("growth MB", "peak_growth_mb", ".0f")]))
    return rows


RULE_KEYS = ["validity", "unique_vs_real", "tv_position", "wall_s"]


RULE_COLUMNS = [("rule", "name", ""), ("variant", "variant", ""), ("seed", "seed", ""), ("steps", "steps", ""),
                ("validity", "validity", ".4f"), ("unique / real's", "unique_vs_real", ".3f"),
                ("marginal TV", "tv_position", ".4f"), ("wall s", "wall_s", ".1f")]


def _variants(preset):
    """The default (MLE pretraining + D warm-up + adversarial phase with an MLE term), MLE alone
    for the pretraining steps, and MLE alone for as many steps as the default takes in total."""
    return [
        ("GAN (default)", {}),
        ("MLE only", {"max_steps": preset.pretrain_steps}),
        ("MLE only, same steps", {"max_steps": preset.max_steps, "pretrain_steps": preset.max_steps}),
    ]


def bench_rules(seeds) -> list[dict]:
    from seqgan_core.config import PRESETS, preset_for

    say("\n## rules with dependencies: default (MLE pretraining + adversarial) vs MLE pretraining alone\n")
    rows = []
    for name in ("ascending", "arithmetic", "palindrome"):
        preset = preset_for(name)
        for seed in seeds:
            for variant, overrides in _variants(PRESETS[preset]):
                row = run_child({"kind": "rule", "rule": name, "preset": preset, "seed": seed, "overrides": overrides})
                row.update(name=name, variant=variant, unique_vs_real=row["unique_ratio"] / row["real_unique_ratio"])
                rows.append(row)
                print(f"  {name} {variant} seed {seed}: {row['validity']:.4f} valid, {row['wall_s']:.0f} s", file=sys.stderr)
    cols = RULE_COLUMNS
    say(table(rows, cols))
    variants = [v for v, _ in _variants(PRESETS["gru"])]
    med = [medians([r for r in rows if r["name"] == n and r["variant"] == v], RULE_KEYS + ["steps"], name=n, variant=v,
                   seed="median") for n in ("ascending", "arithmetic", "palindrome") for v in variants]
    say("\nMedians:\n")
    say(table(med, cols))
    say("\nTargets (GAN, medians): " + "; ".join(
        f"{m['name']}: " + ", ".join([
            f"validity {'met' if m['validity'] >= 0.99 else 'MISSED'}",
            f"diversity {'met' if m['unique_vs_real'] >= 0.9 else 'MISSED'}",
            f"TV {'met' if m['tv_position'] <= 0.05 else 'MISSED'}",
            f"time {'met' if m['wall_s'] < 120 else 'MISSED'}"])
        for m in med if m["variant"].startswith("GAN")))
    return rows


def words_file(path: Path, seed: int = 0) -> Path:
    """A generated word list: 600 distinct pronounceable words, 4000 lines, Zipf-like frequencies."""
    rng = random.Random(seed)
    onsets, vowels, codas = "b d f g k l m n p r s t v z".split(), "a e i o u".split(), ["", "n", "r", "s", "l"]
    words = set()
    while len(words) < 600:
        syllables = rng.choice([1, 2, 2, 3])
        words.add("".join(rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas) for _ in range(syllables)))
    words = sorted(words)
    rng.shuffle(words)
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(words))]
    path.write_text("\n".join(rng.choices(words, weights, k=4000)) + "\n")
    return path


def bench_data(seeds) -> list[dict]:
    say("\n## --data: a generated word list (600 distinct words, 4000 lines, --chars)\n")
    from seqgan_core.config import PRESETS, DATA_PRESET

    folder = Path(tempfile.mkdtemp(prefix="seqgan-bench-"))
    path = words_file(folder / "words.txt")
    rows = []
    for seed in seeds:
        for variant, overrides in _variants(PRESETS[DATA_PRESET]):
            row = run_child({"kind": "data", "path": str(path), "preset": DATA_PRESET, "seed": seed, "overrides": overrides})
            row.update(name="words", variant=variant, unique_vs_real=row["unique_ratio"] / row["real_unique_ratio"])
            rows.append(row)
            print(f"  words {variant} seed {seed}: {row['validity']:.4f} valid", file=sys.stderr)
    cols = [("variant", "variant", ""), ("seed", "seed", ""), ("validity (in file)", "validity", ".4f"),
            ("novelty", "novelty", ".4f"), ("unique / real's", "unique_vs_real", ".3f"),
            ("1-gram JS", "ngram1_js", ".4f"), ("2-gram JS", "ngram2_js", ".4f"), ("3-gram JS", "ngram3_js", ".4f"),
            ("4-gram JS", "ngram4_js", ".4f"), ("wall s", "wall_s", ".1f")]
    say(table(rows, cols))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("section", nargs="?", default="multiples5",
                        choices=["multiples5", "scaling", "rules", "data", "all"])
    parser.add_argument("--seeds", type=int, default=None, help="number of seeds (default: 5 for multiples5, 3 otherwise)")
    parser.add_argument("--json", default=None, help="also write every row to this file")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_run(json.loads(args.one))))
        return
    import torch

    say(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"torch {torch.__version__}, 1 torch thread; {time.strftime('%Y-%m-%d')}\n")
    rows = []
    sections = ["multiples5", "scaling", "rules", "data"] if args.section == "all" else [args.section]
    for section in sections:
        if section == "multiples5":
            rows += bench_multiples5(range(args.seeds or 5))
        elif section == "scaling":
            rows += bench_scaling()
        elif section == "rules":
            rows += bench_rules(range(args.seeds or 3))
        else:
            rows += bench_data(range(args.seeds or 3))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
