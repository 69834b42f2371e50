"""How every generator family scales with the vocabulary V and the length L: sequences per second
of an adversarial generator step (straight-through Gumbel-softmax sequences, backward), of a
maximum-likelihood step (autoregressive families), and of sampling; and peak memory.

    python benchmarks/benchmark.py scaling [--vocab 1000,10000,50000] [--lengths 20,128] [--batch 16]

Each point runs in a fresh subprocess (``--point``), so its peak RSS (``ru_maxrss``) is its own;
"peak MB" is the process's peak minus its RSS after importing torch and seqgan, i.e. what the
model, its optimiser state and one step's activations cost. One torch thread per point, so that
points compare on a shared machine; models are the presets' own sizes (gru: embed 32, hidden 128;
transformer, mlp and marginals: their defaults). Memory per token type: the growth of the peak from the
smallest to the largest V at the shortest L, divided by the V added.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from common import note, say, table

FAMILIES = {"marginals": {}, "mlp": {}, "gru": {"embed": 32, "hidden": 128}, "transformer": {}}


def add_arguments(parser) -> None:
    parser.add_argument("--vocab", default="1000,10000,50000", help="vocabulary sizes")
    parser.add_argument("--lengths", default="20,128", help="sequence lengths")
    parser.add_argument("--batch", type=int, default=16, help="sequences per step (default 16)")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per point, after one warm-up")
    parser.add_argument("--families", default=",".join(FAMILIES), help="generator families")


def rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure(family: str, vocab: int, length: int, batch: int, steps: int) -> dict:
    """One point, in this process: the figures of ``family`` at (V, L)."""
    import torch

    from seqgan_core.models import AutoregressiveGenerator
    from seqgan_core.plugins.registry import GENERATORS

    torch.set_num_threads(1)
    base = current_rss_mb()
    torch.manual_seed(0)
    cls = GENERATORS[family]
    gen = cls(vocab, length, cls.Options(**FAMILIES[family]))
    params = sum(p.numel() for p in gen.parameters())
    weights = torch.linspace(0, 1, vocab)

    def sgd(loss):  # state-free: memory is the model and the step's activations
        gen.zero_grad(set_to_none=True)
        loss.backward()
        with torch.no_grad():
            for p in gen.parameters():
                if p.grad is not None:
                    p.add_(p.grad, alpha=-1e-3)

    def adversarial():
        onehots, _ = gen.generate(batch)  # (B, L, V)
        sgd((onehots * weights).mean())  # any loss that reaches every one-hot

    real = torch.randint(vocab, (batch, length))

    def mle():
        sgd(gen.nll(real))

    def timed(fn) -> float:
        fn()  # warm-up
        start = time.perf_counter()
        for _ in range(steps):
            fn()
        return batch * steps / (time.perf_counter() - start)

    out = {"family": family, "V": vocab, "L": length, "params_m": params / 1e6, "adv_seq_s": timed(adversarial)}
    if isinstance(gen, AutoregressiveGenerator):
        out["mle_seq_s"] = timed(mle)
    with torch.no_grad():
        out["sample_seq_s"] = timed(lambda: gen.sample(batch))
    out["peak_mb"] = rss_mb() - base
    return out


def run_point(family: str, vocab: int, length: int, batch: int, steps: int) -> dict:
    point = f"{family},{vocab},{length},{batch},{steps}"
    cmd = [sys.executable, str(Path(__file__).resolve()), point]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800,
                              env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "PYTHONWARNINGS": "ignore"})
    except subprocess.TimeoutExpired:
        return {"family": family, "V": vocab, "L": length, "note": "timed out (30 min)"}
    if done.returncode:
        return {"family": family, "V": vocab, "L": length, "note": f"failed: {done.stderr.strip().splitlines()[-1:]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(args) -> list[dict]:
    vocabs = [int(v) for v in args.vocab.split(",")]
    lengths = [int(v) for v in args.lengths.split(",")]
    say(f"batch {args.batch}, {args.steps} timed steps per point, 1 torch thread, each point a fresh process; "
        "plain SGD (no optimiser state). The machine was shared and loaded: rates are lower bounds.\n")
    rows = []
    for family in args.families.split(","):
        for length in lengths:
            for vocab in vocabs:
                rows.append(run_point(family, vocab, length, args.batch, args.steps))
                note(f"scaling: {rows[-1]}")
    say(table(rows, [("family", "family", ""), ("V", "V", ""), ("L", "L", ""), ("params M", "params_m", ".2f"),
                     ("adversarial seq/s", "adv_seq_s", ".1f"), ("MLE seq/s", "mle_seq_s", ".1f"),
                     ("sample seq/s", "sample_seq_s", ".0f"), ("peak MB", "peak_mb", ".0f"), ("note", "note", "")]))
    say()
    for family in args.families.split(","):
        pts = [r for r in rows if r["family"] == family and r["L"] == min(lengths) and "peak_mb" in r]
        if len(pts) >= 2:
            lo, hi = min(pts, key=lambda r: r["V"]), max(pts, key=lambda r: r["V"])
            per = (hi["peak_mb"] - lo["peak_mb"]) * 1024 / (hi["V"] - lo["V"])
            say(f"- {family}: {per:.1f} KiB per token type (L = {min(lengths)}, batch {args.batch}: "
                f"peak {lo['peak_mb']:.0f} MB at V = {lo['V']}, {hi['peak_mb']:.0f} MB at V = {hi['V']})")
    return rows


if __name__ == "__main__":  # one point: FAMILY,V,L,BATCH,STEPS -> one JSON line
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    family, vocab, length, batch, steps = sys.argv[1].split(",")
    print(json.dumps(measure(family, int(vocab), int(length), int(batch), int(steps))))
