"""The SeqGAN synthetic oracle (the built-in ``oracle`` rule, L = 20, V = 5 000): NLL_oracle
(quality), NLL_test (diversity) and the floor, for the GAN (``--set adversarial=true``) and for
the same model trained by maximum likelihood alone (the default on finite data), beside the
published table; the share of the MLE-to-floor gap the GAN closes; then a temperature sweep of
both, plotted as NLL_oracle against NLL_test.

    python benchmarks/benchmark.py oracle [--max-steps N] [--samples N] [--temps 0.8,0.9,...]

Our oracle is not the papers' (seed 88 of our own draw, see plugins/oracle.py): its floor and
random level differ from theirs, so the published rows are set beside ours, not compared number
for number; the floor, the MLE-only run and the gap share are what compare. ``--max-steps``
shortens both runs (the target is 30 min on the 2-core machine); the output says so.
"""

from __future__ import annotations

import json
from pathlib import Path

from common import against_curve, gan_and_mle, note, plot_sweep, say, seqgan, table

SEED = 0
# Yu et al. 2017 / Guo et al. 2018 (LeakGAN) / Nie et al. 2019 (RelGAN: another seeded oracle), L = 20
PUBLISHED = [("random", 10.310), ("MLE", 9.038), ("scheduled sampling", 8.985), ("PG-BLEU", 8.946),
             ("SeqGAN", 8.736), ("RankGAN", 8.247), ("LeakGAN", 7.038), ("RelGAN (other oracle)", 6.680),
             ("the paper oracle's own samples (floor)", 5.75)]


def add_arguments(parser) -> None:
    parser.add_argument("--max-steps", type=int, default=None, help="shorten both runs to this many steps")
    parser.add_argument("--train-args", default="", help="more `seqgan train` flags for both runs, e.g. "
                        "'--pretrain-steps 200 --set d_warmup=20' so that a shortened GAN run reaches its adversarial phase")
    parser.add_argument("--samples", type=int, default=10_000, help="samples behind NLL_oracle (default 10000)")
    parser.add_argument("--temps", default="0.7,0.8,0.9,1.0,1.1,1.2", help="temperatures of the sweep")
    parser.add_argument("--png-dir", default=".", help="folder for the PNG (default: here)")
    parser.add_argument("--reuse", default=None, metavar="FOLDER",
                        help="score the runs FOLDER/gan and FOLDER/mle a previous invocation trained (no training)")


def evaluate(folder: Path, name: str, samples: int) -> dict:
    done = seqgan("evaluate", folder / name, "-n", samples, "--json", cwd=folder)
    if done.returncode:
        raise SystemExit(f"oracle: evaluate {name} failed:\n{done.stderr[-2000:]}")
    m = json.loads(done.stdout)
    return {"nll_oracle": m["rule_metrics"]["nll_oracle"], "floor": m["rule_metrics"]["nll_oracle_floor"],
            "nll_test": m.get("heldout_nll"), "distinct": m["unique_ratio"]}


def uniform_level() -> float:
    import torch

    from seqgan_plugins import oracle

    g = torch.Generator().manual_seed(1)
    return oracle.nll_oracle(torch.randint(oracle.VOCAB_SIZE, (2000, oracle.LENGTH), generator=g))


def sweep(folder: Path, name: str, temps: list[float], samples: int) -> list[dict]:
    import torch

    from seqgan_core.io.export import load_model
    from seqgan_core.evaluation.metrics import per_token_nll
    from seqgan_plugins import oracle

    model = load_model(folder / name / "generator.pt")
    # one held-out draw for every point (evaluate's own seed): fresh oracle draws cost more than scoring
    fresh = oracle.heldout(samples, torch.Generator().manual_seed(20_240_919))
    rows = []
    for t in temps:
        seqs = model.sample(samples, seed=SEED, temperature=t)
        rows.append({"model": name, "temperature": t, "nll_oracle": oracle.nll_oracle(seqs),
                     "nll_test": per_token_nll(model.token_log_probs(fresh, t).double(), fresh, None)[0]})
        note(f"oracle: {name} T={t}: NLL_oracle {rows[-1]['nll_oracle']:.3f}, NLL_test {rows[-1]['nll_test']:.3f}")
    return rows


