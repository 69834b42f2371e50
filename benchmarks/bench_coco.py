"""COCO image captions (Texygen's split): BLEU-2..5 against the test captions and Self-BLEU-4/5,
for the GAN (``--set adversarial=true``) and for the same model trained by maximum likelihood
alone (the default on finite data), beside real
captions scored the same way and the published rows; then a temperature sweep of both, plotted
as BLEU-4 against Self-BLEU-4 (Caccia et al.: MLE with a temperature sweep is the curve a GAN
must beat).

    python benchmarks/benchmark.py coco [--max-steps N] [--samples N] [--temps 0.7,0.8,...]

Both runs are whole ``seqgan train --data coco_train.txt`` processes; scoring is
``seqgan evaluate RUN --reference coco_test.txt`` (the row at temperature 1) and the same
function in-process for the sweep. ``--max-steps`` shortens both runs (the target is 10 min on
the 2-core machine); the output says so.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from common import DATA, against_curve, gan_and_mle, note, plot_sweep, say, seqgan, table

TRAIN = DATA / "coco" / "coco_train.txt"
TEST = DATA / "coco" / "coco_test.txt"
SEED = 0
NLL_LINES = 1000  # test captions behind the sweep's NLL_gen

# Texygen (Zhu et al. 2018), Table "COCO" and RelGAN (Nie et al. 2019), as the issue quotes them
PUBLISHED = [
    {"model": "MLE (Texygen)", "bleu2": .731, "bleu3": .497, "bleu4": .305, "bleu5": .189, "self_bleu5": .41},
    {"model": "SeqGAN (Texygen)", "bleu2": .745, "bleu3": .498, "bleu4": .294, "bleu5": .180},
    {"model": "LeakGAN (Texygen)", "bleu2": .746, "bleu3": .528, "bleu4": .355, "bleu5": .230, "self_bleu5": .78},
    {"model": "RelGAN(100) (Nie et al.)", "bleu2": .849, "bleu3": .687, "bleu4": .502},
]
COLUMNS = [("model", "model", ""), ("BLEU-2", "bleu2", ".3f"), ("BLEU-3", "bleu3", ".3f"), ("BLEU-4", "bleu4", ".3f"),
           ("BLEU-5", "bleu5", ".3f"), ("Self-BLEU-4", "self_bleu4", ".3f"), ("Self-BLEU-5", "self_bleu5", ".3f"),
           ("copied from train", "copied", ".1%"), ("NLL_gen", "nll_gen", ".3f"), ("steps", "steps", ""),
           ("wall s", "wall_s", ".0f")]


def add_arguments(parser) -> None:
    parser.add_argument("--max-steps", type=int, default=None, help="shorten both runs to this many steps")
    parser.add_argument("--train-args", default="", help="more `seqgan train` flags for both runs, e.g. "
                        "'--pretrain-steps 200 --set d_warmup=20' so that a shortened GAN run reaches its adversarial phase")
    parser.add_argument("--samples", type=int, default=2000, help="samples behind BLEU / Self-BLEU (default 2000)")
    parser.add_argument("--temps", default="0.6,0.7,0.8,0.9,1.0,1.1", help="temperatures of the sweep")
    parser.add_argument("--png-dir", default=".", help="folder for the PNG (default: here)")
    parser.add_argument("--reuse", default=None, metavar="FOLDER",
                        help="score the runs FOLDER/gan and FOLDER/mle a previous invocation trained (no training)")


def real_row(n: int) -> dict:
    """Real training captions, scored exactly as the samples are: the level to match."""
    from seqgan_core.evaluation.bleu import bleu_scores, self_bleu_scores
    from seqgan_core.rules.data import read_sequences

    captions = read_sequences(TRAIN)
    picked = random.Random(SEED).sample(captions, n)
    refs = read_sequences(TEST)
    return {"model": f"real captions ({n} from coco_train)", **bleu_scores(picked, refs),
            **self_bleu_scores(picked, (4, 5))}


def evaluate(folder: Path, name: str, samples: int) -> dict:
    done = seqgan("evaluate", folder / name, "-n", samples, "--reference", TEST, "--json", cwd=folder)
    if done.returncode:
        raise SystemExit(f"coco: evaluate {name} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout)["reference"]


def copied_from_train(folder: Path, name: str, samples: int) -> float:
    """Share of the samples ``evaluate`` scored (seed 0, temperature 1) found in coco_train."""
    from seqgan_core.rules.data import read_sequences
    from seqgan_core.io.export import load_model
    from seqgan_core.rules.reference_file import as_strings

    drawn = as_strings(load_model(folder / name / "generator.pt").sample_tokens(samples, seed=0))
    known = set(read_sequences(TRAIN))
    return sum(d in known for d in drawn) / len(drawn)


def sweep(folder: Path, name: str, temps: list[float], samples: int) -> list[dict]:
    from seqgan_core.evaluation.bleu import References, bleu_scores, self_bleu_scores
    from seqgan_core.rules.data import read_sequences
    from seqgan_core.io.export import load_model
    from seqgan_core.rules.reference_file import as_strings, nll_of

    model = load_model(folder / name / "generator.pt")
    test = read_sequences(TEST)
    refs, known = References(test, max_n=5), set(read_sequences(TRAIN))
    rows = []
    for t in temps:
        drawn = as_strings(model.sample_tokens(samples, seed=SEED, temperature=t))
        rows.append({"model": name, "temperature": t, **bleu_scores(drawn, refs),
                     **self_bleu_scores(drawn, (4, 5)), "copied": sum(d in known for d in drawn) / len(drawn),
                     # NLL_gen on the first NLL_LINES test captions: the sweep's cost stays small
                     **nll_of(model, test[:NLL_LINES], t)})
        note(f"coco: {name} T={t}: BLEU-4 {rows[-1]['bleu4']:.3f}, Self-BLEU-4 {rows[-1]['self_bleu4']:.3f}")
    return rows


def plot(real: dict, curves: dict[str, list[dict]], path: Path) -> Path | None:
    return plot_sweep("coco", curves, "self_bleu4", "bleu4", path, xlabel="Self-BLEU-4 (lower = more diverse)",
                      ylabel="BLEU-4 vs coco_test (higher = better)",
                      title="COCO: quality against diversity over temperatures",
                      mark=lambda ax: ax.plot([real["self_bleu4"]], [real["bleu4"]], "k*", markersize=12,
                                              label="real captions"))


def run(args) -> list[dict]:
    temps = [float(t) for t in args.temps.split(",")]
    folder, gan, mle = gan_and_mle("coco", ["--data", TRAIN], args, SEED)
    real = real_row(args.samples)
    for row, name in ((gan, "gan"), (mle, "mle")):
        row.update(evaluate(folder, name, args.samples))
        row["copied_test"] = row["copied"]  # evaluate's "copied" is against FILE (the test captions)
        row["copied"] = copied_from_train(folder, name, args.samples)
    rows = [*PUBLISHED, real, gan, mle]
    say(table(rows, COLUMNS))
    say()
    for row in (gan, mle):
        say(f"- {row['model']}: `{row['command']}` ({row['steps']} steps, {row['stop'].replace('_', ' ')}, "
            f"{row['wall_s']:.0f} s wall, peak {row['peak_mb']:.0f} MB)")
    say(f"- scored with `seqgan evaluate RUN -n {args.samples} --reference {TEST.relative_to(DATA.parent.parent)}`")
    misses = []
    default = mle  # the targets are the default's: maximum likelihood alone on finite data
    for k in ("bleu2", "bleu3", "bleu4", "bleu5"):
        gap = default[k] - real[k]
        if abs(gap) > 0.02:
            misses.append(f"{k} {default[k]:.3f} vs real {real[k]:.3f}")
    if abs(default["self_bleu4"] - real["self_bleu4"]) > 0.03:
        misses.append(f"self_bleu4 {default['self_bleu4']:.3f} vs real {real['self_bleu4']:.3f}")
    if default["copied"] > 0.05:
        misses.append(f"copied {default['copied']:.1%} > 5 %")
    if default["wall_s"] > 600:
        misses.append(f"wall {default['wall_s']:.0f} s > 600 s")
    say("- target of the default (BLEU within .02 and Self-BLEU-4 within .03 of real, >= 95 % new, <= 10 min): "
        + ("met" if not misses else "missed: " + "; ".join(misses)))
    curves = {"seqgan GAN": sweep(folder, "gan", temps, args.samples),
              "MLE only": sweep(folder, "mle", temps, args.samples)}
    say()
    say(table([r for rows in curves.values() for r in rows],
              [("model", "model", ""), ("T", "temperature", "g"), ("BLEU-2", "bleu2", ".3f"), ("BLEU-4", "bleu4", ".3f"),
               ("Self-BLEU-4", "self_bleu4", ".3f"), ("copied (from train)", "copied", ".1%"),
               (f"NLL_gen ({NLL_LINES} lines)", "nll_gen", ".3f")]))
    say()
    say(f"- GAN at T=1 against the MLE curve: {dominance(gan, curves['MLE only'], curves['seqgan GAN'])}")
    png = plot(real, curves, Path(getattr(args, "png_dir", ".")) / "coco_bleu_selfbleu.png")
    if png:
        say(f"- plot: {png}")
    return [*rows, *[r for rows_ in curves.values() for r in rows_]]


MARGIN = 0.005  # BLEU-4: a GAN point closer than this to MLE's curve is "on" it, not outside


def dominance(point: dict, curve: list[dict], own_curve: list[dict] | None = None) -> str:
    """Whether ``point`` lies outside the curve by more than MARGIN: higher BLEU-4 than the curve at
    its Self-BLEU-4, i.e. better quality for the same diversity."""
    return against_curve(point, curve, own_curve, x="self_bleu4", y="bleu4", names=("Self-BLEU-4", "BLEU-4"),
                         margin=MARGIN, higher_is_better=True, sides=("above (outside: better)", "below (worse)"))
