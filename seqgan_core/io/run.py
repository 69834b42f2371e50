"""A run folder, and the run policy: train into a folder, resume from it, finish it safely.

    generator.pt | generator.pt2   the sampler (TorchScript or torch.export: programs, --format)
    generator.weights.pt           its tensors alone (data, safe to share): written by every run, and
                                   what `seqgan sample/evaluate RUN_DIR` load (no code from the folder runs)
    config.json                    target, preset and why, settings, steps, verdict, versions
    history.jsonl                  every check: step, phase, validity, TV, distance, NLL, losses
    metrics.jsonl                  full metrics every `metrics_every` steps, and a "final" row
    checkpoint.pt                  everything needed to resume (`seqgan train --resume RUN_DIR`)

Every file is written atomically: a run killed mid-write keeps the previous version. The end of a
run is one ordered, idempotent sequence: a checkpoint whose training is *pending* (over, only the
saving left), then the generator, its weights, config.json, the final metrics, the history, and
last the checkpoint that says the run is finished. A run killed at any of these writes leaves a
checkpoint that ``--resume`` finishes by writing the files without training (a routine checkpoint
on the final step counts as pending too), and from the generator's write on a model that samples.
A write that fails (a full disk) keeps what could be written, and the error names what is whole.
A run holds the folder's lock (``lock.py``) from before its first write to after its last.

``train_run`` is what ``seqgan train`` calls; it takes plain values and returns a ``RunOutcome``.
"""

from __future__ import annotations

import io
import json
import math
import os
import platform
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from seqgan_core._version import __version__
from seqgan_core.runtime import atomic, distributed
from seqgan_core.runtime.atomic import WriteError, remove_leftovers, write_bytes, write_text
from seqgan_core.runtime.lock import RunLock
from seqgan_core.engine.config import TrainConfig
from seqgan_core.errors import ModelFileError, SeqganError
from seqgan_core.io.export import FORMATS, metadata, save_sampler, stored_tokens
from seqgan_core.evaluation.metrics import evaluate, reference
from seqgan_core.rules.rule import PluginCallStopped, Rule
from seqgan_core.rules.target import Target, rule_target
from seqgan_core.evaluation.temperature import CHOICE_SEED_OFFSET, choose, clearly
from seqgan_core.engine.training import CHECKPOINT_VERSION, Progress, StopRequest, Trainer, TrainResult
from seqgan_core.evaluation.verdict import Verdict, judge, validity_needed

CHECKPOINT_FILE = "checkpoint.pt"
CONFIG_FILE = "config.json"
HISTORY_FILE = "history.jsonl"
METRICS_FILE = "metrics.jsonl"
METRICS_SAMPLES = 2000  # sequences sampled for each periodic metrics line
FINAL_SAMPLES = 5000  # sequences behind the final metrics and the verdict
# any of these in a folder means it holds a run that a fresh `train` must not overwrite; a folder
# with only metrics.jsonl (a run killed before its first checkpoint) holds nothing to keep
RUN_FILES = (*FORMATS.values(), CONFIG_FILE, CHECKPOINT_FILE)
NO_CHOICE = {"temperature": 1.0, "min_p": 0.0, "tried": []}  # the trained distribution, nothing tried
MAX_CHECKPOINT_BYTES = 16 << 30  # read before torch.load: a bigger "checkpoint" is not one seqgan wrote
FINISH_PAUSE_ENV = "SEQGAN_TEST_FINISH_PAUSE"  # tests only: seconds to wait between the end-of-run writes


def refuse_existing_run(out: Path) -> None:
    """A fresh run must never overwrite one someone paid for."""
    held = [name for name in RUN_FILES if (out / name).exists()]
    if not held:
        return
    if CHECKPOINT_FILE in held:
        raise SeqganError(
            f"{str(out)!r} already holds a run; pick another --out (or, if it was interrupted, "
            f"continue it with --resume {out})"
        )
    raise SeqganError(f"{str(out)!r} already holds a run ({', '.join(held)}) that cannot be resumed; "
                      "pick another --out")


