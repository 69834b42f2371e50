"""Section `data`: --data runs that generalise — invention against copying, time, held-out NLL.

    python benchmarks/benchmark.py data [--seeds N] [--only words,csv,large] [--max-steps N] [--no-fixed]
                                        [--train-args "--set adversarial=true"]

- ``words``: 3000 words of 4-6 letters drawn (seed 0) from web2 (Webster's Second International,
  public domain, as shipped by the PyPI package english-words 2.0.2), trained with ``--chars``.
  5000 samples of the saved generator against 5000 of a character-bigram model of the same
  training part: share copied from training, and share of *real words not in the training part*
  (in the 32 453-word web2 list of 4-6 letters, ``data/web2-4to6.txt``). Target: >= 3x the bigram's.
- ``csv``: ``data/shop.csv``, 500 rows x 6 columns with a header (product decides category, size
  and product the price band), ``--header``; target: trains in <= 60 s whole process.
- ``large``: 10 000 sequences of 20 tokens over 5 000 token types from a sparse Markov chain (made
  at run time, seed 0); the data run (stops on held-out NLL) against the fixed schedule data runs
  used to take (``--set stop_on=distance --patience 100000 --max-steps 2300``: every step).
  Target: <= 10 min with held-out NLL at least as good. ``--no-fixed`` skips the fixed schedule
  (27 min a seed; its figure is in the README) to rerun the data runs alone.

Every training run is a whole ``seqgan`` process (common.py); wall seconds include start-up,
checks, final metrics and export.
"""

from __future__ import annotations

import json
import random
import shlex
import statistics
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

from common import DATA, say, seqgan, table

WORDS = DATA / "words.txt"
DICTIONARY = DATA / "web2-4to6.txt"
CSV = DATA / "shop.csv"
SAMPLES = 5000
FIXED_STEPS = 2300  # the schedule data runs used to take: 2000 MLE + 100 warm-up + 200 adversarial steps


def training_part(path: Path, seed: int, chars: bool) -> list[tuple]:
    """The training part of a data file, split exactly as seqgan splits it."""
    from seqgan_core.rules.data import Dataset, read_sequences

    data = Dataset.from_sequences(read_sequences(path, chars=chars), "bench", seed)
    return [tuple(data.vocab[i] for i in row if data.vocab[i] != data.eos) for row in data.train.tolist()]


def bigram_samples(train: list[tuple], n: int, seed: int) -> list[str]:
    """A character-bigram model of ``train`` (maximum likelihood, start and end symbols), sampled."""
    follow: dict[str, Counter] = defaultdict(Counter)
    for word in train:
        chars = ["^", *word, "$"]
        for a, b in zip(chars, chars[1:]):
            follow[a][b] += 1
    rng, out = random.Random(seed), []
    for _ in range(n):
        word, c = [], "^"
        while len(word) < 40:
            nxt = rng.choices(list(follow[c]), weights=list(follow[c].values()))[0]
            if nxt == "$":
                break
            word.append(nxt)
            c = nxt
        out.append("".join(word))
    return out


def shares(samples: list[str], train: set[str], dictionary: set[str]) -> dict:
    n = len(samples)
    return {"copied": sum(w in train for w in samples) / n,
            "real_new": sum(w in dictionary and w not in train for w in samples) / n,
            "distinct_real_new": len({w for w in samples if w in dictionary and w not in train})}


def train(folder: Path, *args, more: str = "") -> dict:
    done = seqgan("train", *args, *shlex.split(more), "--out", folder, cwd=folder.parent, timeout=7200)
    if done.returncode not in (0, 3):
        raise SystemExit(f"seqgan train {' '.join(map(str, args))} failed ({done.returncode}):\n{done.stderr}")
    config = json.loads((folder / "config.json").read_text())
    return {"wall_s": done.wall_s, "steps": config["steps"], "stop": config["stop_reason"],
            "verdict": config["verdict"]["line"], "learned": config["verdict"]["learned"]}


def evaluate(folder: Path) -> dict:
    ev = seqgan("evaluate", folder, "-n", SAMPLES, "--json", cwd=folder.parent)
    if ev.returncode:
        raise SystemExit(f"seqgan evaluate failed:\n{ev.stderr}")
    m = json.loads(ev.stdout)
    return {"heldout_nll": m.get("heldout_nll"), "bigram_nll": m.get("bigram_heldout_nll"), **m["rule_metrics"]}


def run_words(args, work: Path) -> list[dict]:
    dictionary = set(DICTIONARY.read_text().split())
    rows = []
    for seed in range(args.seeds):
        train_words = {"".join(w) for w in training_part(WORDS, seed, chars=True)}
        folder = work / f"words-{seed}"
        extra = ["--max-steps", args.max_steps] if args.max_steps else []
        row = {"seed": seed, **train(folder, "--data", WORDS, "--chars", "--seed", seed, *extra, more=args.train_args)}
        out = seqgan("sample", folder, "-n", SAMPLES, "--seed", 1, cwd=work)
        gan = shares(out.stdout.splitlines(), train_words, dictionary)
        bigram = shares(bigram_samples(sorted(train_words), SAMPLES, seed), train_words, dictionary)
        row.update({f"gan_{k}": v for k, v in gan.items()})
        row.update({f"bigram_{k}": v for k, v in bigram.items()})
        row["ratio"] = gan["real_new"] / max(bigram["real_new"], 1e-9)
        row.update(evaluate(folder))
        rows.append(row)
    say("### words (`--chars`, web2 4-6 letters, 3000 lines)\n")
    say(table(rows, [("seed", "seed", ""), ("steps", "steps", ""), ("stop", "stop", ""), ("wall s", "wall_s", ".1f"),
                     ("copied (model)", "gan_copied", ".3f"), ("real new (model)", "gan_real_new", ".4f"),
                     ("copied (bigram)", "bigram_copied", ".3f"), ("real new (bigram)", "bigram_real_new", ".4f"),
                     ("ratio", "ratio", ".2f"), ("held-out NLL", "heldout_nll", ".3f"),
                     ("bigram NLL", "bigram_nll", ".3f")]))
    say(f"\nmedian ratio {statistics.median(r['ratio'] for r in rows):.2f} (target >= 3)\n")
    return rows


