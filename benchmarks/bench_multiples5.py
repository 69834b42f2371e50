"""`benchmark.py multiples5`: `seqgan train --rule multiples5` against the tutorial's own script.

Both are whole processes, timed side by side per seed (alternating, so drift in the machine's
load hits both): seqgan with its own thread choice and no flags; the tutorial (benchmarks/
tutorial.py) once with torch's default threads, as its readers run it, and once with
OMP_NUM_THREADS=1, its best case (a default-threads run is stopped at 10x the 1-thread one and
shown as inf). The ratio is taken against the faster tutorial variant. Then
the same again with a competing busy process (a Python loop) on the machine. Quality: seqgan's
saved generator on 10 000 sequences (validity, values produced, pooled TV), and pooled TV on
1 000 sequences (10 000 numbers), the figure the tutorial comparison used.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import BENCH, note, say, table, train_and_evaluate
from common import run as run_process


def _tutorial(seed: int, threads: int | None, timeout: float = 3600) -> float:
    out = Path(tempfile.mkdtemp(prefix="tutorial-")) / "generator.pt"
    env = {"OMP_NUM_THREADS": str(threads)} if threads else {}
    try:
        done = run_process([sys.executable, str(BENCH / "tutorial.py"), "--seed", str(seed), "--out", str(out)],
                           env=env, timeout=timeout)
    except subprocess.TimeoutExpired:  # torch's default threads on a busy machine: a bound is enough
        return float("inf")
    if done.returncode:
        raise SystemExit(f"tutorial.py failed:\n{done.stderr}")
    return done.wall_s


def _round(seed: int, busy: bool) -> dict:
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
    try:
        row = {"seed": seed, "machine": "busy" if busy else "idle"}
        row["tutorial_1thread_s"] = _tutorial(seed, 1)
        m = train_and_evaluate(["--rule", "multiples5", "--seed", seed], plugins=())
        small = train_and_evaluate(["--rule", "multiples5", "--seed", seed], n=1000, plugins=())
        # default threads can take 100x longer with the cores taken: stop at 10x the 1-thread run
        row["tutorial_default_s"] = _tutorial(seed, None, timeout=max(30.0, 10 * row["tutorial_1thread_s"]))
    finally:
        if spinner:
            spinner.kill()
    row.update(seqgan_s=m["wall_s"], steps=m["steps"], validity=m["validity"],
               values=f"{m['coverage_count']}/{m['real_token_count']}", tv=m["tv"], tv_10k_numbers=small["tv"],
               peak_mb=m["peak_mb"], verdict="learned" if m["verdict"]["learned"] else "NOT learned")
    row["tutorial_best_s"] = min(row["tutorial_default_s"], row["tutorial_1thread_s"])
    row["ratio"] = row["seqgan_s"] / row["tutorial_best_s"]
    note(f"  {row['machine']} seed {seed}: seqgan {row['seqgan_s']:.2f} s, tutorial {row['tutorial_default_s']:.2f} s "
         f"(1 thread {row['tutorial_1thread_s']:.2f} s)")
    return row


COLUMNS = [("machine", "machine", ""), ("seed", "seed", ""), ("seqgan s", "seqgan_s", ".2f"),
           ("tutorial s (default threads)", "tutorial_default_s", ".2f"),
           ("tutorial s (1 thread)", "tutorial_1thread_s", ".2f"), ("ratio to faster tutorial", "ratio", ".2f"),
           ("steps", "steps", ""), ("validity", "validity", ".2%"), ("values", "values", ""),
           ("TV", "tv", ".4f"), ("TV (10 000 numbers)", "tv_10k_numbers", ".4f"), ("peak MB", "peak_mb", ".0f"),
           ("verdict", "verdict", "")]


def run(args) -> list[dict]:
    say(f"## multiples5: whole-process `seqgan train --rule multiples5` against the tutorial script, "
        f"seeds 0-{args.seeds - 1}\n")
    rows = [_round(seed, busy) for busy in (False, True) for seed in range(args.seeds)]
    say(table(rows, COLUMNS))
    say("")
    for machine in ("idle", "busy"):
        mine = [r for r in rows if r["machine"] == machine]
        ratio = statistics.median(r["ratio"] for r in mine)
        say(f"- {machine} machine: median seqgan {statistics.median(r['seqgan_s'] for r in mine):.2f} s, "
            f"tutorial {statistics.median(r['tutorial_default_s'] for r in mine):.2f} s (default threads) / "
            f"{statistics.median(r['tutorial_1thread_s'] for r in mine):.2f} s (1 thread); median ratio "
            f"{ratio:.2f} (target <= 0.8: {'met' if ratio <= 0.8 else 'MISSED'})")
    quality = [r for r in rows if r["machine"] == "idle"]
    say(f"- quality (idle runs, medians): validity {statistics.median(r['validity'] for r in quality):.2%} "
        f"(target >= 99.9 %), TV on 10 000 numbers {statistics.median(r['tv_10k_numbers'] for r in quality):.4f} "
        f"(target <= 0.025), values {', '.join(sorted({r['values'] for r in quality}))} (target 20/20)")
    return rows
