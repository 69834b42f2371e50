"""The quality-diversity frontier on the SeqGAN paper's own oracle (rule ``seqgan-oracle``):
plain maximum likelihood (``seqgan train --data`` on 9 984 oracle samples, the defaults), swept
over temperature with ``seqgan evaluate RUN --sweep --oracle seqgan-oracle``, beside the best
published maximum-likelihood curve on that oracle (Caccia et al., ICLR 2020, from the CSV files
behind their figure: a 2-layer LSTM of 128, variational dropout 0.6, the epoch picked by NLL_test).

    python benchmarks/benchmark.py frontier [--seeds N] [--max-steps N] [--temps 1.0,0.8,...]

Writes ``benchmarks/results/frontier.json`` (command, machine, date, every figure) and
``frontier_nll.png``. A point of ours is *below* their curve when its NLL_oracle is lower than
theirs at the same NLL_test (linear interpolation between their points) by more than MARGIN.
"""

from __future__ import annotations

import json
import statistics
import tempfile
from pathlib import Path

from common import BENCH, against_curve, interpolate, note, plot_sweep, say, seqgan, table, train_side

RESULTS = BENCH / "results"
TRAIN_SIZE = 9_984  # SeqGAN's training set, rounded down to whole batches of 64
DATA_SEED = 2_026  # the draw of the training file: the same file for every seed of the section
MARGIN = 0.02  # nats/token: closer than this to their curve is "on" it
# Caccia et al. 2020, MLE (their best): temperature, NLL_oracle, NLL_test
CACCIA_MLE = [(1.43, 10.03, 7.60), (1.0, 9.40, 7.61), (0.89, 9.11, 7.67), (0.81, 8.81, 7.75),
              (0.70, 8.31, 7.93), (0.60, 7.54, 8.26), (0.50, 6.53, 8.83), (0.40, 5.53, 9.96)]
CACCIA_GAN = [(1.0, 8.75, 8.06), (0.81, 7.83, 8.56), (0.50, 5.83, 11.02)]  # their RL-GAN
FLOOR = 5.745  # the oracle's own samples (its README: 5.74-5.75)
MATCHED = (7.61, 7.93, 8.26)  # the matched NLL_test points: Caccia's T = 1.0, 0.7, 0.6


def matched(curves: dict[str, list[dict]]) -> list[dict]:
    """Per matched NLL_test point: Caccia's NLL_oracle there, each seed's and their median."""
    caccia = published(CACCIA_MLE, "")
    rows = []
    for x in MATCHED:
        theirs = interpolate(caccia, x)
        ours = {name: interpolate(rows_, x) for name, rows_ in curves.items()}
        got = [v for v in ours.values() if v is not None]
        med = statistics.median(got) if len(got) == len(ours) and got else None
        rows.append({"nll_test": x, "caccia_nll_oracle": round(theirs, 3),
                     **{f"{name}": (None if v is None else round(v, 3)) for name, v in ours.items()},
                     "median": None if med is None else round(med, 3),
                     "at_or_below": None if med is None else med <= theirs + 1e-9,
                     "margin": None if med is None else round(theirs - med, 3)})
    return rows


def add_arguments(parser) -> None:
    parser.add_argument("--train-args", default="", help="more `seqgan train` flags, e.g. '--set generator.dropout=0.5'")
    parser.add_argument("--temps", default="1.1,1.0,0.9,0.8,0.7,0.6,0.55,0.5", help="temperatures of the sweep")
    parser.add_argument("--samples", type=int, default=10_000, help="samples behind each NLL_oracle (default 10000)")
    parser.add_argument("--out", default=str(RESULTS / "frontier.json"),
                        help="where the plot goes: beside this path, as frontier_nll.png (default: results/)")
    parser.add_argument("--reuse", default=None, metavar="FOLDER",
                        help="sweep the runs FOLDER/seed-N a previous invocation trained (no training)")


def published(points: list[tuple], model: str) -> list[dict]:
    return [{"model": model, "temperature": t, "nll_oracle": o, "nll_test": n} for t, o, n in points]


def write_data(path: Path) -> Path:
    """``TRAIN_SIZE`` oracle samples, one sequence of 20 token numbers a line."""
    import torch

    from seqgan_plugins import paper_oracle

    seqs = paper_oracle.oracle().generate(TRAIN_SIZE, torch.Generator().manual_seed(DATA_SEED))
    path.write_text("".join(" ".join(map(str, row)) + "\n" for row in seqs.tolist()))
    return path


def sweep(run: Path, temps: str, samples: int) -> list[dict]:
    """The run's curve, from ``RUN/sweep-TEMPS-N.json`` when an earlier invocation left it there."""
    cache = run / f"sweep-{temps}-{samples}.json"
    if cache.exists():
        frontier = json.loads(cache.read_text())
        return [{**p, "test_unscored": frontier["test_unscored"]} for p in frontier["points"]]
    done = seqgan("evaluate", run, "--sweep", "--oracle", "seqgan-oracle", "--temperatures", temps,
                  "-n", samples, "--json", cwd=run.parent)
    if done.returncode:
        raise SystemExit(f"frontier: evaluate --sweep {run} failed:\n{done.stderr[-2000:]}")
    frontier = json.loads(done.stdout)
    cache.write_text(done.stdout)
    if frontier["test_unscored"]:
        note(f"frontier: {run}: {frontier['test_unscored']} of {frontier['test_size']} fresh samples hold a token "
             "the run never saw; NLL_test leaves them out")
    return [{**p, "test_unscored": frontier["test_unscored"]} for p in frontier["points"]]


