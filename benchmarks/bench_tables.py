"""Tables, conditions and constraints, measured: writes ``benchmarks/results/tables.json``.

1. The orders table (``data/orders.csv``, written by ``data/make_orders.py``: region -> product,
   product -> size, region -> payment) trained as a user does (``seqgan train --data orders.csv
   --header``), then:
   - of ``--rows`` sampled rows (100 000), how many hold a value outside its column (must be 0);
   - each dependency's share of sampled rows against held-out real rows' (must be at least
     held-out's minus 0.5 points);
   - ``--where COLUMN=VALUE`` for every region (a prefix: exact) and every payment (the last
     column: rejection): the share of rows with that value (must be 100 %) and the other columns'
     token TV to real rows with that value (mean over the other columns of each column's TV; must
     be at most 0.05).
2. ``checkdigit`` (nine digits and their sum mod 10, the rule's ``allowed_next`` set) against
   ``checkdigit-free`` (the same rule without it), the same step budget: validity and token TV to
   real data of samples from seqgan's sampler, and the run's verdict.

    python benchmarks/bench_tables.py [--seeds 0] [--rows 100000] [--check-steps 1500] [--train-args "--patience 12"]

The other columns' TV has a floor that is not the model's: the real rows with a value are a few
thousand, so a perfect model scores above 0 too. ``perfect_model_tv_mean`` is that floor: fresh rows
of the true distribution (``make_orders.make_rows``, another seed) against the same real rows.
"""

from __future__ import annotations

import argparse
import csv
import json
import shlex
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import torch

from common import BENCH, DATA, machine_line, run, say, write_results

sys.path.insert(0, str(DATA))
from make_orders import dependencies, make_rows  # noqa: E402

RESULTS = BENCH / "results" / "tables.json"
ORDERS = DATA / "orders.csv"
CONDITION_ROWS = 20_000  # rows sampled per --where condition
DEPENDENCY_SLACK = 0.005  # a dependency may hold this much less often than in held-out rows
WHERE_TV = 0.05  # the other columns' token TV to real rows with the value, at most


def tv(a: list, b: list) -> float:
    ca, cb = Counter(a), Counter(b)
    return 0.5 * sum(abs(ca[k] / len(a) - cb[k] / len(b)) for k in ca.keys() | cb.keys())


