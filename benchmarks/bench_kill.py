"""`benchmark.py kill`: random SIGKILLs in a run's last moments, and whether the model survives.

Each trial starts `seqgan train --rule multiples5 --preset article --max-steps 500 --threads 1`
as a subprocess and SIGKILLs it in the run's final stretch, in one of two ways (half the trials
each):

- ``final_row``: poll ``metrics.jsonl`` and kill as soon as it holds its final row (``"step":
  "final"``), after a random extra 0-300 ms: the issue's method;
- ``window``: kill at a uniformly random moment of the last ``--window`` seconds before a clean
  run's typical end (measured first, in the same invocation).

Then the folder must give the model back: ``seqgan sample DIR -n 3`` works as it is, or
``seqgan train --resume DIR`` (no other flag) finishes and then ``seqgan sample DIR -n 3`` works.
A trial *loses the model* if neither. A kill that lands after the process already exited is no
near-end kill: it is counted apart, and trials are drawn until ``--trials`` kills landed while
the process was alive. Folders of trials that lost the model are kept (their path is printed).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from common import note, say, table

RULE_FLAGS = ["--rule", "multiples5", "--preset", "article", "--threads", "1"]
MAX_STEPS = 500  # the run
FINISHED = (0, 3)  # train's exit codes of a finished run: 3 = saved, but the verdict is "not learned"
KINDS = ("final_row", "window")
FINAL_ROW_DELAY_S = 0.3  # final_row trials kill up to this long after the final row appears
POLL_S = 0.002  # how often metrics.jsonl is read while waiting for the final row
# where a kill landed, read from the folder it left: no checkpoint yet (with --max-steps equal to
# checkpoint_every, the first checkpoint is the end's own, so nothing is saved before it), a
# checkpoint not marked finished (the end's ordered writes), a finished checkpoint (exiting)
PHASES = ("before any checkpoint", "final sequence", "after the final checkpoint")
TIMEOUT_S = 600  # a seqgan call that takes longer than this is a hang, recorded as a failure


def add_arguments(parser) -> None:
    parser.add_argument("--trials", type=int, default=40, help="kills that land while the run is alive (default 40)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill times (default 0)")
    parser.add_argument("--window", type=float, default=2.0,
                        help="window trials kill within this many seconds before a clean run's end (default 2)")
    parser.add_argument("--keep", default=None, metavar="DIR",
                        help="keep the folders of trials that lost the model here (default: a temporary folder)")


def _env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}


def _command(*args) -> list[str]:
    return [sys.executable, "-m", "seqgan_core", *map(str, args)]


def _train_command(out: Path, max_steps: int) -> list[str]:
    return _command("train", *RULE_FLAGS, "--max-steps", max_steps, "--out", out)


def _final_row(out: Path) -> bool:
    """Whether ``out/metrics.jsonl`` holds its final row (the file is replaced atomically, so a read
    sees a whole version; a missing file is no final row yet)."""
    try:
        text = (out / "metrics.jsonl").read_text(encoding="utf-8")
    except OSError:
        return False
    lines = text.strip().splitlines()
    if not lines:
        return False
    try:
        return json.loads(lines[-1]).get("step") == "final"
    except json.JSONDecodeError:
        return False


@dataclass
class CleanRun:
    """A clean run's timeline, seconds from the process's start: what the window is placed on."""
    returncode: int
    checkpoint_s: float | None  # checkpoint.pt first seen (the routine one on the final step)
    generator_s: float | None  # generator.pt first seen
    final_row_s: float | None  # metrics.jsonl first seen holding its final row
    end_s: float  # the process exited


def clean_run(folder: Path, max_steps: int = MAX_STEPS) -> CleanRun:
    """One run left alone, its files watched as they appear."""
    out = folder / "run"
    folder.mkdir(parents=True, exist_ok=True)
    seen: dict[str, float] = {}
    started = time.perf_counter()
    log = folder / "train.stderr"  # a file, not a pipe: nothing reads a pipe while the run goes on
    with log.open("w") as err:
        proc = subprocess.Popen(_train_command(out, max_steps), cwd=folder, env=_env(),
                                stdout=subprocess.DEVNULL, stderr=err)
    while proc.poll() is None:
        now = time.perf_counter() - started
        for name in ("checkpoint.pt", "generator.pt"):
            if name not in seen and (out / name).exists():
                seen[name] = now
        if "final_row" not in seen and _final_row(out):
            seen["final_row"] = now
        time.sleep(POLL_S)
    end = time.perf_counter() - started
    if proc.returncode not in FINISHED:
        raise SystemExit(f"the clean run failed ({proc.returncode}):\n{log.read_text()}")
    return CleanRun(proc.returncode, seen.get("checkpoint.pt"), seen.get("generator.pt"), seen.get("final_row"), end)


@dataclass
class Trial:
    """One kill and what the folder gave back afterwards."""
    kind: str  # final_row | window
    planned_delay_s: float  # final_row: after the final row appeared; window: after the start
    kill_s: float | None  # when SIGKILL was sent, seconds from the start (None: never sent, the run ended first)
    landed: bool  # the SIGKILL ended the process (False: it had already exited)
    train_rc: int  # the killed process's exit status (-9 when the kill landed)
    files: list[str]  # the run folder's files right after the kill
    stop_reason: str | None  # checkpoint.pt's stop_reason (None: not marked finished), or "-" without one
    pending: str | None  # checkpoint.pt's pending (training over, saving left)
    checkpoint_step: int | None
    phase: str = ""  # where the kill landed, read from the folder: see PHASES
    sample_rc: int | None = None  # `seqgan sample DIR -n 3` right after the kill
    resume_rc: int | None = None  # `seqgan train --resume DIR`, when the sample failed
    resumed_sample_rc: int | None = None  # `seqgan sample DIR -n 3` after the resume
    recovered_by: str = ""  # "sample" | "resume" | "" (the model is lost)
    stderr: str = ""  # the failing command's stderr, last lines
    folder: str = ""  # kept when the model was lost
    extra: dict = field(default_factory=dict)

    @property
    def lost(self) -> bool:
        return not self.recovered_by


def _checkpoint_facts(out: Path) -> tuple[str | None, str | None, int | None]:
    path = out / "checkpoint.pt"
    if not path.exists():
        return "-", None, None
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - a damaged checkpoint is a finding, recorded as such
        return f"unreadable: {type(e).__name__}", None, None
    return state.get("stop_reason"), state.get("pending"), state.get("step")


def _call(*args, cwd: Path) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(_command(*args), cwd=cwd, env=_env(), capture_output=True, text=True,
                              timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        return subprocess.CompletedProcess(e.cmd, -1, "", f"timed out after {TIMEOUT_S} s")


def _tail(text: str, lines: int = 6) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def trial(kind: str, delay_s: float, folder: Path, max_steps: int = MAX_STEPS) -> Trial:
    """Start a run in ``folder/run``, SIGKILL it (``kind`` and ``delay_s`` as in the module's
    docstring), then try to get its model back."""
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} is not one of {KINDS}")
    out = folder / "run"
    started = time.perf_counter()
    proc = subprocess.Popen(_train_command(out, max_steps), cwd=folder, env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if kind == "final_row":
        while proc.poll() is None and not _final_row(out):
            time.sleep(POLL_S)
        deadline = time.perf_counter() + delay_s
    else:
        deadline = started + delay_s
    while proc.poll() is None and time.perf_counter() < deadline:
        time.sleep(min(POLL_S, max(0.0, deadline - time.perf_counter())))
    kill_s = None
    if proc.poll() is None:
        kill_s = time.perf_counter() - started
        proc.send_signal(signal.SIGKILL)  # an exit between poll and here leaves a zombie: the kill is a no-op
    rc = proc.wait()
    files = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
    stop_reason, pending, step = _checkpoint_facts(out)
    t = Trial(kind, round(delay_s, 4), None if kill_s is None else round(kill_s, 4), rc == -signal.SIGKILL, rc,
              files, stop_reason, pending, step)
    t.phase = PHASES[0] if stop_reason == "-" else PHASES[2] if stop_reason else PHASES[1]
    sample = _call("sample", out, "-n", 3, cwd=folder)
    t.sample_rc = sample.returncode
    if sample.returncode == 0 and sample.stdout.strip():
        t.recovered_by = "sample"
        return t
    resume = _call("train", "--resume", out, cwd=folder)
    t.resume_rc = resume.returncode
    if resume.returncode not in FINISHED:
        t.stderr = _tail(resume.stderr)
        return t
    again = _call("sample", out, "-n", 3, cwd=folder)
    t.resumed_sample_rc = again.returncode
    if again.returncode == 0 and again.stdout.strip():
        t.recovered_by = "resume"
    else:
        t.stderr = _tail(again.stderr)
    return t


def run(args) -> dict:
    max_steps = args.max_steps or MAX_STEPS
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="seqgan-kill-"))
    keep = Path(args.keep) if args.keep else work / "lost"
    say(f"## kill: SIGKILL near the end of `seqgan train {' '.join(RULE_FLAGS)} --max-steps {max_steps}`, "
        f"{args.trials} kills that land, seed {args.seed}\n")
    cleans = [clean_run(work / f"clean{i}", max_steps) for i in range(2)]
    end = statistics.median(c.end_s for c in cleans)
    window = (max(0.0, end - args.window), end)
    for c in cleans:
        note(f"  clean run: checkpoint at {c.checkpoint_s} s, generator at {c.generator_s} s, "
             f"final row at {c.final_row_s} s, exit {c.returncode} at {c.end_s:.2f} s")
    note(f"  window trials kill within {window[0]:.2f}..{window[1]:.2f} s of the start")
    want = {kind: args.trials // 2 + (i < args.trials % 2) for i, kind in enumerate(KINDS)}
    landed = {kind: 0 for kind in KINDS}
    trials: list[Trial] = []
    while any(landed[k] < want[k] for k in KINDS):
        if len(trials) >= 4 * args.trials + 10:
            note("  too many kills land after the process exited; stopping early")
            break
        kind = next(k for k in KINDS if landed[k] < want[k]) if len(trials) % 2 == 0 else \
            next(k for k in reversed(KINDS) if landed[k] < want[k])
        delay = rng.uniform(0.0, FINAL_ROW_DELAY_S) if kind == "final_row" else rng.uniform(*window)
        folder = work / f"trial{len(trials)}"
        folder.mkdir()
        t = trial(kind, delay, folder, max_steps)
        landed[kind] += t.landed
        if t.lost:
            kept = keep / folder.name
            shutil.copytree(folder, kept, dirs_exist_ok=True)
            t.folder = str(kept)
        else:
            shutil.rmtree(folder, ignore_errors=True)
        trials.append(t)
        note(f"  {len(trials):3d} {kind:9s} kill at {t.kill_s} s ({'landed' if t.landed else 'after exit'}, "
             f"rc {t.train_rc}); files {','.join(t.files)}; checkpoint step {t.checkpoint_step} "
             f"stop {t.stop_reason} pending {t.pending} ({t.phase}); recovered by {t.recovered_by or 'NOTHING: LOST'}")
    rows = []
    for t in trials:
        row = {k: v for k, v in asdict(t).items() if k != "extra"}
        row["files"] = ", ".join(t.files)
        row["lost"] = t.lost
        rows.append(row)
    summary = []
    for kind in KINDS:
        mine = [t for t in trials if t.kind == kind]
        near = [t for t in mine if t.landed]
        summary.append({"kind": kind, "kills_landed": len(near), "after_exit": len(mine) - len(near),
                        "lost": sum(t.lost for t in near), "by_sample": sum(t.recovered_by == "sample" for t in near),
                        "by_resume": sum(t.recovered_by == "resume" for t in near),
                        "lost_after_exit": sum(t.lost for t in mine if not t.landed),
                        **{f"landed_{i}": sum(t.phase == phase for t in near) for i, phase in enumerate(PHASES)},
                        "lost_with_checkpoint": sum(t.lost for t in near if t.phase != PHASES[0])})
    total = {"kind": "all", **{k: sum(s[k] for s in summary) for k in summary[0] if k != "kind"}}
    summary.append(total)
    columns = [("kind", "kind", ""), ("kills landed", "kills_landed", ""), ("lost the model", "lost", ""),
               ("sample worked", "by_sample", ""), ("resume, then sample", "by_resume", ""),
               ("kills after exit", "after_exit", ""), ("lost after exit", "lost_after_exit", ""),
               *((f"landed: {phase}", f"landed_{i}", "") for i, phase in enumerate(PHASES)),
               ("lost, a checkpoint present", "lost_with_checkpoint", "")]
    say(table(summary, columns))
    say(f"\n**{total['lost']} of {total['kills_landed']} near-end SIGKILLs lost the model** "
        f"({total['after_exit']} more landed after the process had exited); "
        f"{total['lost_with_checkpoint']} of {total['kills_landed'] - total['landed_0']} kills that found a "
        f"checkpoint lost it.")
    lost = [t for t in trials if t.lost]
    for t in lost:
        say(f"\nlost: {t.kind} kill at {t.kill_s} s, folder {t.folder}, files {t.files}, "
            f"sample rc {t.sample_rc}, resume rc {t.resume_rc}:\n{t.stderr}")
    timeline = [{"run": i, "returncode": c.returncode, "checkpoint_s": c.checkpoint_s, "generator_s": c.generator_s,
                 "final_row_s": c.final_row_s, "end_s": round(c.end_s, 3)} for i, c in enumerate(cleans)]
    if not lost:
        shutil.rmtree(work, ignore_errors=True)
    trial_columns = ["kind", "planned_delay_s", "kill_s", "landed", "train_rc", "phase", "files", "stop_reason", "pending",
                     "checkpoint_step", "sample_rc", "resume_rc", "resumed_sample_rc", "recovered_by", "lost"]
    return {"tables": [
        {"title": "Summary", "columns": [{"key": k, "label": label} for label, k, _ in columns], "rows": summary,
         "note": f"Window trials kill uniformly within {window[0]:.2f}..{window[1]:.2f} s of the start "
                 f"(the last {args.window:g} s before the clean runs' median end); final_row trials "
                 f"0-{FINAL_ROW_DELAY_S * 1000:.0f} ms after metrics.jsonl holds its final row."},
        {"title": "Clean runs", "columns": [{"key": k, "label": k} for k in timeline[0]], "rows": timeline,
         "note": "Seconds from the process's start at which each file first appeared (polled)."},
        {"title": "Every trial", "columns": [{"key": k, "label": k} for k in trial_columns], "rows": rows},
    ]}