_warned: set[Path] = set()  # files whose failed write was already reported


def _write_soon(path: Path, write: Callable[[], None]) -> bool:
    """A write during training: a failure is a warning, once per file (the run goes on, and the
    next write may fit); the end of the run tries again and reports for good."""
    try:
        write()
        return True
    except WriteError as e:
        if path not in _warned:
            _warned.add(path)
            warnings.warn(f"{e}; training goes on, and {path.name} is written again at the next save", stacklevel=2)
        return False


def finite(value: float) -> float | None:
    """JSON has no inf or NaN: None stands for 'no value yet'."""
    return value if math.isfinite(value) else None


def _jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


@dataclass
class RunOutcome:
    out: Path  # the run folder
    model: Path  # the saved generator
    result: TrainResult
    metrics: dict  # the final metrics of the saved generator
    verdict: Verdict
    resumed_at: int = 0  # the step a resumed run continued from (0 for a fresh run)
    temperature: float = 1.0  # the saved sampler's temperature (seqgan_core.evaluation.temperature)
    temperatures_tried: list = field(default_factory=list)  # what each sampler tried measured, when T = 1 failed
    min_p: float = 0.0  # the saved sampler's min-p (0 = every token)


class MetricsLog:
    """Callback: every ``every`` steps, evaluate a sample and rewrite metrics.jsonl atomically."""

    def __init__(self, out_dir: str | Path, target: Target, every: int, n: int = METRICS_SAMPLES,
                 resume_at: int = 0):
        self.path = Path(out_dir) / METRICS_FILE
        self.target, self.every, self.n = target, every, n
        # a resumed run continues its file up to its checkpoint: no summary row of the interruption,
        # no row written after the checkpoint (those steps are about to be trained again)
        self.rows: list[dict] = [
            r for r in (read_jsonl(self.path) if resume_at else [])
            if isinstance(r.get("step"), int) and r["step"] <= resume_at
        ]

    def __call__(self, p: Progress) -> None:
        if p.step % self.every == 0:
            self.add({"step": p.step, "phase": p.phase, **p.losses}, p.sample(self.n))

    def measure(self, seqs: torch.Tensor) -> dict:
        """Every metric of ``seqs`` ``(n, L)``: against the rule's reference, and the target's own."""
        row = evaluate(seqs, reference(self.target.rule))
        extra = self.target.extra_metrics(seqs)
        if extra:
            row["rule_metrics"] = extra
        return row

    def add(self, fields: dict, seqs: torch.Tensor) -> dict:
        return self.append({**fields, **self.measure(seqs)})

    def append(self, row: dict) -> dict:
        self.rows.append(row)
        _write_soon(self.path, lambda: write_text(self.path, _jsonl(self.rows)))
        return row


class Checkpointer:
    """Callback: save the trainer's state to checkpoint.pt every ``every`` steps."""

    def __init__(self, out_dir: str | Path, every: int, target: Target, fmt: str = "torchscript", choice: str = ""):
        self.path, self.every, self.target, self.format = Path(out_dir) / CHECKPOINT_FILE, every, target, fmt
        self.choice = choice

    def __call__(self, p: Progress) -> None:
        if p.step % self.every == 0:
            _write_soon(self.path, lambda: self.save(p.trainer))

    def save(self, trainer: Trainer, stop_reason: str | None = None, pending: str | None = None,
             state: dict | None = None) -> None:
        """``stop_reason``: how the run ended (None while it is still going, "interrupted").
        ``pending``: how a run ended whose generator could not be written (then ``stop_reason`` is
        None, and ``--resume`` only writes the model).

        Under data-parallel training every rank calls this (``trainer.state_dict()`` gathers from
        all of them) and rank 0 alone writes; ``state`` is one gathered earlier."""
        state = state if state is not None else trainer.state_dict()
        if not distributed.is_writer():
            return
        state = {**state, "target": self.target.record, "stop_reason": stop_reason,
                 "pending": pending, "identity": identity(self.target), "format": self.format,
                 "choice": self.choice}
        buffer = io.BytesIO()  # serialised first: a full disk is then a WriteError naming the file
        torch.save(state, buffer)
        write_bytes(self.path, buffer.getvalue())