def run(args) -> list[dict]:
    folder = Path(args.reuse) if args.reuse else Path(tempfile.mkdtemp(prefix="seqgan-frontier-"))
    data = folder / "oracle_train.txt"
    if not data.exists():
        write_data(data)
    extra = (["--max-steps", args.max_steps] if args.max_steps else []) + args.train_args.split()
    if args.max_steps:
        say(f"**Shortened**: every run stops at --max-steps {args.max_steps} (not the defaults' own budget).\n")
    curves, runs = {}, []
    for seed in range(args.seeds):
        name = f"seed-{seed}"
        if args.reuse:
            config = json.loads((folder / name / "config.json").read_text())
            info = {"wall_s": config["seconds"], "steps": config["steps"], "stop": config["stop_reason"],
                    "command": f"seqgan train --data {data} --seed {seed} (reused)"}
        else:
            info = train_side("frontier", ["--data", data], folder, name, extra, seed)
        runs.append({"seed": seed, **info})
        rows = sweep(folder / name, args.temps, args.samples)
        for r in rows:
            r.update(model=f"ours, seed {seed}", seed=seed,
                     caccia=against_curve(r, published(CACCIA_MLE, "Caccia MLE"), None, x="nll_test", y="nll_oracle",
                                          names=("NLL_test", "NLL_oracle"), margin=MARGIN, higher_is_better=False,
                                          sides=("below (better)", "above (worse)")))
        curves[f"ours (MLE, seed {seed})"] = rows
    ours = [r for rows in curves.values() for r in rows]
    theirs = published(CACCIA_MLE, "Caccia et al. MLE") + published(CACCIA_GAN, "Caccia et al. RL-GAN")
    say(table(ours + theirs, [("model", "model", ""), ("T", "temperature", "g"), ("NLL_oracle", "nll_oracle", ".3f"),
                              ("NLL_test", "nll_test", ".3f"), ("against Caccia's MLE curve", "caccia", "")]))
    say()
    for r in runs:
        say(f"- seed {r['seed']}: `{r['command']}`: {r['steps']} steps, {r['stop'].replace('_', ' ')}, {r['wall_s']:.0f} s")
    say(f"- swept with `seqgan evaluate RUN --sweep --oracle seqgan-oracle --temperatures {args.temps} "
        f"-n {args.samples} --json`; NLL_test on 2 000 fresh oracle samples")
    png = plot_sweep("frontier", {**curves, "Caccia et al. MLE": published(CACCIA_MLE, ""),
                                  "Caccia et al. RL-GAN": published(CACCIA_GAN, "")},
                     "nll_test", "nll_oracle", Path(args.out).with_name("frontier_nll.png"),
                     xlabel="NLL_test (model's NLL of fresh oracle samples; lower = more diverse)",
                     ylabel="NLL_oracle (lower = better quality)",
                     title="SeqGAN paper oracle: the MLE frontier over temperature",
                     mark=lambda ax: ax.axhline(FLOOR, color="k", linestyle=":", label=f"floor {FLOOR}"))
    if png:
        say(f"- plot: {png}")
    at = matched(curves)
    say(table(at, [("NLL_test", "nll_test", "g"), ("Caccia", "caccia_nll_oracle", ".3f"), ("ours (median)", "median", "")]))
    cols = lambda keys: [{"key": k, "label": label} for k, label in keys]  # noqa: E731
    seeds = [name for name in curves]
    figures = {"tables": [
        {"title": "Maximum likelihood against Caccia et al.'s best MLE curve, at the issue's matched NLL_test points",
         "note": "NLL_oracle of our temperature curve interpolated at Caccia's NLL_test for T = 1.0, 0.7 and 0.6; "
                 "'margin' is theirs minus our median (positive: ours is below, better).",
         "columns": cols([("nll_test", "NLL_test"), ("caccia_nll_oracle", "Caccia MLE NLL_oracle"),
                          *[(name, name) for name in seeds], ("median", "median of seeds"),
                          ("at_or_below", "at or below Caccia"), ("margin", "margin (nats)")]),
         "rows": at},
        {"title": "Every point of the curves (ours per seed; the published ones)",
         "columns": cols([("model", "model"), ("temperature", "T"), ("nll_oracle", "NLL_oracle"),
                          ("nll_test", "NLL_test")]),
         "rows": [{k: (round(r[k], 3) if k.startswith("nll") else r.get(k))
                   for k in ("model", "temperature", "nll_oracle", "nll_test")} for r in ours + theirs]},
        {"title": "Training runs",
         "columns": cols([("seed", "seed"), ("steps", "steps"), ("stop", "stopped by"), ("wall_s", "wall s"),
                          ("command", "command")]),
         "rows": [{k: r.get(k) for k in ("seed", "steps", "stop", "wall_s", "command")} for r in runs]},
    ]}
    return figures  # benchmark.py writes it to results/frontier.json (--results NAME: another name)
