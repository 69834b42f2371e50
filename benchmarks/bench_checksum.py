"""`benchmark.py checksum`: can the default generator learn a check digit by maximum likelihood at
all, given far more steps than the preset's budget? The suite's ``checksum`` rule is the one rule
no run learns (README, "The rule suite"); this section says whether that is the budget or the task.

Real data: nine digits drawn uniformly, then a check digit that makes the sum of the first K of them
plus itself a multiple of 10 (K = 9 is the suite's ``checksum`` rule; K = 1 copies a digit back).
The generator is the autoregressive preset's GRU (embed 32, hidden 128, the seen term), or the
``transformer`` preset's, trained on fresh real batches of 256 with Adam at the preset's
maximum-likelihood learning rate, one thread, no early stopping. Printed every ``--every`` steps:
the check digit's cross-entropy (chance is ln 10 = 2.303 nats; 0 is a model that knows it).

    python benchmarks/benchmark.py checksum [--only 1,2,3,9] [--model gru|transformer] [--max-steps 15000]

No digit short of all K says anything about the check digit (each is uniform given any K - 1 of
them), so a gradient sees no partial credit: the parity case of Shalev-Shwartz et al., "Failures of
gradient-based deep learning" (2017).
"""

from __future__ import annotations

import math
import time

import torch

from common import say

STEPS = 15_000
BATCH = 256


def add_arguments(parser) -> None:
    parser.add_argument("--model", choices=["gru", "transformer"], default="gru")
    parser.add_argument("--every", type=int, default=1000, help="steps between printed checks")


def sample(n: int, k: int, generator: torch.Generator) -> torch.Tensor:
    """(n, 10): nine uniform digits, then the one making digits 0..k-1 plus itself sum to 0 mod 10."""
    head = torch.randint(10, (n, 9), generator=generator)  # (n, 9)
    check = (-head[:, :k].sum(-1, keepdim=True)) % 10  # (n, 1)
    return torch.cat([head, check], dim=-1)


def make_model(name: str) -> tuple[torch.nn.Module, float]:
    from seqgan_core.models.gru import GRUGenerator
    from seqgan_core.models.transformer import TransformerGenerator
    from seqgan_core.engine.presets import get_preset

    options = get_preset("autoregressive" if name == "gru" else "transformer").options
    if name == "gru":
        model = GRUGenerator(10, 10, GRUGenerator.Options(**options["generator_options"]))
    else:
        model = TransformerGenerator(10, 10, TransformerGenerator.Options(**options["generator_options"]))
    return model, options["pretrain_lr"]


def probe(k: int, seed: int, model_name: str, steps: int, every: int) -> dict:
    torch.manual_seed(seed)
    data = torch.Generator().manual_seed(1000 + seed)
    model, lr = make_model(model_name)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    test = sample(4096, k, torch.Generator().manual_seed(10_000 + seed))
    curve, start = [], time.perf_counter()
    for step in range(1, steps + 1):
        loss = model.nll(sample(BATCH, k, data))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % every == 0 or step == steps:
            with torch.no_grad():
                check_ce = -model.token_log_probs(test)[:, -1].mean().item()
            curve.append((step, check_ce))
            say(f"  K={k} seed {seed} step {step}: check digit {check_ce:.3f} nats "
                f"(chance {math.log(10):.3f}), {time.perf_counter() - start:.0f} s")
    with torch.no_grad():
        seqs = model.sample(10_000)  # (10 000, 10)
        valid = (seqs[:, :k].sum(-1) + seqs[:, -1]) % 10 == 0  # (10 000,)
    return dict(k=k, seed=seed, model=model_name, steps=steps, curve=curve, final_ce=curve[-1][1],
                first_below_half=next((s for s, ce in curve if ce < 0.5 * math.log(10)), None),
                validity=valid.float().mean().item(),
                wall_s=time.perf_counter() - start)


def run(args) -> list[dict]:
    torch.set_num_threads(1)
    ks = [int(k) for k in (args.only or "9").split(",")]
    steps = args.max_steps or STEPS
    rows = [probe(k, seed, args.model, steps, args.every) for k in ks for seed in range(args.seeds)]
    say(f"\n{args.model}, maximum likelihood, batch {BATCH}, {steps} steps, one thread\n")
    say("| digits in the check (K) | seed | check digit CE at the end (chance 2.303) | first check below half of chance | validity (chance 10 %) | wall s |")
    say("|---|---|---|---|---|---|")
    for r in rows:
        first = r["first_below_half"]
        say(f"| {r['k']} | {r['seed']} | {r['final_ce']:.3f} | {first if first else 'never'} | {r['validity']:.2%} | {r['wall_s']:.0f} |")
    return rows