def identity(target: Target) -> dict:
    """What a checkpoint was trained on: the rule as its plugin defines it, and the data file's bytes."""
    rule = target.rule
    tokens, _ = stored_tokens(list(rule.vocabulary))
    ident = {"rule": rule.name, "plugin": rule.plugin, "vocab": tokens, "length": rule.length,
             "eos": rule.eos_index}
    if target.record.get("sha256"):
        ident["sha256"] = target.record["sha256"]
    return ident


def check_identity(state: dict, target: Target, run: Path) -> None:
    """Refuse to resume on other data or another rule than the checkpoint was trained on."""
    saved = state.get("identity")
    if not saved:
        return  # written before seqgan stored it
    now = identity(target)
    where = f"{run / CHECKPOINT_FILE}"
    if target.dataset is not None:
        if saved.get("sha256") and now.get("sha256") and saved["sha256"] != now["sha256"]:
            raise SeqganError(f"{target.record['path']} is not the file this run was trained on (its contents "
                              f"changed since {where} was written); pass the original file with --resume-data FILE")
    for key, label in (("rule", "rule name"), ("vocab", "vocabulary"), ("length", "sequence length"),
                       ("eos", "end token")):
        if saved.get(key) != now.get(key):
            what = (f"data file {target.record['path']}" if target.dataset is not None
                    else f"rule {target.rule.name!r} (plugin {target.rule.plugin})")
            raise SeqganError(f"{what} has another {label} than {where} was trained on; resume with the "
                              "rule or data the run started with, or start a new run")


def load_checkpoint(run_dir: str | Path) -> dict:
    """The checkpoint of a run folder, opened with ``weights_only=True`` (no pickled code runs)."""
    run = Path(run_dir)
    path = run / CHECKPOINT_FILE
    if not run.is_dir():
        raise SeqganError(f"--resume {str(run)!r} is not a run folder")
    if not path.is_file():
        raise SeqganError(f"{str(run)!r} has no {CHECKPOINT_FILE} to resume from")
    if path.stat().st_size > MAX_CHECKPOINT_BYTES:
        raise SeqganError(f"{path} holds {path.stat().st_size:,} bytes, more than a seqgan checkpoint "
                          f"({MAX_CHECKPOINT_BYTES:,} at most); it is damaged or not written by seqgan")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        version = int(state["checkpoint_version"])
        state["config"], state["target"], state["step"]  # noqa: B018 - presence check
        max_steps = state["config"]["max_steps"]
    except Exception as e:  # noqa: BLE001 - damaged archives raise many types
        raise SeqganError(f"{path} is damaged and cannot be resumed ({type(e).__name__})") from None
    step = state["step"]
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise SeqganError(f"{path} is damaged: its step is {_short(step)}, not a whole number of steps; "
                          "resume another copy of the run or start a new one")
    bad = _non_finite(state.get("parts"), "parts")
    if bad:
        raise SeqganError(f"{path} is damaged: {bad} holds NaN or infinite values; resume another copy of "
                          "the run or start a new one")
    if version > CHECKPOINT_VERSION:
        raise SeqganError(f"{path} was written by a newer seqgan (checkpoint version {version}); upgrade seqgan")
    if version < CHECKPOINT_VERSION:
        raise SeqganError(f"{path} was written by an older seqgan (checkpoint version {version}) and cannot be "
                          "resumed by this one; start a new run")
    finished = state.get("stop_reason")
    if finished == "diverged":
        raise SeqganError(f"the run in {str(run)!r} diverged at step {state['step']}; start a new one with a lower --lr")
    if finished in ("early_stopping", "memorising", "budget", "max_steps"):
        raise SeqganError(
            f"the run in {str(run)!r} already finished ({finished.replace('_', ' ')} at step {state['step']}); "
            "nothing to resume"
        )
    if (finished is None and not state.get("pending") and isinstance(max_steps, int)
            and not isinstance(max_steps, bool) and step >= max_steps):
        # a routine checkpoint on the run's last step, and the run killed before its end was saved:
        # training is over, only the saving is left (``--resume`` writes the model without training)
        state["pending"], state["pending_at_last_step"] = "max_steps", True
    return state


