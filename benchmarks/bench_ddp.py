"""`benchmark.py ddp`: data-parallel training (gloo, CPU), 1 process against 2.

1. **Throughput and communication** (``--only probe``): the autoregressive preset's GRU generator
   and CNN discriminator, with a wider GRU (hidden 512) so that a step has real work, 128
   sequences per process, adversarial steps. Sequences/s of 1 process (1 thread, then 2 threads)
   and of 2 processes x 1 thread (the global batch doubles: weak scaling), and what one step
   sends: the all-reduce of G's gradients, of D's, and the end-of-step agreement, each timed
   alone on the same process group. From the compute/communication ratio, what N GPUs would give.
2. **Wall to the same quality** (``--only runs``, or ``rule`` / ``data`` for one half): ``seqgan train --rule palindrome`` and a
   ``--data`` file (a word list made here, ``--chars``) with 1 process and with ``--nproc 2`` (the
   preset's batch per process), over ``--seeds`` seeds: wall, steps, validity, verdict; then
   ``seqgan sample`` on the 2-process run folder.

On a machine with 2 cores, 2 processes can only show a speed-up when nothing else runs; the load
average at start is printed with the machine line.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import BENCH, note, say, seqgan, table, train_and_evaluate
from common import run as run_process

PROBE_HIDDEN = 512  # GRU width: enough arithmetic per step that communication is not everything
PROBE_BATCH = 128  # sequences per process and step
PROBE_STEPS = 30  # timed steps (after 3 warm-up steps)


def probe(out: str, threads: int) -> None:
    """One rank of the throughput probe (run by torchrun, or alone)."""
    import torch
    import torch.distributed as dist

    from seqgan_core.runtime import distributed
    from seqgan_core.plugins.manager import get_plugin_manager, load_rules
    from seqgan_core.engine.presets import preset_config
    from seqgan_core.engine.training import Trainer

    torch.set_num_threads(threads)
    ctx = distributed.setup("cpu")
    rule = load_rules(get_plugin_manager(entry_points=False))["palindrome"]
    config = preset_config("autoregressive", pretrain_steps=0, d_warmup=0, batch_size=PROBE_BATCH,
                           device="cpu", threads=threads, **{"generator.hidden": PROBE_HIDDEN})
    trainer = Trainer(rule, config)
    recipe = trainer.recipe
    for i in range(3):
        recipe.step(trainer.real, i + 1)
    distributed.agree([0])
    started = time.perf_counter()
    for i in range(PROBE_STEPS):
        recipe.step(trainer.real, i + 4)
        distributed.agree([0, 0, 0, 0])
    step_s = (time.perf_counter() - started) / PROBE_STEPS
    sizes = {name: sum(p.numel() for p in module.parameters()) for name, module in
             (("G", recipe.generator), ("D", recipe.discriminator))}
    comm = {}
    if ctx is not None:
        for name, n in sizes.items():
            flat = torch.zeros(n)
            dist.all_reduce(flat)
            started = time.perf_counter()
            for _ in range(PROBE_STEPS):
                dist.all_reduce(flat)
            comm[name] = (time.perf_counter() - started) / PROBE_STEPS
        started = time.perf_counter()
        for _ in range(PROBE_STEPS):
            distributed.agree([0, 0, 0, 0])
        comm["agree"] = (time.perf_counter() - started) / PROBE_STEPS
    ranks = ctx.world_size if ctx else 1
    if distributed.is_writer():
        Path(out).write_text(json.dumps({"processes": ranks, "threads": threads, "step_s": step_s,
                                         "seq_per_s": ranks * PROBE_BATCH / step_s, "params": sizes, "comm": comm}))
    distributed.teardown()


def _probe_row(processes: int, threads: int) -> dict:
    out = Path(tempfile.mkdtemp(prefix="ddp-probe-")) / "probe.json"
    me = [str(Path(__file__).resolve()), "--probe", str(out), str(threads)]
    if processes == 1:
        done = run_process([sys.executable, *me], env={"OMP_NUM_THREADS": str(threads), "PYTHONPATH": str(BENCH)})
    else:
        done = run_process([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
                    str(processes), *me], env={"OMP_NUM_THREADS": str(threads), "PYTHONPATH": str(BENCH)})
    if done.returncode:
        raise SystemExit(f"probe failed:\n{done.stderr}")
    row = json.loads(out.read_text())
    note(f"  {processes} process(es) x {threads} thread(s): {row['seq_per_s']:.0f} seq/s")
    return row


def _throughput() -> list[dict]:
    rows = [_probe_row(1, 1), _probe_row(1, 2), _probe_row(2, 1)]
    for r in rows:
        r["setup"] = f"{r['processes']} process(es) x {r['threads']} thread(s)"
        r["global_batch"] = r["processes"] * PROBE_BATCH
        r["step_ms"] = 1000 * r["step_s"]
        r["speedup"] = r["seq_per_s"] / rows[0]["seq_per_s"]
    say(f"\n### Throughput: GRU generator (hidden {PROBE_HIDDEN}, {rows[0]['params']['G']:,} parameters) and CNN "
        f"discriminator ({rows[0]['params']['D']:,}), {PROBE_BATCH} sequences per process, adversarial steps\n")
    say(table(rows, [("setup", "setup", ""), ("global batch", "global_batch", ""), ("ms / step", "step_ms", ".1f"),
                     ("sequences/s", "seq_per_s", ".0f"), ("x 1 process, 1 thread", "speedup", ".2f")]))
    two = rows[2]
    comm_ms = {k: 1000 * v for k, v in two["comm"].items()}
    total = sum(comm_ms.values())
    share = total / two["step_ms"]
    say(f"\nPer step, 2 processes (gloo, one machine): all-reduce of G's gradients {comm_ms['G']:.2f} ms, of D's "
        f"{comm_ms['D']:.2f} ms, end-of-step agreement {comm_ms['agree']:.3f} ms: {total:.2f} ms in all, "
        f"{share:.1%} of a {two['step_ms']:.1f} ms step.")
    mb = 4 * (two["params"]["G"] + two["params"]["D"]) / 2**20
    say(f"\nOn N GPUs: a step sends {mb:.1f} MiB of fp32 gradients; a ring all-reduce moves about "
        f"2(N-1)/N of that per GPU, so communication per step stays roughly constant as N grows while each "
        f"GPU keeps its own per-process batch. With compute c and communication m per step, N processes give "
        f"N x c / (c + m) times the sequences/s of one; here m / c = {share:.2f} (CPU, gloo over loopback). "
        f"NCCL over NVLink moves {mb:.1f} MiB in well under a millisecond, so on GPUs the ratio depends on how "
        "short a step becomes: a step under ~5 ms (small models, small batches) is bound by the per-step "
        "all-reduces and the agreement's synchronisation, and larger per-GPU batches are the remedy. Not "
        "measured on a GPU here.")
    return rows


def _words(path: Path, seed: int = 0) -> Path:
    """A word list: 300 two-syllable words, drawn with Zipf-like frequencies into 3000 lines."""
    rng = random.Random(seed)
    syllables = [c + v for c in "bdgkmnprst" for v in "aeiou"]
    words = sorted({rng.choice(syllables) + rng.choice(syllables) for _ in range(400)})[:300]
    weights = [1 / (i + 1) for i in range(len(words))]
    path.write_text("\n".join(rng.choices(words, weights, k=3000)) + "\n")
    return path


def _runs(seeds: int, which: tuple[str, ...] = ("rule", "data")) -> list[dict]:
    data = _words(Path(tempfile.mkdtemp(prefix="ddp-words-")) / "words.txt")
    kinds = {"rule": ("rule palindrome", ["--rule", "palindrome"]),
             "data": ("data words.txt", ["--data", str(data), "--chars"])}
    targets = [kinds[kind] for kind in ("rule", "data") if kind in which]
    rows = []
    for label, target in targets:
        for seed in range(seeds):
            for nproc in (1, 2):
                extra = ["--nproc", "2"] if nproc == 2 else []
                m = train_and_evaluate([*target, "--seed", seed, *extra], plugins=())
                row = {"target": label, "seed": seed, "processes": nproc, "wall_s": m["wall_s"], "steps": m["steps"],
                       "validity": m["validity"], "tv": m["tv"], "verdict": "learned" if m["verdict"]["learned"]
                       else "NOT learned", "folder": m["folder"]}
                rows.append(row)
                note(f"  {label} seed {seed}, {nproc} process(es): {row['wall_s']:.1f} s, {row['steps']} steps, "
                     f"validity {row['validity']:.1%}, {row['verdict']}")
    say("\n### Wall to the same quality: `seqgan train` with 1 process and with `--nproc 2` "
        "(the preset's batch per process)\n")
    say(table(rows, [("target", "target", ""), ("seed", "seed", ""), ("processes", "processes", ""),
                     ("wall s", "wall_s", ".1f"), ("steps", "steps", ""), ("validity", "validity", ".2%"),
                     ("TV", "tv", ".4f"), ("verdict", "verdict", "")]))
    med = []
    for label, _ in targets:
        for nproc in (1, 2):
            group = [r for r in rows if r["target"] == label and r["processes"] == nproc]
            med.append({"target": label, "processes": nproc, "wall_s": statistics.median(r["wall_s"] for r in group),
                        "validity": statistics.median(r["validity"] for r in group),
                        "learned": f"{sum(r['verdict'] == 'learned' for r in group)}/{len(group)}"})
    say(f"\nMedians over {seeds} seed(s):\n")
    say(table(med, [("target", "target", ""), ("processes", "processes", ""), ("wall s", "wall_s", ".1f"),
                    ("validity", "validity", ".2%"), ("learned", "learned", "")]))
    two = next(r for r in rows if r["processes"] == 2)
    sample = seqgan("sample", two["folder"], "-n", 3)
    say(f"\n`seqgan sample` on a 2-process run folder (exit {sample.returncode}):\n\n```\n{sample.stdout}```")
    return rows


def run(args) -> list[dict]:
    parts = (args.only or "probe,runs").split(",")
    rows = []
    if "probe" in parts:
        rows += _throughput()
    if "runs" in parts:
        rows += _runs(args.seeds)
    elif "rule" in parts or "data" in parts:  # one half of the runs
        rows += _runs(args.seeds, tuple(p for p in parts if p in ("rule", "data")))
    return rows


if __name__ == "__main__":  # the probe's ranks: bench_ddp.py --probe OUT THREADS
    if len(sys.argv) == 4 and sys.argv[1] == "--probe":
        sys.path.insert(0, str(BENCH))
        probe(sys.argv[2], int(sys.argv[3]))
    else:
        raise SystemExit("run it as: python benchmarks/benchmark.py ddp")
