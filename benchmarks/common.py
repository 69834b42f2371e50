"""What every benchmark section shares: running seqgan as users do, timing it, printing tables.

Training runs are whole processes — ``python -m seqgan_core train ...`` with seqgan's own thread
choice, as a user runs them — so wall time includes imports, plugin discovery, reference samples,
checks, the final metrics and the export. Peak memory is the child's own (``ru_maxrss``).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
DATA = BENCH / "data"
MB = 1024  # ru_maxrss is in KiB on Linux


def say(text: str = "") -> None:
    print(text, flush=True)


def note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def machine_line() -> str:
    import torch

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"torch {torch.__version__}; load average {load:.1f} at start; {time.strftime('%Y-%m-%d')}")


def machine() -> dict:
    """The machine a results file was measured on: what a reader needs to compare two of them."""
    import torch

    return {"cpu_count": os.cpu_count(), "platform": platform.platform(), "machine": platform.machine(),
            "python": platform.python_version(), "torch": torch.__version__,
            "load_average_at_start": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None}


RESULTS = BENCH / "results"


def write_results(name: str, command: str, figures, *, directory: Path | None = None, **extra) -> Path:
    """Write ``results/NAME.json``: the figures with the command, machine and date that produced them.

    The docs' benchmark pages are rendered from these files (benchmarks/render.py), so a rerun
    updates the docs without anyone copying numbers by hand. Written atomically: a benchmark
    killed while writing leaves the previous results intact.
    """
    directory = RESULTS if directory is None else Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    record = {"name": name, "command": command, "machine": machine(), "date": time.strftime("%Y-%m-%d"),
              **extra, "figures": figures}
    path = directory / f"{name}.json"
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            # default=str: a row may hold a Path (a run folder) beside its figures
            f.write(json.dumps(record, indent=1, default=str) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


@dataclass
class Done:
    returncode: int
    wall_s: float
    peak_mb: float
    stdout: str
    stderr: str


def run(args: list[str], cwd: Path | None = None, env: dict | None = None, timeout: float = 3600) -> Done:
    """Run a command to completion; wall time and the child's peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    out = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                         env={**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})})
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest of any child so far: exact for the first, a bound after
    return Done(out.returncode, wall, max(peak, before) / MB, out.stdout, out.stderr)


def seqgan(*args, cwd: Path | None = None, env: dict | None = None, timeout: float = 3600) -> Done:
    """``seqgan ARGS`` as a whole process, with the benchmark's suite rules importable."""
    path = os.pathsep.join(filter(None, [str(BENCH), os.environ.get("PYTHONPATH", "")]))
    return run([sys.executable, "-m", "seqgan_core", *map(str, args)], cwd=cwd,
               env={"PYTHONPATH": path, **(env or {})}, timeout=timeout)


def train_and_evaluate(train_args: list, n: int = 10_000, seed: int = 12_345, cwd: Path | None = None,
                       plugins: tuple = ("suite_rules",), timeout: float = 3600) -> dict:
    """``seqgan train`` into a fresh folder, then ``seqgan evaluate --json``; one row of figures."""
    folder = Path(tempfile.mkdtemp(prefix="seqgan-bench-"))
    p = [a for name in plugins for a in ("-p", name)]
    done = seqgan("train", *train_args, *p, "--out", folder / "run", cwd=cwd or folder, timeout=timeout)
    if done.returncode not in (0, 3):
        raise SystemExit(f"seqgan train {' '.join(map(str, train_args))} failed ({done.returncode}):\n{done.stderr}")
    config = json.loads((folder / "run" / "config.json").read_text())
    ev = seqgan("evaluate", folder / "run", "-n", n, "--seed", seed, "--json", *p, cwd=cwd or folder)
    if ev.returncode:
        raise SystemExit(f"seqgan evaluate failed:\n{ev.stderr}")
    metrics = json.loads(ev.stdout)
    return {"wall_s": done.wall_s, "peak_mb": done.peak_mb, "steps": config["steps"], "preset": config["preset"],
            "stop": config["stop_reason"], "train_seconds": config["seconds"], "verdict": metrics["verdict"],
            "folder": str(folder / "run"), **{k: v for k, v in metrics.items() if k != "verdict"}}


