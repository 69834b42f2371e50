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
3. An event log (``data/make_events.py``: ``--users`` users, one session each of 1 to 12 actions
   whose transitions and length depend on the user's plan, rows shuffled, ``ts`` orders them)
   trained as a user does (``seqgan train --data events.csv --entity user --order ts --event action
   --context plan``), ``--entities`` entities sampled back in long form (``seqgan sample --json``:
   one record an event) and regrouped by entity and ``ts``, then against the run's held-out users:
   the TV of session lengths, of pooled actions, of plans, and of actions within each plan (each
   must be at most 0.05), beside a perfect model's (fresh users of the true distribution).

    python benchmarks/bench_tables.py [--seeds 0] [--sections orders,checkdigit,events] [--rows 100000]
        [--check-steps 1500] [--train-args "--patience 12"] [--users 20000] [--entities 20000]

A run of some sections keeps the others' rows from the results file, each table with the command
and date that measured it.

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
import make_events  # noqa: E402
from make_orders import dependencies, make_rows  # noqa: E402

RESULTS = BENCH / "results" / "tables.json"
ORDERS = DATA / "orders.csv"
CONDITION_ROWS = 20_000  # rows sampled per --where condition
DEPENDENCY_SLACK = 0.005  # a dependency may hold this much less often than in held-out rows
WHERE_TV = 0.05  # the other columns' token TV to real rows with the value, at most
EVENT_TV = 0.05  # an event log's length, action and per-plan action TV to held-out users, at most
EVENTS_DATA_SEED = 0  # the event log is the same file for every training seed, as orders.csv is
SECTIONS = ("orders", "checkdigit", "events")


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


def events(seed: int, users: int, n_entities: int, folder: Path, run_dir: Path | None = None) -> dict:
    """Train on a long-form event log, sample it back in long form, compare with held-out users."""
    from seqgan_core.rules.target import frame_target

    path = make_events.write(folder / "events.csv", users, EVENTS_DATA_SEED)
    columns = {"entity": "user", "order": "ts", "event": "action", "context": ["plan"]}
    out = run_dir or folder / f"events-{seed}"
    started, cpu = time.perf_counter(), _children_cpu_s()
    if run_dir is None:
        seqgan("train", "--data", str(path), "--entity", "user", "--order", "ts", "--event", "action",
               "--context", "plan", "--out", str(out), "--seed", str(seed))
    train_s, train_cpu_s = time.perf_counter() - started, _children_cpu_s() - cpu
    config = json.loads((out / "config.json").read_text())
    done = seqgan("sample", str(out), "-n", str(n_entities), "--json", "--seed", str(seed))
    records = json.loads(done.stdout)  # long form: {"user", "ts", "action", "plan"}, one an event
    sampled = sessions_of(records)
    target = frame_target(None, seed, path=path, **columns)  # the run's own split: the same file and seed
    ds = target.dataset
    held = [(ds.vocab[r[0]], [ds.vocab[t] for t in r[1:] if ds.vocab[t] != ds.eos]) for r in ds.heldout.tolist()]
    fresh = make_events.make_users(len(sampled), seed + 1000)  # the true distribution, new draws
    return {"seed": seed, "train_s": round(train_s, 1), "train_cpu_s": round(train_cpu_s, 1), "steps": config.get("steps"),
            "threads": config.get("threads_used"),
            "verdict": config["verdict"].get("summary") or config["verdict"].get("line"),
            "users": users, "heldout_users": len(held), "sampled_entities": len(sampled),
            "event_records": len(records), "sampled_entities_without_events": n_entities - len(sampled),
            "model": event_tvs(sampled, held), "perfect_model": event_tvs(fresh, held)}


def _children_cpu_s() -> float:
    """CPU seconds of finished child processes: a training's own work, whatever else the machine runs."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def sessions_of(records: list[dict]) -> list[tuple[str, list[str]]]:
    """Long-form records regrouped as (plan, actions in ``ts`` order), one per entity."""
    users: dict = {}
    for r in records:
        users.setdefault(r["user"], []).append(r)
    out = []
    for rows in users.values():
        plans = {r["plan"] for r in rows}
        if len(plans) != 1:
            raise SystemExit(f"sampled entity {rows[0]['user']} has {len(plans)} plans; a context holds one")
        out.append((plans.pop(), [r["action"] for r in sorted(rows, key=lambda r: r["ts"])]))
    return out


def event_tvs(got: list[tuple[str, list]], real: list[tuple[str, list]]) -> dict:
    """Session length, action, plan and per-plan action TV of ``got`` against ``real`` (plan, actions)."""
    out = {"length_tv": tv([len(a) for _, a in got], [len(a) for _, a in real]),
           "event_tv": tv([e for _, a in got for e in a], [e for _, a in real for e in a]),
           "context_tv": tv([p for p, _ in got], [p for p, _ in real])}
    for plan in sorted({p for p, _ in real}):
        a, b = [e for p, x in got if p == plan for e in x], [e for p, x in real if p == plan for e in x]
        out[f"event_tv_{plan}"] = tv(a, b) if a else 1.0  # a plan never sampled: as far off as can be
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0", help="comma-separated seeds (default 0)")
    parser.add_argument("--sections", default=",".join(SECTIONS),
                        help=f"comma-separated, of {', '.join(SECTIONS)} (default all); the others' rows are kept")
    parser.add_argument("--rows", type=int, default=100_000, help="rows sampled from the orders model")
    parser.add_argument("--check-steps", type=int, default=1500, help="training steps of both checkdigit runs")
    parser.add_argument("--train-args", default="", help="extra `seqgan train` flags for the orders run, one string")
    parser.add_argument("--orders-run", type=Path, default=None, help="measure this orders run folder, train none")
    parser.add_argument("--skip-checkdigit", action="store_true", help="no checkdigit section")
    parser.add_argument("--users", type=int, default=20_000, help="users in the event log (10%% held out)")
    parser.add_argument("--entities", type=int, default=20_000, help="entities sampled from the event-log model")
    parser.add_argument("--events-run", type=Path, default=None, help="measure this event-log run folder, train none")
    parser.add_argument("--results", type=Path, default=RESULTS, help=f"where to write (default {RESULTS})")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    if args.skip_checkdigit and "checkdigit" in sections:
        sections.remove("checkdigit")
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section {unknown[0]!r}; sections: {', '.join(SECTIONS)}")
    say(machine_line())
    command = shlex.join(["python", "benchmarks/bench_tables.py", *sys.argv[1:]])
    results = kept_sections(args.results)
    for name in sections:
        results[name] = []
        results["measured"][name] = {"command": command, "date": time.strftime("%Y-%m-%d")}
    with tempfile.TemporaryDirectory(prefix="bench-tables-") as tmp:
        for seed in seeds:
            if "orders" in sections:
                o = orders(seed, args.rows, Path(tmp), args.train_args.split(), args.orders_run)
                o["train_args"] = args.train_args
                results["orders"].append(o)
                say(f"orders seed {seed}: {o['rows_outside_a_column']} of {o['sampled_rows']:,} rows outside a column; "
                    + "; ".join(f"{k} {v['sampled']:.2%} (held-out {v['heldout']:.2%})" for k, v in o["dependencies"].items()))
                worst = max(o["where"].items(), key=lambda kv: kv[1]["other_columns_tv_mean"])
                say(f"  --where: {sum(w['ok'] for w in o['where'].values())} of {len(o['where'])} conditions ok; "
                    f"largest other-column TV {worst[1]['other_columns_tv_mean']:.3f} ({worst[0]}; a perfect model: "
                    f"{worst[1]['perfect_model_tv_mean']:.3f})")
            if "checkdigit" in sections:
                c = checkdigit(seed, args.check_steps, Path(tmp))
                results["checkdigit"].append({"seed": seed, **c})
                for name, r in c.items():
                    say(f"  {name}: validity {r['validity']:.2%}, token TV {r['token_tv']:.4f}, learned {r['learned']}")
            if "events" in sections:
                e = events(seed, args.users, args.entities, Path(tmp), args.events_run)
                results["events"].append(e)
                say(f"events seed {seed}: trained {e['train_s']} s, {e['steps']} steps; "
                    + ", ".join(f"{k} {v:.4f} (a perfect model {e['perfect_model'][k]:.4f})"
                                for k, v in e["model"].items()))
    path = write_results(args.results.stem, command, figures(results), directory=args.results.parent,
                         raw={name: results[name] for name in SECTIONS} | {"measured": results["measured"]})
    say(f"wrote {path}")


def kept_sections(path: Path) -> dict:
    """The results file's rows of every section (empty where it has none) and the command and date
    that measured each, so that a run of one section keeps the others'."""
    record = json.loads(path.read_text()) if path.exists() else {}
    raw = record.get("raw", {})
    results = {name: raw.get(name, []) for name in SECTIONS}
    before = {"command": record.get("command"), "date": record.get("date")}  # files written before "measured"
    results["measured"] = {name: raw.get("measured", {}).get(name, before) for name in SECTIONS if results[name]}
    return results


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
    runs, fits = [], []
    for e in results.get("events", []):
        runs.append({"seed": e["seed"], "steps": e["steps"], "threads": e.get("threads"), "train wall s": e["train_s"],
                     "train CPU s": e.get("train_cpu_s"), "users": e["users"],
                     "held-out users": e["heldout_users"], "sampled entities": e["sampled_entities"],
                     "sampled events": e["event_records"]})
        for who, key in (("the model", "model"), ("a perfect model", "perfect_model")):
            row = {"seed": e["seed"], "sampled by": who}
            row.update({EVENT_LABELS.get(k, k.replace("event_tv_", "action TV, plan ")): round(v, 4)
                        for k, v in e[key].items()})
            row["target met (each <= 0.05)"] = all(v <= EVENT_TV for v in e[key].values())
            fits.append(row)
    tables = [
        ("orders", {"title": "Orders: columns and dependencies", "columns": columns(orders), "rows": orders}),
        ("orders", {"title": "Orders: --where conditions", "columns": columns(conditions), "rows": conditions}),
        ("checkdigit", {"title": "checkdigit: the rule's constraint hook against the same rule without it",
                        "columns": columns(checks), "rows": checks}),
        ("events", {"title": "Event log: TV to held-out users", "columns": columns(fits), "rows": fits}),
        ("events", {"title": "Event log: the runs", "columns": columns(runs), "rows": runs})]
    measured = results.get("measured", {})
    return {"tables": [{**table, **measured.get(section, {})} for section, table in tables if table["rows"]]}


EVENT_LABELS = {"length_tv": "session length TV", "event_tv": "action TV", "context_tv": "plan TV"}


def columns(rows: list[dict]) -> list[dict]:
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    return [{"key": k, "label": k.replace("_", " ")} for k in keys]


if __name__ == "__main__":
    main()
