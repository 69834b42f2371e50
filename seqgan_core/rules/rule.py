"""A rule: the target a GAN learns — vocabulary, length, real-data sampler, validity and distance.

Plugins build ``Rule`` objects and hand them to the ``register`` callback of ``register_rules``.
The contract (tensors are vocabulary *indices*, never tokens):

- ``sample(n, generator)`` -> LongTensor ``(n, length)``, drawn only from ``generator``;
- ``is_valid(seqs)`` -> BoolTensor ``(n,)`` for ``seqs`` of shape ``(n, length)``;
- ``distance(seqs)`` -> float, 0.0 = perfect (optional; default: share of invalid sequences
  plus the per-position token TV to the rule's own samples);
- ``eos``: optional token that ends a sequence early (variable length). ``sample`` pads with it,
  ``is_valid`` sees sequences where everything after the first ``eos`` is ``eos``, and sampling
  strips it;
- ``heldout(n, generator)``: optional held-out real sequences (a data file's held-out part, an
  oracle's fresh draws) for held-out NLL and novelty; default: ``sample`` on another seed;
- ``metrics(seqs)``: optional dict of extra figures (floats) that ``evaluate`` reports (like
  ``is_valid``, it sees canonical sequences);
- ``oracle``: optional ``OracleLikelihood`` (``rules/likelihood.py``): the rule's real data comes
  from a known model that scores any sequence (NLL_oracle), so ``evaluate --sweep`` draws the
  NLL_oracle / NLL_test curve;
- ``recommend``: optional training settings the rule suggests (e.g. ``{"max_steps": 5000}``);
  seqgan's own choice works without them;
- ``allowed_next(prefix)``: optional; for a prefix ``(B, t)`` of indices, the BoolTensor ``(B, V)``
  of tokens allowed at position t. seqgan trains over the allowed tokens only and never samples
  outside them (``seqgan_core.models.constraints``), so the rule is valid by construction. It is
  Python: seqgan's sampler (``seqgan sample RUN``, ``SeqGAN.sample``) applies it by loading the
  rule; a bare exported file does not;
- ``position_mask``: optional BoolTensor ``(length, V)``, the tokens each position may hold (a
  CSV column's values). Unlike ``allowed_next`` it travels inside every exported file;
- ``unk``: optional token of vocab that stands for every token outside it (a text data run's
  ``<unk>``, ``rules/data.py``): the model learns its probability, so a sequence with a word it
  never saw can be scored, but no sampler ever draws it (``constraints.never_sample``).

seqgan calls a rule only through the checked methods below (``sample_checked``, ``heldout_checked``,
``valid``, ``score``, ``extra_metrics``): whatever a plugin raises (any ``BaseException``:
``SystemExit``, ``GeneratorExit``, ``asyncio.CancelledError`` included; Ctrl-C's
``KeyboardInterrupt`` excepted) or returns against the contract (a list, a CUDA or meta tensor, a
float dtype, a wrong shape, a distance that is a string, a vector, NaN or infinite) becomes one
``RuleError`` naming the rule and its plugin.

Every plugin call runs under a watchdog (``watched``): in a thread of its own, with a time limit
per call, ``SEQGAN_PLUGIN_TIMEOUT`` seconds (default 600; 0 = no limit). A call over the limit is
abandoned with one line naming the rule and the method (``PluginCallStopped``). Ctrl-C and
SIGTERM always work: a call still running ``SIGNAL_GRACE_S`` seconds after the signal is
abandoned too, and ``seqgan train`` keeps its last checkpoint and says how to resume it. An
abandoned call goes on in its thread until the process exits; plugins should not hold resources
that outlive the process. A rule's distance is expected in milliseconds to seconds; a plugin that
needs longer per call sets ``SEQGAN_PLUGIN_TIMEOUT`` higher.
"""

from __future__ import annotations

import math
import os
import queue
import re
import signal
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

import torch

from seqgan_core.errors import RuleError, SeqganError
from seqgan_core.rules.likelihood import OracleLikelihood
from seqgan_core.rules.vocabulary import Vocabulary

SampleFn = Callable[[int, torch.Generator], torch.Tensor]
ValidFn = Callable[[torch.Tensor], torch.Tensor]
DistanceFn = Callable[[torch.Tensor], float]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# tokens per sequence x vocabulary size: a generator's one-hot output of one sequence. Above this a
# batch needs gigabytes; a rule that asks for more is refused when it registers, not mid-training
MAX_CELLS = 1 << 21


