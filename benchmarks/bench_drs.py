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

    python benchmarks/bench_drs.py --run FOLDER/seed-0 --train FOLDER/oracle_train.txt [--ks 1,4,16]

Writes ``benchmarks/results/drs.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from common import RESULTS, machine, say, table, write_results
from seqgan_core.io.drs import final_models
from seqgan_core.models.drs import fit_discriminator, log_correction
from seqgan_core.api import load_target
from seqgan_core.rules.frontier import TEST_SEED, TEST_SIZE

SAMPLE_SEED = 12_345


def encode_file(path: Path, vocab: list[str]) -> torch.Tensor:
    index = {t: i for i, t in enumerate(vocab)}
    rows = [[index[t] for t in line.split()] for line in path.read_text().splitlines() if line.strip()]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, required=True, help="a finished data run trained on oracle samples")
    parser.add_argument("--train", type=Path, required=True, help="the file it was trained on (D's real data)")
    parser.add_argument("--oracle", default="seqgan-oracle", help="the rule whose oracle scores the samples")
    parser.add_argument("--d-steps", type=int, default=2000, help="discriminator steps against the generator")
    parser.add_argument("--temps", default="1.0,0.9,0.8", help="proposal temperatures")
    parser.add_argument("--ks", default="1,4,16", help="candidates per sample (1 = the generator alone)")
    parser.add_argument("--samples", type=int, default=2000, help="samples behind each NLL_oracle")
    parser.add_argument("--pool", type=int, default=10_000, help="G's samples behind each NLL_test correction")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--name", default="drs", help="results/NAME.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    started = time.perf_counter()

    generator, discriminator, meta = final_models(args.run)
    generator.eval()
    vocab = [str(t) for t in meta["vocab"]]
    train = encode_file(args.train, vocab)
    rule = load_target(args.oracle).rule
    index = {str(t): i for i, t in enumerate(rule.vocab)}
    to_oracle = torch.tensor([index[t] for t in vocab])  # (V_model,) the oracle's index of each model token
    fresh = rule.heldout_checked(TEST_SIZE, torch.Generator().manual_seed(TEST_SEED))  # (2000, L) oracle indices
    back = {int(o): i for i, o in enumerate(to_oracle.tolist())}
    test = torch.tensor([[back[int(t)] for t in row] for row in fresh.tolist() if all(int(t) in back for t in row)])

    g = torch.Generator().manual_seed(args.seed)
    real = lambda n: train[torch.randint(len(train), (n,), generator=g)]  # noqa: E731
    losses = fit_discriminator(discriminator, generator, real, args.d_steps)
    fake = draw(generator, TEST_SIZE, 1.0)
    held = {"d_loss_last_100": sum(losses[-100:]) / max(1, len(losses[-100:])),
            "d_mean_logit_fresh_real": float(d_logits(discriminator, test).mean()),
            "d_mean_logit_train_real": float(d_logits(discriminator, train[:TEST_SIZE]).mean()),
            "d_mean_logit_fake": float(d_logits(discriminator, fake).mean())}
    say(f"D after {args.d_steps} steps: {json.dumps({k: round(v, 3) for k, v in held.items()})}")

    rows = []
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
            nll_oracle = float(rule.oracle.nll(to_oracle[samples]))
            corr = log_correction(test_logit, pool, k, generator=torch.Generator().manual_seed(7))
            nll_test = float(-(test_lp + corr).mean() / L)
            rows.append({"temperature": T, "k": k, "nll_oracle": round(nll_oracle, 4), "nll_test": round(nll_test, 4),
                         "distinct": round(len({tuple(r) for r in samples.tolist()}) / len(samples), 4)})
            say(json.dumps(rows[-1]))
    say(table(rows, [("T", "temperature", "g"), ("k", "k", "d"), ("NLL_oracle", "nll_oracle", ".3f"),
                     ("NLL_test", "nll_test", ".3f"), ("distinct", "distinct", ".3f")]))
    command = " ".join(["python", "benchmarks/bench_drs.py", *sys.argv[1:]])
    write_results(args.name, command, {"points": rows, "discriminator": held, "d_steps": args.d_steps,
                                       "seconds": round(time.perf_counter() - started, 1)})


if __name__ == "__main__":
    main()