def make_csv(path: Path, rows: int = 500, seed: int = 0) -> None:
    """500 rows, 6 columns, with dependencies between columns (shipped as data/shop.csv)."""
    rng = random.Random(seed)
    products = {"tee": "clothing", "hoodie": "clothing", "mug": "kitchen", "plate": "kitchen",
                "lamp": "home", "rug": "home"}
    lines = ["region,product,category,size,price,channel"]
    for _ in range(rows):
        product = rng.choice(list(products))
        size = rng.choice(["S", "M", "L"])
        band = {"S": 0, "M": 1, "L": 2}[size] + (1 if products[product] == "home" else 0)
        price = ["low", "mid", "high", "premium"][band]
        lines.append(",".join([rng.choice(["north", "south", "east", "west"]), product, products[product], size,
                               price, rng.choice(["web", "shop", "phone"])]))
    path.write_text("\n".join(lines) + "\n")


def run_csv(args, work: Path) -> list[dict]:
    if not CSV.exists():
        make_csv(CSV)
    rows = []
    for seed in range(args.seeds):
        folder = work / f"csv-{seed}"
        extra = ["--max-steps", args.max_steps] if args.max_steps else []
        row = {"seed": seed, **train(folder, "--data", CSV, "--header", "--seed", seed, *extra, more=args.train_args),
               **evaluate(folder)}
        rows.append(row)
    say("### csv (500 rows x 6 columns, `--header`)\n")
    say(table(rows, [("seed", "seed", ""), ("steps", "steps", ""), ("stop", "stop", ""), ("wall s", "wall_s", ".1f"),
                     ("held-out NLL", "heldout_nll", ".3f"), ("bigram NLL", "bigram_nll", ".3f"),
                     ("copied", "copied", ".3f"), ("novel", "novel", ".3f"),
                     ("novel & in held-out", "novel_in_heldout", ".3f"),
                     ("nearest (median cells)", "nearest_hamming_median", ".1f"), ("learned", "learned", "")]))
    say(f"\nmedian wall {statistics.median(r['wall_s'] for r in rows):.1f} s (target <= 60 s)\n")
    return rows


def make_large(path: Path, n: int = 10_000, length: int = 20, types: int = 5000, seed: int = 0) -> None:
    """A sparse Markov chain: each type has 6 successors; starts and successors drawn with weights
    1 / sqrt(rank), flat enough that nearly all 5 000 types occur."""
    rng = random.Random(seed)
    weights = [1 / (i + 1) ** 0.5 for i in range(types)]
    succ = {t: rng.choices(range(types), weights=weights, k=6) for t in range(types)}
    lines = []
    for _ in range(n):
        t = rng.choices(range(types), weights=weights)[0]
        seq = [t]
        for _ in range(length - 1):
            t = rng.choices(succ[t], weights=[6, 5, 4, 3, 2, 1])[0]
            seq.append(t)
        lines.append(" ".join(f"t{x}" for x in seq))
    path.write_text("\n".join(lines) + "\n")


def add_arguments(parser) -> None:
    parser.add_argument("--no-fixed", action="store_true",
                        help="large: skip the fixed-schedule run (27 min a seed on 2 cores; README has its figure)")
    parser.add_argument("--train-args", default="",
                        help="extra `seqgan train` arguments for every data run, e.g. \"--set adversarial=true\"")


def run_large(args, work: Path) -> list[dict]:
    path = work / "large.txt"
    make_large(path)
    rows = []
    extra = ["--max-steps", args.max_steps] if args.max_steps else []
    variants = [("data run (held-out NLL)", [])]
    if not getattr(args, "no_fixed", False):
        variants.append(("fixed schedule", ["--set", "stop_on=distance", "--patience", "100000",
                                            *([] if extra else ["--max-steps", FIXED_STEPS])]))
    for seed in range(args.seeds):
        for variant, flags in variants:
            folder = work / f"large-{seed}-{'fixed' if flags else 'nll'}"
            row = {"variant": variant, "seed": seed,
                   **train(folder, "--data", path, "--seed", seed, *extra, *flags, more=args.train_args),
                   **evaluate(folder)}
            rows.append(row)
    say("### large (10 000 sequences x 20 tokens, 5 000 types)\n")
    say(table(rows, [("variant", "variant", ""), ("seed", "seed", ""), ("steps", "steps", ""), ("stop", "stop", ""),
                     ("wall s", "wall_s", ".1f"), ("held-out NLL", "heldout_nll", ".4f"),
                     ("bigram NLL", "bigram_nll", ".4f"), ("copied", "copied", ".3f"), ("novel", "novel", ".3f")]))
    return rows


def run(args) -> list[dict]:
    args.max_steps = getattr(args, "max_steps", None)
    args.train_args = getattr(args, "train_args", "")
    parts = {"words": run_words, "csv": run_csv, "large": run_large}
    chosen = args.only.split(",") if args.only else list(parts)
    work = Path(tempfile.mkdtemp(prefix="seqgan-bench-data-"))
    rows = []
    for name in chosen:
        rows += [{"part": name, **r} for r in parts[name](args, work)]
    return rows