def _non_finite(value, where: str) -> str:
    """The first floating-point tensor inside ``value`` (dicts and lists) with NaN or inf, by its key path."""
    if isinstance(value, torch.Tensor):
        return where if value.is_floating_point() and not bool(torch.isfinite(value).all()) else ""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, (list, tuple)) else ()
    for key, item in items:
        bad = _non_finite(item, f"{where}.{key}")
        if bad:
            return bad
    return ""


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def summary(result: TrainResult, target: Target, verdict: Verdict | None = None, choice: str = "",
            sampling: dict | None = None) -> dict:
    """config.json; ``sampling``: the sampler's temperature and min-p, and the others tried (temperature.py)."""
    sampling = {**NO_CHOICE, **(sampling or {})}
    return {
        "rule": target.rule.name,
        "plugin": target.rule.plugin,
        "target": target.record,
        "preset": result.config.preset,
        "choice": choice,
        "config": result.config.to_dict(),
        "seed": result.config.seed,
        "processes": distributed.world_size(),  # data-parallel ranks; the global batch is this x batch_size
        "steps": result.steps,
        "best_distance": finite(result.best_distance),
        "best_step": result.best_step if result.best_step >= 0 else None,
        "kept_on": result.kept_on,
        "best_nll": result.best_nll,
        "stop_reason": result.stop_reason,
        "message": result.message,
        "lr_cuts": result.cuts,  # steps at which a plateau cut the learning rates instead of ending a phase
        "seconds": round(result.seconds, 3),
        "threads_used": torch.get_num_threads(),  # reproducible for this count (seqgan_core.runtime.threads)
        "thread_changes": result.thread_changes,  # [step, threads, other processes' cores]: ThreadGovernor
        "verdict": verdict.to_dict() if verdict else None,
        "temperature": sampling["temperature"],  # the saved sampler draws with these unless told otherwise
        "min_p": sampling["min_p"],
        "temperatures_tried": sampling["tried"],
        "versions": {
            "seqgan": __version__,
            "torch": torch.__version__,
            "python": platform.python_version(),
        },
    }


def run_writes(out_dir: str | Path, result: TrainResult, target: Target | Rule, fmt: str = "torchscript",
               verdict: Verdict | None = None, choice: str = "", measured: dict | None = None,
               sampling: dict | None = None) -> list[tuple[str, Callable[[], None]]]:
    """The files a finished run writes, in order, as (file name, write): the model, its weights-only
    copy (what `seqgan sample RUN_DIR` loads, running no code from the folder), config.json and
    history.jsonl. Each write is atomic and may be repeated: the end of a run is idempotent."""
    if isinstance(target, Rule):
        target = rule_target(target)
    out = Path(out_dir)
    info = summary(result, target, verdict, choice, sampling)
    info["format"] = fmt
    meta = metadata(target.rule, config=info["config"], target=target.record, steps=result.steps,
                    best_distance=finite(result.best_distance), stop_reason=result.stop_reason,
                    verdict=info["verdict"], measured=measured or {}, temperature=info["temperature"],
                    min_p=info["min_p"])
    kinds = [fmt] if fmt == "weights" else [fmt, "weights"]
    writes = [(FORMATS[kind], lambda kind=kind: save_sampler(result.generator, meta, out / FORMATS[kind], kind,
                                                             temperature=info["temperature"], min_p=info["min_p"]))
              for kind in kinds]
    writes.append((CONFIG_FILE, lambda: write_text(out / CONFIG_FILE, json.dumps(info, indent=2) + "\n")))
    writes.append((HISTORY_FILE, lambda: write_text(out / HISTORY_FILE, _jsonl(result.history))))
    return writes


