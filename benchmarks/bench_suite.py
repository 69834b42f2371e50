"""`benchmark.py suite`: plain `seqgan train --rule NAME` on every rule of the suite.

No preset, no per-rule setting: what seqgan chooses from the rule itself is what is measured.
Beside each autoregressive run, maximum likelihood alone with the same model and the same number
of steps (``--set adversarial=false``), so a reader sees what the adversarial phase adds — or
does not. Rules with independent positions train a generator without a likelihood: no MLE
column there. Every figure is on 10 000 samples from the saved generator (``seqgan evaluate``).

Targets (issue "One engine for every rule", medians of the seeds): validity >= 99 % (or real
data's own rate), distinct-sequence ratio >= 0.9 x real data's, pooled token TV <= 0.05, wall
<= 120 s per rule and <= 20 s for rules with independent positions.
"""

from __future__ import annotations

import shlex
import statistics
from concurrent.futures import ThreadPoolExecutor

from common import median_row, note, say, table, train_and_evaluate
from suite import SUITE

COLUMNS = [
    ("rule", "rule", ""), ("family", "family", ""), ("chosen", "preset", ""), ("seed", "seed", ""),
    ("steps", "steps", ""), ("wall s", "wall_s", ".1f"), ("validity", "validity", ".2%"),
    ("real", "real_validity", ".0%"), ("distinct / real's", "unique_vs_real", ".2f"), ("TV", "tv", ".3f"),
    ("sampler", "sampler", ""), ("verdict", "verdict_word", ""),
    ("MLE validity", "mle_validity", ".2%"), ("MLE distinct / real's", "mle_unique_vs_real", ".2f"),
    ("MLE TV", "mle_tv", ".3f"), ("MLE sampler", "mle_sampler", ""), ("MLE wall s", "mle_wall_s", ".1f"),
]
KEYS = ["steps", "wall_s", "validity", "real_validity", "unique_vs_real", "tv"]
MLE_KEYS = ["mle_validity", "mle_unique_vs_real", "mle_tv", "mle_wall_s"]


def _unique_vs_real(row: dict) -> float:
    return row["unique_ratio"] / max(row["real_unique_ratio"], 1e-12)


def add_arguments(parser) -> None:
    parser.add_argument("--train-args", default="",
                        help="more `seqgan train` flags for every run, e.g. '--preset transformer' (no longer plain)")
    parser.add_argument("--mle-only", type=int, default=None, metavar="STEPS",
                        help="train only maximum likelihood, STEPS steps, no GAN run (rules with a likelihood)")


def mle_only(rule: str, seed: int, steps: int, extra: list, preset: list) -> dict:
    """Maximum likelihood alone for exactly ``steps`` steps (no plateau stop, no adversarial phase)."""
    return train_and_evaluate(["--rule", rule, "--seed", seed, *preset, "--set", "adversarial=false",
                               "--pretrain-steps", steps, "--max-steps", steps, "--patience", 10**9, *extra])


def sampler(result: dict) -> str:
    """How the saved model samples (seqgan_core/temperature.py): "as trained", "min-p 0.03", ..."""
    t, m = result.get("temperature", 1.0), result.get("min_p", 0.0)
    parts = ([f"T {t:g}"] if t != 1.0 else []) + ([f"min-p {m:g}"] if m else [])
    return ", ".join(parts) or "as trained"


def _row(rule: str, family: str, seed: int, result: dict) -> dict:
    learned = result["verdict"]["learned"]
    return {"rule": rule, "family": family, "seed": seed, **result, "unique_vs_real": _unique_vs_real(result),
            "learned": learned, "verdict_word": "learned" if learned else "NOT", "sampler": sampler(result)}


def one_rule(rule: str, family: str, seed: int, extra: list = (), only_mle: int | None = None) -> dict:
    extra = list(extra)
    if only_mle:
        mle = mle_only(rule, seed, only_mle, extra, [])
        row = _row(rule, family, seed, mle)
        note(f"  {rule} seed {seed}: MLE only, {mle['preset']}, {mle['steps']} steps, {mle['wall_s']:.0f} s, "
             f"validity {mle['validity']:.4f}, {mle['verdict']['line']}")
        return row
    gan = train_and_evaluate(["--rule", rule, "--seed", seed, *extra])
    row = _row(rule, family, seed, gan)
    if gan["preset"] != "independent":  # the same model, by maximum likelihood alone
        mle = mle_only(rule, seed, gan["steps"], extra, ["--preset", gan["preset"]])
        row.update(mle_validity=mle["validity"], mle_unique_vs_real=_unique_vs_real(mle), mle_tv=mle["tv"],
                   mle_wall_s=mle["wall_s"], mle_steps=mle["steps"], mle_sampler=sampler(mle))
    note(f"  {rule} seed {seed}: {gan['preset']}, {gan['steps']} steps, {gan['wall_s']:.0f} s, "
         f"validity {gan['validity']:.4f}, {gan['verdict']['line']}")
    return row


def targets(m: dict) -> list[tuple[str, bool]]:
    need = min(0.99, m["real_validity"] - 0.01)
    limit = 20 if m["preset"] == "independent" else 120
    return [("validity", m["validity"] >= need), ("distinct", m["unique_vs_real"] >= 0.9),
            ("TV", m["tv"] <= 0.05), (f"time <= {limit} s", m["wall_s"] <= limit)]


def run(args) -> list[dict]:
    suite = [(r, f) for r, f in SUITE if not args.only or r in args.only.split(",")]
    extra = shlex.split(args.train_args)
    plain = "plain " if not extra else ""
    what = f"maximum likelihood alone, {args.mle_only} steps" if args.mle_only else f"{plain}`seqgan train --rule NAME`"
    say(f"## suite: {what}{' ' + ' '.join(extra) if extra else ''}, seeds 0-{args.seeds - 1}\n")
    tasks = [(rule, family, seed, extra, args.mle_only) for rule, family in suite for seed in range(args.seeds)]
    if args.jobs > 1:
        say(f"({args.jobs} training runs at once: wall times are those of a machine running another training)\n")
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:  # each task is whole processes
        rows = list(pool.map(lambda task: one_rule(*task), tasks))
    say(table(rows, COLUMNS))
    medians = []
    for rule, family in suite:
        mine = [r for r in rows if r["rule"] == rule]
        m = median_row(mine, KEYS, rule=rule, family=family, seed="median", preset=mine[0]["preset"])
        if "mle_validity" in mine[0]:
            m.update(median_row(mine, MLE_KEYS))
        learned = sum(r["learned"] for r in mine)
        m["verdict_word"] = f"{learned}/{len(mine)} learned"
        m["targets"] = ", ".join(f"{name} {'met' if ok else 'MISSED'}" for name, ok in targets(m))
        medians.append(m)
    say("\nMedians over seeds:\n")
    say(table(medians, COLUMNS))
    say("\nTargets (medians):\n")
    say(table(medians, [("rule", "rule", ""), ("targets", "targets", "")]))
    met = sum(all(ok for _, ok in targets(m)) for m in medians)
    say(f"\n{met} of {len(medians)} rules meet every target; "
        f"median wall {statistics.median(m['wall_s'] for m in medians):.0f} s.")
    return rows
