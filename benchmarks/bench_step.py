"""`benchmark.py step`: milliseconds per training step of the default plan for multiples5 (`independent`),
one thread, in a fresh process per measurement — the cost of the loop's own torch calls, without
start-up, checks or saving. ``--against DIR`` times another checkout of seqgan (e.g. a
``git worktree`` of an older commit) interleaved with this one, so that the machine's drift hits
both, and prints the ratio of the medians.

    python benchmarks/benchmark.py step [--repeats 5] [--steps 400] [--against ../old-checkout]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

from common import note, say

HERE = Path(__file__).resolve().parent.parent
WARMUP = 50

# run in a child process: build the default plan for multiples5 and time recipe.step alone
CHILD = """
import sys, time, torch
torch.set_num_threads(1)
from seqgan_core import api
from seqgan_core.engine.training import Trainer
target = api.load_target("multiples5")
config, _ = api.plan(target)
config.max_steps = 10 ** 9
trainer = Trainer(target.rule, config)
n = int(sys.argv[1])
for i in range({warmup}):
    trainer.recipe.step(trainer.real, i + 1)
start = time.perf_counter()
for i in range(n):
    trainer.recipe.step(trainer.real, {warmup} + i + 1)
print((time.perf_counter() - start) / n * 1000)
"""


def add_arguments(parser) -> None:
    parser.add_argument("--repeats", type=int, default=5, help="processes per checkout (default 5)")
    parser.add_argument("--steps", type=int, default=400, help="timed steps per process (default 400)")
    parser.add_argument("--against", default=None, metavar="DIR", help="another seqgan checkout to compare with")


def _ms_per_step(checkout: Path, steps: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(checkout), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", CHILD.format(warmup=WARMUP), str(steps)], env=env,
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"step: the timing process failed in {checkout}:\n{done.stderr[-2000:]}")
    return float(done.stdout.strip().splitlines()[-1])


def run(args) -> list[dict]:
    checkouts = {"this checkout": HERE}
    if args.against:
        checkouts["--against"] = Path(args.against).resolve()
    times: dict[str, list[float]] = {name: [] for name in checkouts}
    for i in range(args.repeats):
        for name, path in checkouts.items():  # interleaved
            times[name].append(_ms_per_step(path, args.steps))
            note(f"  {name} repeat {i}: {times[name][-1]:.2f} ms/step")
    say(f"## step: ms per multiples5 training step (independent preset, 1 thread, {args.steps} steps after "
        f"{WARMUP} warm-up, {args.repeats} processes each)\n")
    rows = []
    for name, path in checkouts.items():
        rows.append({"checkout": name, "path": str(path), "median_ms": statistics.median(times[name]),
                     "all_ms": times[name]})
        say(f"- {name} ({path}): median {rows[-1]['median_ms']:.2f} ms/step "
            f"(all: {', '.join(f'{t:.2f}' for t in times[name])})")
    if args.against:
        say(f"- ratio this / --against: {rows[0]['median_ms'] / rows[1]['median_ms']:.2f}")
    return rows