def table(rows: list[dict], columns: list[tuple[str, str, str]]) -> str:
    """A Markdown table; ``columns`` are (title, key, format)."""
    head = "| " + " | ".join(title for title, _, _ in columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    lines = [head, rule]
    for row in rows:
        cells = []
        for _, key, fmt in columns:
            value = row.get(key, "")
            cells.append(format(value, fmt) if fmt and value != "" else str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_sweep(label: str, curves: dict[str, list[dict]], x: str, y: str, path: Path, *, xlabel: str,
               ylabel: str, title: str, mark=None) -> Path | None:
    """One PNG of temperature sweeps: for each model of ``curves``, its rows as a line of
    (row[x], row[y]) points, each labelled with its temperature; ``mark(ax)`` draws the reference
    (real data, a floor). None, said on stderr, without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        note(f"{label}: matplotlib is not installed; no PNG")
        return None
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, rows in curves.items():
        ax.plot([r[x] for r in rows], [r[y] for r in rows], "o-", label=name)
        for r in rows:
            ax.annotate(f"{r['temperature']:g}", (r[x], r[y]), fontsize=7, textcoords="offset points", xytext=(3, 3))
    if mark is not None:
        mark(ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)  # --png-dir may name a folder not made yet
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def interpolate(rows: list[dict], x: float, xkey: str = "nll_test", ykey: str = "nll_oracle") -> float | None:
    """``ykey`` of the curve ``rows`` at ``xkey`` = x (linear between its points); None outside it."""
    pts = sorted((r[xkey], r[ykey]) for r in rows)
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if x0 <= x <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return None


def against_curve(point: dict, curve: list[dict], own_curve: list[dict] | None, *, x: str, y: str,
                  names: tuple[str, str], margin: float, higher_is_better: bool, sides: tuple[str, str]) -> str:
    """Where ``point`` lies against MLE's temperature ``curve``: its ``y`` beside the curve's at the
    same ``x`` (linear interpolation between sweep points), "better" only by more than ``margin``.
    ``own_curve`` (the GAN's own sweep) equal to ``curve`` means one model. ``names``: how ``x``
    and ``y`` are printed; ``sides``: the words for the better and the worse side."""
    x_name, y_name = names
    key = [(r[x], r[y]) for r in curve]
    if own_curve is not None and [(r[x], r[y]) for r in own_curve] == key:
        return "the same curve: the GAN is the MLE model (its adversarial phase did not run or changed nothing)"
    pts = sorted(key)
    px = point[x]
    if px is None or not pts[0][0] <= px <= pts[-1][0]:
        return f"{x_name} {px} is outside the MLE sweep's range {pts[0][0]:.3f}..{pts[-1][0]:.3f}; not comparable"
    at = interpolate(curve, px, x, y)
    gain = (point[y] - at) if higher_is_better else (at - point[y])
    side = sides[0] if gain > margin else f"on the curve (within {margin})" if gain >= -margin else sides[1]
    return f"{y_name} {point[y]:.3f} vs MLE's {at:.3f} at the same {x_name}: {side}"


def median_row(rows: list[dict], keys: list[str], **fixed) -> dict:
    return {**fixed, **{k: statistics.median(r[k] for r in rows) for k in keys}}


def train_side(label: str, target: list, folder: Path, name: str, extra: list, seed: int) -> dict:
    """``seqgan train TARGET --seed SEED EXTRA --out FOLDER/NAME`` as a whole process, for the
    sections that train a GAN and an MLE-only run side by side (oracle, coco)."""
    args = ["train", *target, "--seed", seed, *extra, "--out", folder / name]
    note(f"{label}: seqgan {' '.join(map(str, args))}")
    done = seqgan(*args, cwd=folder, timeout=4 * 3600)
    if done.returncode not in (0, 3):
        raise SystemExit(f"{label}: training {name} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    config = json.loads((folder / name / "config.json").read_text())
    return {"wall_s": done.wall_s, "peak_mb": done.peak_mb, "steps": config["steps"], "stop": config["stop_reason"],
            "command": "seqgan " + " ".join(str(a) for a in args[:-2])}


def trained(folder: Path, name: str) -> dict:
    """A run a previous invocation trained (``--reuse``): its own record of steps and seconds;
    the wall time of its process was not kept, so it is the training loop's own seconds."""
    config = json.loads((folder / name / "config.json").read_text())
    t = config["target"]
    command = (f"seqgan train {'--data ' + t['path'] if t.get('kind') == 'data' else '--rule ' + t['rule']} "
               f"--seed {config['seed']} (config in {folder / name / 'config.json'})")
    return {"wall_s": config["seconds"], "peak_mb": float("nan"), "steps": config["steps"],
            "stop": config["stop_reason"], "command": command}


def gan_and_mle(label: str, target: list, args, seed: int) -> tuple[Path, dict, dict]:
    """The GAN (``--set adversarial=true``) and the same model by maximum likelihood alone (the
    default on finite data: ``SequenceGAN.finite_data``), each a whole process,
    into a fresh folder — one after the other with ``--jobs 1`` (the default: each wall time is a
    user's run on this machine), side by side with ``--jobs 2`` (each wall time includes the
    other's load) — or, with ``--reuse FOLDER``, the runs a previous invocation left there.
    ``args``: the section's ``--max-steps``, ``--train-args`` and ``--reuse``, and ``--jobs``."""
    from concurrent.futures import ThreadPoolExecutor

    if args.max_steps:
        say(f"**Shortened**: both runs stop at --max-steps {args.max_steps} {args.train_args} (not the preset's own).\n")
    if args.reuse:
        folder = Path(args.reuse)
        return (folder, {"model": "seqgan GAN", **trained(folder, "gan")},
                {"model": "seqgan MLE only (the default)", **trained(folder, "mle")})
    jobs = 2 if getattr(args, "jobs", 1) >= 2 else 1
    say("The GAN and MLE-only runs " + ("side by side (--jobs 2): each wall time includes the other's load.\n"
                                        if jobs == 2 else "one after the other (--jobs 1).\n"))
    folder = Path(tempfile.mkdtemp(prefix=f"seqgan-{label}-"))
    extra = (["--max-steps", args.max_steps] if args.max_steps else []) + args.train_args.split()
    with ThreadPoolExecutor(jobs) as pool:
        runs = [pool.submit(train_side, label, target, folder, "gan", [*extra, "--set", "adversarial=true"], seed),
                pool.submit(train_side, label, target, folder, "mle", extra, seed)]
        return folder, {"model": "seqgan GAN", **runs[0].result()}, {"model": "seqgan MLE only (the default)",
                                                                             **runs[1].result()}