def read_rows(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    columns = rows[0]
    return columns, [dict(zip(columns, r)) for r in rows[1:]]


def seqgan(*args: str) -> None:
    done = run([sys.executable, "-m", "seqgan_core", *args])
    if done.returncode not in (0, 3):  # 3: trained, not learned
        raise SystemExit(f"seqgan {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done


def orders(seed: int, n_rows: int, folder: Path, train_args: list[str], run_dir: Path | None = None) -> dict:
    from seqgan_core import SeqGAN
    from seqgan_core.rules.data import load_dataset

    out = run_dir or folder / f"orders-{seed}"
    started = time.perf_counter()
    if run_dir is None:
        seqgan("train", "--data", str(ORDERS), "--header", "--out", str(out), "--seed", str(seed), *train_args)
    train_s = time.perf_counter() - started
    config = json.loads((out / "config.json").read_text())
    columns, real = read_rows(ORDERS)
    domains = {c: {r[c] for r in real} for c in columns}
    gan = SeqGAN.load(out)
    rows = [dict(zip(columns, r)) for r in gan.sample(n_rows, seed=seed)]
    outside = sum(any(r[c] not in domains[c] for c in columns) for r in rows)
    ds = load_dataset(ORDERS, seed=seed, header=True)
    held = [dict(zip(columns, [ds.vocab[i] for i in r])) for r in ds.heldout.tolist()]  # the run's held-out rows
    deps = {}
    for name in dependencies(real[0]):
        sampled = sum(dependencies(r)[name] for r in rows if _complete(r, domains)) / len(rows)
        heldout = sum(dependencies(r)[name] for r in held) / len(held)
        deps[name] = {"sampled": sampled, "heldout": heldout, "ok": sampled >= heldout - DEPENDENCY_SLACK}
    fresh = [dict(zip(columns, r)) for r in make_rows(5 * len(real), seed + 1000)]  # the true distribution, new draws
    where = {}
    for column in ("region", "payment"):  # the first column (a prefix: exact) and the last (rejection)
        for value in sorted(domains[column]):
            got = [dict(zip(columns, r)) for r in gan.sample(CONDITION_ROWS, seed=seed, where={column: value})]
            same = [r for r in real if r[column] == value]
            others = {c: tv([r[c] for r in got], [r[c] for r in same]) for c in columns if c != column}
            share = sum(r[column] == value for r in got) / len(got)
            mean_tv = sum(others.values()) / len(others)
            # what a perfect model scores: as many fresh rows of the true distribution, same real rows
            true_rows = [r for r in fresh if r[column] == value][:len(got)]
            perfect = sum(tv([r[c] for r in true_rows], [r[c] for r in same]) for c in others) / len(others)
            where[f"{column}={value}"] = {"share_with_value": share, "other_columns_tv_mean": mean_tv,
                                          "perfect_model_tv_mean": perfect,
                                          "other_columns_tv": others, "real_rows_with_value": len(same),
                                          "method": "exact prefix" if column == columns[0] else "rejection",
                                          "ok": share == 1.0 and mean_tv <= WHERE_TV}
    return {"seed": seed, "train_s": round(train_s, 1), "steps": config.get("steps"),
            "verdict": config["verdict"]["line"] if "line" in config["verdict"] else config["verdict"],
            "sampled_rows": n_rows, "rows_outside_a_column": outside, "dependencies": deps, "where": where}


def _complete(row: dict, domains: dict) -> bool:
    return all(row[c] in domains[c] for c in domains)


def checkdigit(seed: int, steps: int, folder: Path, n: int = 10_000) -> dict:
    from seqgan_core import SeqGAN
    from seqgan_core.plugins.manager import get_plugin_manager, load_rules

    rule = load_rules(get_plugin_manager(entry_points=False))["checkdigit"]
    real = rule.sample(n, torch.Generator().manual_seed(seed + 1))
    out = {}
    for name in ("checkdigit", "checkdigit-free"):
        folder_run = folder / f"{name}-{seed}"
        started = time.perf_counter()
        seqgan("train", "--rule", name, "--out", str(folder_run), "--seed", str(seed), "--max-steps", str(steps))
        wall = time.perf_counter() - started
        config = json.loads((folder_run / "config.json").read_text())
        seqs = torch.tensor([[int(t) for t in s] for s in SeqGAN.load(folder_run).sample(n, seed=seed)])
        valid = float(rule.is_valid(seqs).float().mean())
        token_tv = tv(seqs.flatten().tolist(), real.flatten().tolist())
        position_tv = sum(tv(seqs[:, i].tolist(), real[:, i].tolist()) for i in range(seqs.shape[1])) / seqs.shape[1]
        verdict = config["verdict"]
        out[name] = {"validity": valid, "token_tv": token_tv, "tv_position_mean": position_tv,
                     "learned": verdict.get("learned"), "verdict": verdict.get("line") or verdict.get("summary"),
                     "steps": config.get("steps"), "train_s": round(wall, 1)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0", help="comma-separated seeds (default 0)")
    parser.add_argument("--rows", type=int, default=100_000, help="rows sampled from the orders model")
    parser.add_argument("--check-steps", type=int, default=1500, help="training steps of both checkdigit runs")
    parser.add_argument("--train-args", default="", help="extra `seqgan train` flags for the orders run, one string")
    parser.add_argument("--orders-run", type=Path, default=None, help="measure this orders run folder, train none")
    parser.add_argument("--skip-checkdigit", action="store_true", help="only the orders table")
    parser.add_argument("--results", type=Path, default=RESULTS, help=f"where to write (default {RESULTS})")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    say(machine_line())
    results = {"command": shlex.join(["python", "benchmarks/bench_tables.py", *sys.argv[1:]]), "machine": machine_line(),
               "date": time.strftime("%Y-%m-%d %H:%M"), "orders": [], "checkdigit": []}
    with tempfile.TemporaryDirectory(prefix="bench-tables-") as tmp:
        for seed in seeds:
            o = orders(seed, args.rows, Path(tmp), args.train_args.split(), args.orders_run)
            o["train_args"] = args.train_args
            results["orders"].append(o)
            say(f"orders seed {seed}: {o['rows_outside_a_column']} of {o['sampled_rows']:,} rows outside a column; "
                + "; ".join(f"{k} {v['sampled']:.2%} (held-out {v['heldout']:.2%})" for k, v in o["dependencies"].items()))
            worst = max(o["where"].items(), key=lambda kv: kv[1]["other_columns_tv_mean"])
            say(f"  --where: {sum(w['ok'] for w in o['where'].values())} of {len(o['where'])} conditions ok; "
                f"largest other-column TV {worst[1]['other_columns_tv_mean']:.3f} ({worst[0]}; a perfect model: "
                f"{worst[1]['perfect_model_tv_mean']:.3f})")
            if args.skip_checkdigit:
                continue
            c = checkdigit(seed, args.check_steps, Path(tmp))
            results["checkdigit"].append({"seed": seed, **c})
            for name, r in c.items():
                say(f"  {name}: validity {r['validity']:.2%}, token TV {r['token_tv']:.4f}, learned {r['learned']}")
    path = write_results(args.results.stem, results["command"], figures(results), directory=args.results.parent,
                         raw={"orders": results["orders"], "checkdigit": results["checkdigit"]})
    say(f"wrote {path}")


def figures(results: dict) -> dict:
    """The docs' tables (one quantity a column) from the raw results."""
    orders, conditions, checks = [], [], []
    for o in results["orders"]:
        row = {"seed": o["seed"], "steps": o["steps"], "train_s": o["train_s"], "sampled_rows": o["sampled_rows"],
               "rows_outside_a_column": o["rows_outside_a_column"]}
        for name, d in o["dependencies"].items():
            row[f"{name} sampled %"] = round(100 * d["sampled"], 2)
            row[f"{name} held-out %"] = round(100 * d["heldout"], 2)
        orders.append(row)
        for cond, w in o["where"].items():
            conditions.append({"seed": o["seed"], "condition": cond, "method": w["method"],
                               "rows with the value %": round(100 * w["share_with_value"], 2),
                               "other columns' TV": round(w["other_columns_tv_mean"], 4),
                               "a perfect model's TV": round(w["perfect_model_tv_mean"], 4),
                               "target met (TV <= 0.05)": w["ok"]})
    for c in results["checkdigit"]:
        for rule in ("checkdigit", "checkdigit-free"):
            r = c.get(rule)
            if r:
                checks.append({"seed": c["seed"], "rule": rule, "steps": r["steps"], "validity %": round(100 * r["validity"], 2),
                               "token TV": round(r["token_tv"], 4), "learned": r["learned"]})
    return {"tables": [
        {"title": "Orders: columns and dependencies", "columns": columns(orders), "rows": orders},
        {"title": "Orders: --where conditions", "columns": columns(conditions), "rows": conditions},
        {"title": "checkdigit: the rule's constraint hook against the same rule without it",
         "columns": columns(checks), "rows": checks}]}


def columns(rows: list[dict]) -> list[dict]:
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    return [{"key": k, "label": k.replace("_", " ")} for k in keys]


if __name__ == "__main__":
    main()