def save_run(out_dir: str | Path, result: TrainResult, target: Target | Rule, fmt: str = "torchscript",
             verdict: Verdict | None = None, choice: str = "", measured: dict | None = None,
             sampling: dict | None = None) -> Path:
    """Write the model first, then its weights, config.json and history.jsonl; each atomically."""
    for _, write in run_writes(out_dir, result, target, fmt, verdict, choice, measured, sampling):
        write()
    return Path(out_dir) / FORMATS[fmt]


def final_verdict(trainer: Trainer, result: TrainResult, metrics: dict, data: bool = False) -> Verdict:
    return judge(metrics, steps=result.steps, max_steps=trainer.config.max_steps, stop_reason=result.stop_reason,
                 autoregressive=trainer.recipe.autoregressive,
                 patience=trainer.config.patience, data=data)


def heldout_figures(trainer: Trainer, result: TrainResult, target: Target) -> dict:
    """A data run's held-out NLL of the saved generator on the whole held-out part, beside the
    best bigram model's: figures only a run can measure (the exported sampler gives no likelihoods),
    stored in the model file for ``evaluate``."""
    if target.dataset is None or not trainer.recipe.autoregressive:
        return {}
    nll, se = trainer.heldout_nll(result.generator, target.dataset.heldout)
    return {"heldout_nll": nll, "heldout_nll_se": se, "bigram_heldout_nll": target.dataset.bigram_nll()}


def train_run(target: Target, config: TrainConfig, out: str | Path, fmt: str = "torchscript",
              state: dict | None = None, callbacks: list[Callable[[Progress], None]] = (),
              choice: str = "", stop: StopRequest | None = None) -> RunOutcome:
    """Train ``target`` into the run folder ``out`` (continuing ``state``, a loaded checkpoint).

    Set ``stop.requested`` (a signal handler does) to stop between two steps: the run then saves
    like any other, and its checkpoint can be resumed. The folder is locked for the whole run.

    Under data-parallel training (``seqgan_core.runtime.distributed``) every rank calls this; rank 0 alone
    locks, measures and writes, the others return an outcome without metrics or verdict.
    """
    out = Path(out)
    if not distributed.is_writer():  # rank 0 holds the lock and checks the folder for every rank
        return _train_locked(target, config, out, fmt, state, callbacks, choice, stop)
    with RunLock(out):
        # checked again under the lock: another run may have written the folder since the caller looked
        if state is None:
            refuse_existing_run(out)
        elif int(load_checkpoint(out)["step"]) != int(state["step"]):
            raise SeqganError(f"the run in {str(out)!r} changed while this resume started; run --resume again")
        remove_leftovers(out)  # temporary files of a killed run; the lock says no live writer owns them
        return _train_locked(target, config, out, fmt, state, callbacks, choice, stop)


def _train_locked(target, config, out, fmt, state, callbacks, choice, stop) -> RunOutcome:
    resume_at = int(state["step"]) if state else 0
    checkpointer = Checkpointer(out, config.checkpoint_every, target, fmt, choice)
    writer = distributed.is_writer()
    metrics_log = MetricsLog(out, target, config.metrics_every, resume_at=resume_at) if writer else None
    logs = [metrics_log] if writer else []
    trainer = Trainer(target.rule, config, callbacks=[*callbacks, *logs, checkpointer], stop=stop)
    if state is not None:
        try:
            trainer.load_state_dict(state)
        except (KeyError, RuntimeError, ValueError, TypeError):
            raise SeqganError(f"{out / CHECKPOINT_FILE} does not fit the model this run builds (another rule, "
                              "data file or seqgan version wrote it); start a new run") from None
    pending = state.get("pending") if state else None
    if pending and state.get("pending_at_last_step") and config.max_steps > resume_at:
        pending = None  # its last routine checkpoint, resumed with a larger --max-steps: train on
    try:
        return _train_and_finish(trainer, target, out, fmt, pending, resume_at, checkpointer, metrics_log, choice)
    except PluginCallStopped as e:  # a hung plugin call, abandoned: what the run keeps is its last checkpoint
        raise PluginCallStopped(f"{e}; {_last_checkpoint(out)}", e.interrupted) from None


