"""Does a discriminator correct a maximum-likelihood generator on the SeqGAN paper's oracle?
Discriminator rejection sampling as importance resampling (``seqgan drs``, models/drs.py) beside
the generator alone, on the same axes as the frontier: NLL_oracle (quality) against NLL_test
(coverage) of 2 000 fresh oracle samples.

For a finished data run trained on oracle samples (``benchmark.py frontier`` leaves them in its
folder), it fits a fresh CNN + highway discriminator against the run's final generator on the
run's own training file (``--d-steps`` steps of 64 + 64; no oracle sample is shown to D), then for
each proposal temperature T and candidate count k draws ``--samples`` sequences and scores them
with the oracle; NLL_test of the resampled distribution is the generator's NLL at T minus
``log_correction`` (models/drs.py: ``q_k(x) = k p(x) w(x) E[1/(w(x) + S)]``, the expectation over
``--pool`` of G's own samples at T). k = 1 is the generator alone.

    python benchmarks/bench_drs.py --runs FOLDER/seed-0,FOLDER/seed-1,FOLDER/seed-2 --train FOLDER/oracle_train.txt

Writes ``benchmarks/results/drs.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

from common import RESULTS, interpolate, say, table, write_results
from seqgan_core.io.drs import final_models
from seqgan_core.models.drs import fit_discriminator, log_correction
from seqgan_core.api import load_target
from seqgan_core.rules.frontier import TEST_SEED, TEST_SIZE

SAMPLE_SEED = 12_345
GOAL = 0.15  # nats of NLL_oracle below maximum likelihood's curve at the same NLL_test (the goal)


def encode_file(path: Path, vocab: list[str], unk: str | None) -> torch.Tensor:
    index = {t: i for i, t in enumerate(vocab)}
    other = index.get(unk) if unk is not None else None
    rows = [[index.get(t, other) for t in line.split()] for line in path.read_text().splitlines() if line.strip()]
    return torch.tensor(rows, dtype=torch.long)  # (N, L)


def token_log_probs(generator, seqs: torch.Tensor, temperature: float) -> torch.Tensor:
    """log p_T(x) per sequence ``(n,)``, in chunks."""
    out = []
    with torch.no_grad():
        for chunk in seqs.split(1000):
            logp = (generator.teacher_forced_logits(chunk) / temperature).log_softmax(-1)  # (c, L, V)
            out.append(logp.gather(-1, chunk.unsqueeze(-1)).squeeze(-1).double().sum(1))
    return torch.cat(out)


def d_logits(discriminator, seqs: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return torch.cat([discriminator.score_indices(c).squeeze(1) for c in seqs.split(2000)]).double()


def draw(generator, n: int, temperature: float) -> torch.Tensor:
    with torch.no_grad():
        return torch.cat([generator.sample(min(2000, n - i), temperature) for i in range(0, n, 2000)])


def measure(run: Path, train_file: Path, rule, args) -> tuple[list[dict], dict]:
    """One run: fit D against its final generator, then every (T, k) point."""
    generator, discriminator, meta = final_models(run)
    generator.eval()
    vocab = [str(t) for t in meta["vocab"]]
    train = encode_file(train_file, vocab, meta.get("unk"))
    index = {str(t): i for i, t in enumerate(rule.vocab)}
    to_oracle = torch.tensor([index.get(t, 0) for t in vocab])  # (V_model,) oracle index; <unk> is never drawn
    fresh = rule.heldout_checked(TEST_SIZE, torch.Generator().manual_seed(TEST_SEED))  # (2000, L) oracle indices
    back = {int(o): i for i, (t, o) in enumerate(zip(vocab, to_oracle.tolist())) if t in index}
    unk = vocab.index(meta["unk"]) if meta.get("unk") in vocab else None
    rows = [[back.get(int(t), unk) for t in row] for row in fresh.tolist()]
    test = torch.tensor([r for r in rows if None not in r])  # a run without <unk> leaves unseen tokens out

    g = torch.Generator().manual_seed(args.seed)
    real = lambda n: train[torch.randint(len(train), (n,), generator=g)]  # noqa: E731
    torch.manual_seed(args.seed)
    losses = fit_discriminator(discriminator, generator, real, args.d_steps)
    fake = draw(generator, TEST_SIZE, 1.0)
    held = {"run": str(run), "d_loss_last_100": round(sum(losses[-100:]) / max(1, len(losses[-100:])), 4),
            "d_mean_logit_fresh_real": round(float(d_logits(discriminator, test).mean()), 3),
            "d_mean_logit_train_real": round(float(d_logits(discriminator, train[:TEST_SIZE]).mean()), 3),
            "d_mean_logit_generated": round(float(d_logits(discriminator, fake).mean()), 3),
            "test_scored": len(test)}
    say(f"{run}: D after {args.d_steps} steps: {json.dumps(held)}")
    points = []
    L = train.shape[1]
    for T in [float(t) for t in args.temps.split(",")]:
        torch.manual_seed(args.seed + 1)
        pool = d_logits(discriminator, draw(generator, args.pool, T))  # (P,)
        test_lp = token_log_probs(generator, test, T)  # (m,)
        test_logit = d_logits(discriminator, test)
        for k in [int(v) for v in args.ks.split(",")]:
            torch.manual_seed(SAMPLE_SEED)
            cand = draw(generator, args.samples * k, T).view(k, args.samples, L)  # (k, n, L)
            if k > 1:
                w = d_logits(discriminator, cand.reshape(-1, L)).view(k, args.samples).t()  # (n, k)
                pick = torch.multinomial(w.softmax(1).float(), 1).squeeze(1)
                samples = cand[pick, torch.arange(args.samples)]
            else:
                samples = cand[0]
            corr = log_correction(test_logit, pool, k, generator=torch.Generator().manual_seed(7))
            points.append({"run": run.name, "temperature": T, "k": k,
                           "nll_oracle": round(float(rule.oracle.nll(to_oracle[samples])), 4),
                           "nll_test": round(float(-(test_lp + corr).mean() / L), 4),
                           "distinct": round(len({tuple(r) for r in samples.tolist()}) / len(samples), 4)})
            say(json.dumps(points[-1]))
    return points, held


def against_generator(points: list[dict]) -> list[dict]:
    """Each corrected point (k > 1) against its own run's uncorrected curve (k = 1 over T) at the
    same NLL_test: the NLL_oracle the generator alone has there, and the gain (positive: DRS better);
    the median over runs per (T, k)."""
    rows = []
    keys = sorted({(p["temperature"], p["k"]) for p in points if p["k"] > 1}, key=lambda tk: (tk[1], -tk[0]))
    for T, k in keys:
        gains, tests = [], []
        for p in (q for q in points if (q["temperature"], q["k"]) == (T, k)):
            base = interpolate([q for q in points if q["run"] == p["run"] and q["k"] == 1], p["nll_test"])
            if base is not None:
                gains.append(base - p["nll_oracle"])
                tests.append(p["nll_test"])
        runs = sum(1 for q in points if (q["temperature"], q["k"]) == (T, k))
        rows.append({"k": k, "temperature": T, "runs_compared": f"{len(gains)} of {runs}",
                     "median_nll_test": round(statistics.median(tests), 3) if tests else None,
                     "median_gain": round(statistics.median(gains), 3) if gains else None,
                     "smallest_gain": round(min(gains), 3) if gains else None,
                     "goal_met": bool(gains) and len(gains) == runs and statistics.median(gains) >= GOAL
                     and min(gains) > 0})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", default="",
                        help="finished data runs trained on oracle samples, comma-separated (one per seed)")
    parser.add_argument("--train", type=Path, help="the file they were trained on (D's real data)")
    parser.add_argument("--merge", default="", metavar="NAME,NAME",
                        help="measure nothing: combine results/NAME.json files of earlier invocations (one run each)")
    parser.add_argument("--oracle", default="seqgan-oracle", help="the rule whose oracle scores the samples")
    parser.add_argument("--d-steps", type=int, default=2000, help="discriminator steps against each generator")
    parser.add_argument("--temps", default="1.1,1.0,0.9,0.8,0.7", help="proposal temperatures")
    parser.add_argument("--ks", default="1,8", help="candidates per sample (1 = the generator alone)")
    parser.add_argument("--samples", type=int, default=1000, help="samples behind each NLL_oracle")
    parser.add_argument("--pool", type=int, default=10_000, help="G's samples behind each NLL_test correction")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--name", default="drs", help="results/NAME.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    points, discriminators, commands = [], [], []
    for name in [n for n in args.merge.split(",") if n]:
        earlier = json.loads((RESULTS / f"{name}.json").read_text())
        tables = {t["title"]: t["rows"] for t in earlier["figures"]["tables"]}
        points += tables["Every point"]
        discriminators += tables["The discriminators"]
        commands.append(earlier["command"])
    if args.runs:
        if args.train is None:
            raise SystemExit("bench_drs: --runs needs --train, the file the runs were trained on")
        rule = load_target(args.oracle).rule
        for run in [Path(r) for r in args.runs.split(",") if r]:
            p, d = measure(run, args.train, rule, args)
            points += p
            discriminators.append(d)
    if not points:
        raise SystemExit("bench_drs: nothing to measure; give --runs (and --train) or --merge")
    compared = against_generator(points)
    say(table(compared, [("k", "k", "d"), ("T", "temperature", "g"), ("NLL_test", "median_nll_test", ""),
                         ("median gain", "median_gain", ""), ("smallest", "smallest_gain", ""),
                         ("goal", "goal_met", "")]))
    cols = lambda keys: [{"key": k, "label": label} for k, label in keys]  # noqa: E731
    figures = {"tables": [
        {"title": "Corrected against uncorrected, at the same NLL_test",
         "note": f"Gain: the generator alone's NLL_oracle at the corrected point's NLL_test (its own run's k = 1 "
                 f"curve, interpolated) minus the corrected point's. The goal: a median gain of at least {GOAL} "
                 "nats with every run's gain positive.",
         "columns": cols([("k", "k"), ("temperature", "T"), ("runs_compared", "runs compared"),
                          ("median_nll_test", "median NLL_test"), ("median_gain", "median gain (nats)"),
                          ("smallest_gain", "smallest gain"), ("goal_met", "goal met")]),
         "rows": compared},
        {"title": "Every point",
         "columns": cols([("run", "run"), ("temperature", "T"), ("k", "k"), ("nll_oracle", "NLL_oracle"),
                          ("nll_test", "NLL_test"), ("distinct", "distinct")]),
         "rows": points},
        {"title": "The discriminators",
         "note": "Mean log-odds of 'real' D gives fresh oracle samples (never shown to it), the training file's "
                 "sequences and the generator's own samples.",
         "columns": cols([("run", "run"), ("d_loss_last_100", "D loss, last 100 steps"),
                          ("d_mean_logit_fresh_real", "fresh real"), ("d_mean_logit_train_real", "training real"),
                          ("d_mean_logit_generated", "generated"), ("test_scored", "test sequences scored")]),
         "rows": discriminators},
    ]}
    command = "; ".join(commands + ([" ".join(["python", "benchmarks/bench_drs.py", *sys.argv[1:]])]
                                    if args.runs else []))
    write_results(args.name, command, figures, seconds=round(time.perf_counter() - started, 1))


if __name__ == "__main__":
    main()