def plot(curves: dict[str, list[dict]], floor: float, path: Path) -> Path | None:
    return plot_sweep("oracle", curves, "nll_test", "nll_oracle", path,
                      xlabel="NLL_test (model's NLL of fresh oracle samples; lower = more diverse/covering)",
                      ylabel="NLL_oracle (lower = better quality)",
                      title="SeqGAN oracle: quality against diversity over temperatures",
                      mark=lambda ax: ax.axhline(floor, color="k", linestyle=":", label=f"floor {floor:.3f}"))


def run(args) -> list[dict]:
    temps = [float(t) for t in args.temps.split(",")]
    folder, gan, mle = gan_and_mle("oracle", ["--rule", "oracle"], args, SEED)
    for row, name in ((gan, "gan"), (mle, "mle")):
        row.update(evaluate(folder, name, args.samples))
    floor = gan["floor"]
    ours = [{"model": "ours: oracle's own samples (floor)", "nll_oracle": floor},
            {"model": "ours: uniform random tokens", "nll_oracle": uniform_level()}, gan, mle]
    published = [{"model": f"published: {name}", "nll_oracle": v} for name, v in PUBLISHED]
    say(table([*published, *ours], [("model", "model", ""), ("NLL_oracle", "nll_oracle", ".3f"),
                                    ("NLL_test", "nll_test", ".3f"), ("distinct", "distinct", ".3f"),
                                    ("steps", "steps", ""), ("wall s", "wall_s", ".0f"), ("peak MB", "peak_mb", ".0f")]))
    say()
    gap = mle["nll_oracle"] - floor
    share = (mle["nll_oracle"] - gan["nll_oracle"]) / gap if gap > 0 else float("nan")
    say(f"- share of the MLE-to-floor gap closed by the GAN: {share:.1%} "
        f"(MLE {mle['nll_oracle']:.3f}, GAN {gan['nll_oracle']:.3f}, floor {floor:.3f})")
    for row in (gan, mle):
        say(f"- {row['model']}: `{row['command']}` ({row['steps']} steps, {row['stop'].replace('_', ' ')}, "
            f"{row['wall_s']:.0f} s wall)")
    say(f"- scored with `seqgan evaluate RUN -n {args.samples} --json` (rule_metrics.nll_oracle, heldout_nll)")
    misses = []
    default = mle  # the target is the default's: maximum likelihood alone on finite data
    if default["nll_oracle"] > 7.0:
        misses.append(f"NLL_oracle {default['nll_oracle']:.3f} > 7.0")
    if gan["nll_test"] is not None and mle["nll_test"] is not None and gan["nll_test"] > mle["nll_test"]:
        misses.append(f"GAN's NLL_test {gan['nll_test']:.3f} worse than MLE's {mle['nll_test']:.3f}")
    if default["wall_s"] > 1800:
        misses.append(f"wall {default['wall_s']:.0f} s > 30 min")
    say("- target of the default (NLL_oracle <= 7.0, NLL_test no worse than MLE's, <= 30 min): "
        + ("met" if not misses else "missed: " + "; ".join(misses)))
    curves = {"seqgan GAN": sweep(folder, "gan", temps, min(args.samples, 2000)),
              "MLE only": sweep(folder, "mle", temps, min(args.samples, 2000))}
    say()
    say(table([r for rows in curves.values() for r in rows],
              [("model", "model", ""), ("T", "temperature", "g"), ("NLL_oracle", "nll_oracle", ".3f"),
               ("NLL_test", "nll_test", ".3f")]))
    say()
    say(f"- GAN at T=1 against the MLE curve: {below(gan, curves['MLE only'], curves['seqgan GAN'])}")
    png = plot(curves, floor, Path(args.png_dir) / "oracle_nll.png")
    if png:
        say(f"- plot: {png}")
    return [*ours, *[r for rows in curves.values() for r in rows]]


MARGIN = 0.02  # nats/token: a GAN point closer than this to MLE's curve is "on" it, not better


def below(point: dict, curve: list[dict], own_curve: list[dict] | None = None) -> str:
    """Whether ``point`` lies below the curve by more than MARGIN: lower NLL_oracle than MLE's at the
    same NLL_test."""
    return against_curve(point, curve, own_curve, x="nll_test", y="nll_oracle", names=("NLL_test", "NLL_oracle"),
                         margin=MARGIN, higher_is_better=False, sides=("below (better)", "above (worse)"))