def _train_and_finish(trainer, target, out, fmt, pending, resume_at, checkpointer, metrics_log, choice) -> RunOutcome:
    writer = metrics_log is not None
    # a pending run (killed or out of space in its final sequence): training is over, only the saving is left
    result = trainer.result(pending) if pending else trainer.run()
    if not writer:
        checkpointer.save(trainer, result.stop_reason)  # its part of the gather; rank 0 writes
        return RunOutcome(out, out / FORMATS[fmt], result, {}, None, resume_at)
    # the last collective before rank 0's long final measurement, so no rank waits on it for a timeout
    final_state = trainer.state_dict()
    begin_end(checkpointer, trainer, result, final_state)
    # the final metrics measure the generator that is saved, on the checks' own noise
    final = metrics_log.measure(trainer.sample(FINAL_SAMPLES, result.generator))
    measured = heldout_figures(trainer, result, target)
    sampling = choose_temperature(trainer, result, target, final)
    if (sampling["temperature"], sampling["min_p"]) != (1.0, 0.0):
        final = metrics_log.measure(trainer.sample(FINAL_SAMPLES, result.generator, sampling["temperature"],
                                                   min_p=sampling["min_p"]))
    metrics = {"step": "final", "steps": result.steps, **measured, "temperature": sampling["temperature"],
               "min_p": sampling["min_p"], **final}
    metrics_log.rows.append(metrics)  # written in the final sequence, after the model
    verdict = final_verdict(trainer, result, metrics, data=target.dataset is not None)
    model = finish(out, trainer, checkpointer, result, target, fmt, verdict, choice, measured, final_state,
                   sampling, metrics_log)
    return RunOutcome(out, model, result, metrics, verdict, resume_at, sampling["temperature"],
                      sampling["tried"], sampling["min_p"])


def _last_checkpoint(out: Path) -> str:
    """What a run stopped mid-step keeps, said in words (its state mid-step is not saved: it may be
    half a step)."""
    try:
        step = torch.load(out / CHECKPOINT_FILE, map_location="cpu", weights_only=True)["step"]
    except Exception:  # noqa: BLE001 - none yet, or unreadable: nothing to resume
        return "no checkpoint was written yet (one every checkpoint_every steps), so train again"
    return f"the checkpoint at step {step} is kept: continue with `seqgan train --resume {out}`"


def begin_end(checkpointer: Checkpointer, trainer: Trainer, result: TrainResult, state: dict) -> None:
    """The first write of a run's end: a checkpoint that says training is over and only the saving
    is left (``pending``), so a run killed anywhere in its final sequence resumes by writing its
    files without training. An interrupted run's is an ordinary checkpoint: it resumes training.
    A failure here is not reported: the final checkpoint is written again, and reported, last."""
    atomic.mark("final sequence")
    pending = None if result.stop_reason == "interrupted" else result.stop_reason
    try:
        checkpointer.save(trainer, None, pending=pending, state=state)
    except WriteError:
        pass


def choose_temperature(trainer: Trainer, result: TrainResult, target: Target, final: dict) -> dict:
    """How the saved sampler draws: as trained (T = 1, min-p 0) when the generator is clearly learned
    so (``final``: the metrics of that sample), else the first of ``temperature.SAMPLERS`` that is,
    each judged on a sample of its own, else as trained;
    ``{"temperature": T, "min_p": m, "tried": [...]}``."""
    keep = dict(NO_CHOICE)
    if target.finite or not trainer.config.choose_temperature:
        return keep
    ref = reference(target.rule)

    def judged(m: dict) -> tuple[bool, dict]:
        verdict = final_verdict(trainer, result, m)
        needed = validity_needed(m["real_validity"])
        sure = clearly(verdict.learned, m["validity"], needed, m["n"])
        problem = verdict.problem or f"validity {m['validity']:.2%} is within sampling noise of {needed:.2%}"
        return sure, {**{k: m[k] for k in ("validity", "unique_ratio", "tv")}, "problem": "" if sure else problem}

    learned, figures = judged(final)
    if learned:
        return keep
    (t, m), tried = choose(lambda t, m: judged(evaluate(trainer.sample(
        FINAL_SAMPLES, result.generator, t, seed_offset=CHOICE_SEED_OFFSET, min_p=m), ref)))
    return {"temperature": t, "min_p": m,
            "tried": [{"temperature": 1.0, "min_p": 0.0, "learned": False, **figures}, *tried]}