PLUGIN_TIMEOUT_ENV = "SEQGAN_PLUGIN_TIMEOUT"
DEFAULT_PLUGIN_TIMEOUT = 600.0  # seconds per plugin call: far above any honest distance or sampler
SIGNAL_GRACE_S = 3.0  # after Ctrl-C / SIGTERM, how long a running plugin call may still finish
_POLL_S = 0.05  # how often the waiting thread looks at the call, the clock and signals


class PluginCallStopped(RuleError):
    """A plugin call abandoned: over its time limit, or still running after a signal (``interrupted``)."""

    def __init__(self, message: str, interrupted: bool):
        super().__init__(message)
        self.interrupted = interrupted


def plugin_timeout() -> float | None:
    """The time limit of one plugin call in seconds (``SEQGAN_PLUGIN_TIMEOUT``), None for none."""
    value = os.environ.get(PLUGIN_TIMEOUT_ENV, "").strip()
    if not value:
        return DEFAULT_PLUGIN_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds >= 0):
        raise SeqganError(f"{PLUGIN_TIMEOUT_ENV}={value!r} must be a number of seconds (0 = no limit)")
    return seconds or None


class _Worker:
    """The thread that runs plugin calls, one at a time (starting a thread per call cost 0.4 ms)."""

    def __init__(self):
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.pid = os.getpid()  # a forked child has no such thread: it starts its own
        self.thread = threading.Thread(target=self._loop, daemon=True, name="seqgan-plugin-calls")
        self.thread.start()

    def _loop(self) -> None:
        while True:
            fn, args, grad, box, done = self.jobs.get()
            try:
                with torch.set_grad_enabled(grad):  # thread-local in torch: the plugin sees the caller's mode
                    box["value"] = fn(*args)
            except BaseException as e:  # noqa: BLE001 - handed to the caller, who names the plugin
                box["error"] = e
            finally:
                done.set()


_worker: _Worker | None = None


def watched(fn: Callable, args: tuple, where: str, method: str):
    """``fn(*args)`` in the plugin thread, waited for in slices: over ``plugin_timeout()``, or
    ``SIGNAL_GRACE_S`` after a SIGINT / SIGTERM, it is abandoned with ``PluginCallStopped`` (and
    its thread with it; the next call gets a new one). A signal that arrives while a call finishes
    in time goes to the handler that was there before (the run's stop request, or Ctrl-C's
    KeyboardInterrupt), as if no watchdog existed."""
    global _worker
    if _worker is not None and threading.current_thread() is _worker.thread:
        return fn(*args)  # a plugin calling a rule: already watched
    if _worker is None or _worker.pid != os.getpid():
        _worker = _Worker()
    limit = plugin_timeout()
    box: dict = {}
    done = threading.Event()
    main = threading.current_thread() is threading.main_thread()
    signals: list[tuple[int, float]] = []
    previous = {}
    if main:
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda signum, frame: signals.append((signum, time.monotonic())))
    started = time.monotonic()
    stopped = None
    try:
        _worker.jobs.put((fn, args, torch.is_grad_enabled(), box, done))
        while not done.wait(_POLL_S):
            now = time.monotonic()
            if signals and now - signals[0][1] > SIGNAL_GRACE_S:
                name = signal.Signals(signals[0][0]).name
                stopped = PluginCallStopped(f"{where}: {method}() was still running {now - started:.1f} s after it "
                                            f"was called and did not end after {name}; abandoned it", True)
                break
            if limit is not None and now - started > limit:
                stopped = PluginCallStopped(f"{where}: {method}() did not return within {limit:g} s "
                                            f"({PLUGIN_TIMEOUT_ENV}); abandoned it", False)
                break
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if stopped is not None:
        _worker = None  # its thread is busy with the abandoned call for good
        raise stopped
    for signum, _ in signals:  # the call ended in time: the signal is answered as it always is
        handler = previous.get(signum)
        if callable(handler):
            handler(signum, None)
        elif handler == signal.SIG_DFL:
            os.kill(os.getpid(), signum)
    if "error" in box:
        raise box["error"]
    return box["value"]


