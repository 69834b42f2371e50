"""`benchmark.py threads`: seqgan's own thread choice against forced thread counts, whole processes.

For each model size, `seqgan train` runs a fixed number of steps (early stopping off, so every
run does the same work) once with seqgan's own choice (no flag) and once per forced
`--threads N` (1 up to the cores available), first on the machine as it is, then with a competing
busy process (a spinning Python loop) added. Wall time is the whole process; "train s" is the
training loop alone (config.json's `seconds`). The rule in `seqgan_core/threads.py` comes from
this table: more than one thread only where it measured faster, busy machine included.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import note, say, seqgan, table

# (name, what it is, flags): fixed steps, patience too large to stop early
MODELS = [
    ("small", "multiples5, independent preset (marginals G by maximum likelihood, batch 256, L 10, V 20)",
     ["--rule", "multiples5", "--max-steps", "300", "--patience", "100000"]),
    ("medium", "palindrome, autoregressive preset (GRU 128, CNN D, batch 256, L 10)",
     ["--rule", "palindrome", "--preset", "autoregressive", "--max-steps", "120", "--pretrain-steps", "60",
      "--set", "d_warmup=5", "--patience", "100000"]),
    ("large", "palindrome, autoregressive, GRU 384, batch 1024",
     ["--rule", "palindrome", "--preset", "autoregressive", "--max-steps", "10", "--pretrain-steps", "5",
      "--set", "d_warmup=2", "--batch-size", "1024", "--set", "generator.hidden=384", "--patience", "100000"]),
]


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _train(flags: list[str], seed: int, threads: int | None, timeout: float) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="seqgan-threads-"))
    extra = ["--threads", str(threads)] if threads else []
    try:
        done = seqgan("train", *flags, "--seed", seed, *extra, "--out", folder / "run", cwd=folder, timeout=timeout)
    except subprocess.TimeoutExpired:  # oversubscribed threads can be 10x slower: record a bound, move on
        return {"wall_s": float("inf"), "train_s": float("inf"), "steps": None, "threads_used": threads,
                "timed_out": timeout}
    if done.returncode not in (0, 3):
        raise SystemExit(f"seqgan train {' '.join(flags)} failed ({done.returncode}):\n{done.stderr}")
    used = re.search(r"(\d+) thread\(s\)", done.stderr)
    config = json.loads((folder / "run" / "config.json").read_text())
    return {"wall_s": done.wall_s, "train_s": config["seconds"], "steps": config["steps"],
            "threads_used": int(used.group(1)) if used else None}


def run(args) -> list[dict]:
    counts = sorted({1, 2, min(4, _cores())} & set(range(1, _cores() + 1)))
    only = set(args.only.split(",")) if args.only else None
    models = [m for m in MODELS if only is None or m[0] in only]
    say(f"## threads: whole-process `seqgan train`, seqgan's choice against --threads {counts}, "
        f"seeds 0-{args.seeds - 1}, {_cores()} cores\n")
    rows = []
    say(f"load average at start: {os.getloadavg()[0]:.1f} (the 'as is' rows share the machine with it)\n")
    for busy in (False, True):
        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
        try:
            for name, what, flags in models:
                one_thread_s = None
                for threads in [1, None, *counts[1:]]:  # None: seqgan's own choice; 1 first sets the timeout
                    timeout = 3600 if one_thread_s is None else max(60.0, 3 * one_thread_s)
                    runs = [_train(flags, seed, threads, timeout) for seed in range(args.seeds)]
                    if threads == 1:
                        one_thread_s = max(r["wall_s"] for r in runs)
                    row = {"model": name, "machine": "busy" if busy else "as is",
                           "threads": "auto" if threads is None else str(threads),
                           "used": runs[0]["threads_used"], "steps": runs[0]["steps"],
                           "wall_s": statistics.median(r["wall_s"] for r in runs),
                           "train_s": statistics.median(r["train_s"] for r in runs)}
                    if any("timed_out" in r for r in runs):
                        row["note"] = f"stopped after {timeout:.0f} s (3x one thread, at least 60 s)"
                    rows.append(row)
                    note(f"  {row['machine']} {name} threads {row['threads']} (used {row['used']}): "
                         f"wall {row['wall_s']:.2f} s, train {row['train_s']:.2f} s {row.get('note', '')}")
        finally:
            if spinner:
                spinner.kill()
    for row in rows:  # speed of the training loop against one thread, same model and machine
        one = next(r for r in rows if r["model"] == row["model"] and r["machine"] == row["machine"]
                   and r["threads"] == "1")
        row["vs_1"] = one["train_s"] / row["train_s"]
    say("\n".join(f"- {name}: {what}" for name, what, _ in models) + "\n")
    say(table(rows, [("model", "model", ""), ("machine", "machine", ""), ("--threads", "threads", ""),
                     ("threads used", "used", ""), ("steps", "steps", ""), ("wall s", "wall_s", ".2f"),
                     ("train s", "train_s", ".2f"), ("train speed vs 1 thread", "vs_1", ".2f"),
                     ("note", "note", "")]))
    return rows