def finish(out: Path, trainer: Trainer, checkpointer: Checkpointer, result: TrainResult, target: Target,
           fmt: str, verdict: Verdict, choice: str, measured: dict | None = None,
           state: dict | None = None, sampling: dict | None = None, metrics_log: MetricsLog | None = None) -> Path:
    """The end-of-run writes, in the order that loses nothing: the model, its weights, config.json,
    the final metrics and the history, and only then a checkpoint that says "finished". Every
    write is tried; what fails is named, and what was written whole is said to be kept. A run with
    a file missing keeps a checkpoint whose training is *pending*: ``--resume`` writes the rest
    without training."""
    writes = run_writes(out, result, target, fmt, verdict, choice, measured, sampling)
    if metrics_log is not None:
        writes.insert(-1, (METRICS_FILE, lambda: write_text(metrics_log.path, _jsonl(metrics_log.rows))))
    kept, failed = [], []
    for name, write in writes:
        try:
            write()
            kept.append(name)
        except WriteError as e:
            failed.append(e)
    model = out / FORMATS[fmt]
    usable = FORMATS[fmt] in kept
    pause = float(os.environ.get(FINISH_PAUSE_ENV) or 0)
    if pause:
        time.sleep(pause)  # tests: a signal sent now must not cut the saving short
    try:
        if not failed:
            checkpointer.save(trainer, result.stop_reason, state=state)
        else:
            checkpointer.save(trainer, None, pending=result.stop_reason, state=state)
    except WriteError as e:
        if usable and not failed:
            raise SeqganError(f"{e}; the generator and config.json are saved, so the model is usable, but the run "
                              "cannot be resumed from its end") from None
        whole = f"; kept whole: {', '.join(kept)}" if kept else ""
        use = f" (`seqgan sample {out}` works)" if usable else ""
        raise SeqganError(f"{failed[0]}{whole}{use}; the checkpoint could not be written either ({e.path.name}, "
                          f"{e.needed:,} bytes): free some space, then resume from the last checkpoint with "
                          f"--resume {out} if there is one, or train again") from None
    if not failed:
        return model
    if not usable:
        whole = f" (kept whole: {', '.join(kept)})" if kept else ""
        raise SeqganError(f"{failed[0]}{whole}; the trained state is saved in {CHECKPOINT_FILE}: free some space, "
                          f"then run `seqgan train --resume {out}` to write the model without training again") from None
    missing = ", ".join(e.path.name for e in failed)
    raise SeqganError(f"{failed[0]}; kept whole: {', '.join(kept)}, so the model is usable (`seqgan sample {out}`); "
                      f"not written: {missing}: free some space, then run `seqgan train --resume {out}` to write "
                      "them without training again") from None


def model_path(path: str | Path) -> Path:
    """A model file as given, or the generator inside a run folder: its weights-only file (data, no
    code runs when it loads) when the run wrote one, else its program."""
    path = Path(path)
    if path.is_dir():
        for name in (FORMATS["weights"], *FORMATS.values()):
            if (path / name).is_file():
                return path / name
        raise ModelFileError(
            f"{str(path)!r} is a directory without {' or '.join(FORMATS.values())}; "
            "give a model file or a run folder written by `seqgan train`"
        )
    return path


def read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                raise ModelFileError(f"{path}:{number}: not valid JSON; the run folder is damaged") from None
    return rows