@dataclass
class Rule:
    name: str  # unique; what --rule takes
    description: str  # one line for `seqgan rules`
    vocab: Sequence[Hashable]  # the tokens; index i <-> vocab[i]
    length: int  # tokens per sequence
    sample: SampleFn  # (n, generator) -> LongTensor (n, length) of indices
    is_valid: ValidFn  # (n, length) -> BoolTensor (n,)
    distance: DistanceFn | None = None  # (n, length) -> float; None = invalid share + per-position TV
    eos: Hashable | None = None  # a token of vocab that ends a sequence; after it only eos
    heldout: SampleFn | None = None  # (n, generator) -> held-out real sequences; None = sample
    metrics: Callable[[torch.Tensor], dict] | None = None  # (n, length) -> {name: float} for evaluate
    recommend: dict | None = None  # training settings the rule suggests; never required
    oracle: OracleLikelihood | None = None  # the exact likelihood real data comes from, if known
    plugin: str = field(default="?", compare=False)  # set by the plugin manager on registration
    allowed_next: Callable[[torch.Tensor], torch.Tensor] | None = None  # prefix (B, t) -> BoolTensor (B, V)
    position_mask: torch.Tensor | None = None  # (length, V) bool: each position's own tokens; None = any
    unk: Hashable | None = None  # a token of vocab for every unknown one: scored, never sampled; None = none

    def __post_init__(self):
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise RuleError(
                f"rule name {self.name!r} is invalid: use letters, digits, '_', '-' or '.'"
            )
        if isinstance(self.length, bool) or not isinstance(self.length, int) or self.length < 1:
            raise RuleError(f"rule {self.name!r}: length must be a positive int, got {self.length!r}")
        for attr in ("sample", "is_valid"):
            if not callable(getattr(self, attr)):
                raise RuleError(f"rule {self.name!r}: {attr} must be callable")
        if self.distance is not None and not callable(self.distance):
            raise RuleError(f"rule {self.name!r}: distance must be callable or None")
        try:
            self.vocabulary = Vocabulary(self.vocab)
            self.eos_index = None if self.eos is None else self.vocabulary.index(self.eos)
            self.unk_index = None if self.unk is None else self.vocabulary.index(self.unk)
        except ValueError as e:
            raise RuleError(f"rule {self.name!r}: {e}") from None
        cells = self.length * len(self.vocabulary)
        if cells > MAX_CELLS:
            raise RuleError(
                f"rule {self.name!r}: length {self.length} x vocabulary {len(self.vocabulary)} = {cells:,} cells per "
                f"sequence, more than seqgan can train (at most {MAX_CELLS:,}); shorten the sequences or the vocabulary"
            )
        for attr in ("heldout", "metrics"):
            if getattr(self, attr) is not None and not callable(getattr(self, attr)):
                raise RuleError(f"rule {self.name!r}: {attr} must be callable or None")
        if self.allowed_next is not None and not callable(self.allowed_next):
            raise RuleError(f"rule {self.name!r}: allowed_next must be callable or None")
        if self.position_mask is not None and (not isinstance(self.position_mask, torch.Tensor)
                                               or tuple(self.position_mask.shape) != (self.length, len(self.vocabulary))):
            raise RuleError(f"rule {self.name!r}: position_mask must be a BoolTensor of shape "
                            f"({self.length}, {len(self.vocabulary)}) or None")
        if self.oracle is not None and not isinstance(self.oracle, OracleLikelihood):
            raise RuleError(f"rule {self.name!r}: oracle must be an OracleLikelihood or None, "
                            f"got {type(self.oracle).__name__}")
        if self.recommend is not None and not isinstance(self.recommend, dict):
            raise RuleError(f"rule {self.name!r}: recommend must be a dict or None")

    def __repr__(self) -> str:
        return f"Rule({self.name!r}, vocab size {len(self.vocabulary)}, length {self.length})"

    @property
    def where(self) -> str:
        return f"rule {self.name!r} (plugin {self.plugin})"

    def _call(self, method: str, *args):
        """Call the plugin's ``method``; anything it raises is the plugin's, and says so."""
        try:
            return watched(getattr(self, method), args, self.where, method)
        except (RuleError, KeyboardInterrupt):
            raise
        except BaseException as e:  # noqa: BLE001 - SystemExit, GeneratorExit, CancelledError: a plugin must not end seqgan
            raise RuleError(f"{self.where}: {method}() raised {type(e).__name__}: {e}") from None

    def _tensor(self, out, method: str) -> torch.Tensor:
        if not isinstance(out, torch.Tensor):
            raise RuleError(f"{self.where}: {method}() returned {type(out).__name__}, expected a tensor")
        if out.device.type != "cpu":
            raise RuleError(f"{self.where}: {method}() returned a tensor on {out.device}; return CPU tensors")
        return out

    def sample_checked(self, n: int, generator: torch.Generator, method: str = "sample") -> torch.Tensor:
        """``sample`` with the contract enforced, so a broken plugin is named, not a shape error."""
        seqs = self._tensor(self._call(method, n, generator), method)
        where = self.where
        if seqs.dtype != torch.long:
            raise RuleError(f"{where}: {method}() returned dtype {seqs.dtype}, expected torch.long")
        if tuple(seqs.shape) != (n, self.length):
            raise RuleError(
                f"{where}: {method}({n}) returned shape {tuple(seqs.shape)}, expected ({n}, {self.length})"
            )
        if seqs.numel() and (int(seqs.min()) < 0 or int(seqs.max()) >= len(self.vocabulary)):
            raise RuleError(
                f"{where}: {method}() returned indices outside 0..{len(self.vocabulary) - 1}"
            )
        return seqs

    def heldout_checked(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """Held-out real sequences (``heldout``, else ``sample``), checked like ``sample``."""
        return self.sample_checked(n, generator, "heldout" if self.heldout is not None else "sample")

    def extra_metrics(self, seqs: torch.Tensor) -> dict:
        """The rule's ``metrics`` of canonical ``seqs``, checked: names to plain floats."""
        if self.metrics is None:
            return {}
        out = self._call("metrics", self.canonical(seqs))
        if not isinstance(out, dict):
            raise RuleError(f"{self.where}: metrics() returned {type(out).__name__}, expected a dict of floats")
        return {str(k): self._number(v, "metrics") for k, v in out.items()}

    def _number(self, value, method: str) -> float:
        if isinstance(value, torch.Tensor) and value.numel() == 1 and value.device.type == "cpu":
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, float)) and type(value).__module__ != "numpy":
            raise RuleError(f"{self.where}: {method}() returned {type(value).__name__} {_short(value)}, "
                            "expected a number")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise RuleError(f"{self.where}: {method}() returned {_short(value)}, expected a number") from None

    def canonical(self, seqs: torch.Tensor) -> torch.Tensor:
        """Sequences as the rule sees them: after the first end token, only end tokens."""
        if self.eos_index is None:
            return seqs
        after = (seqs == self.eos_index).long().cummax(dim=-1).values.bool()  # (n, L)
        return torch.where(after, torch.full_like(seqs, self.eos_index), seqs)

    def strip(self, tokens: list) -> list:
        """One decoded sequence without its end token and what follows it."""
        return tokens[: tokens.index(self.eos)] if self.eos is not None and self.eos in tokens else tokens

    def valid(self, seqs: torch.Tensor) -> torch.Tensor:
        """``is_valid`` of the canonical ``seqs``, as a BoolTensor ``(n,)``."""
        seqs = self.canonical(seqs)
        out = self._tensor(self._call("is_valid", seqs), "is_valid")
        if out.shape != (len(seqs),):
            raise RuleError(
                f"{self.where}: is_valid() returned shape {tuple(out.shape)} "
                f"for {len(seqs)} sequences, expected ({len(seqs)},)"
            )
        if out.dtype.is_complex or out.dtype.is_floating_point:
            raise RuleError(f"{self.where}: is_valid() returned dtype {out.dtype}, expected torch.bool")
        return out.bool()

    def allowed_checked(self, prefix: torch.Tensor) -> torch.Tensor:
        """``allowed_next`` of ``prefix`` ``(B, t)``, checked: a BoolTensor ``(B, V)`` allowing at
        least one token in every row."""
        method, where = "allowed_next", self.where
        out = self._tensor(self._call(method, prefix), method)
        V = len(self.vocabulary)
        if tuple(out.shape) != (prefix.shape[0], V):
            raise RuleError(f"{where}: {method}() returned shape {tuple(out.shape)} for a prefix of shape "
                            f"{tuple(prefix.shape)}, expected ({prefix.shape[0]}, {V})")
        if out.dtype != torch.bool:
            raise RuleError(f"{where}: {method}() returned dtype {out.dtype}, expected torch.bool")
        if out.numel() and not bool(out.any(dim=1).all()):
            raise RuleError(f"{where}: {method}() allowed no token at all after a prefix of length {prefix.shape[1]}")
        return out

    def constraint(self, allowed_next: bool = True):
        """The rule's ``position_mask`` and (unless ``allowed_next`` is False) checked
        ``allowed_next`` as a ``Constraint``; None when it declares neither."""
        from seqgan_core.models.constraints import Constraint

        hook = self.allowed_checked if allowed_next and self.allowed_next is not None else None
        if hook is None and self.position_mask is None:
            return None
        return Constraint(self.position_mask, hook)

    def probe(self) -> None:
        """Try the rule on a few sequences, so a broken plugin is named before any work starts."""
        self.valid(self.sample_checked(4, torch.Generator().manual_seed(0)))

    def score(self, seqs: torch.Tensor) -> float:
        """The rule's distance of generated ``seqs`` ``(n, length)``; 0.0 = perfect. Without a
        distance of its own: seqgan's quality distance (invalid share + per-position TV)."""
        if self.distance is not None:
            return self._number(self._call("distance", self.canonical(seqs)), "distance")  # NaN / inf: the trainer says so
        from seqgan_core.evaluation.metrics import quality_distance, reference

        return quality_distance(seqs, reference(self))


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
