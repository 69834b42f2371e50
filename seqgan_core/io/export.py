"""Save a trained generator as a self-contained sampler, and load it back.

Two formats that are programs, both loadable with plain torch and no seqgan installed:

- ``torchscript`` (``generator.pt``): ``torch.jit.load(path)(n)``;
- ``export`` (``generator.pt2``, torch.export): ``torch.export.load(path).module()(n)``;

and one that is only data, the one to share: ``weights`` (``generator.weights.pt``), the sampler's
state dict and seqgan's metadata, opened with ``torch.load(weights_only=True)`` and loaded into
seqgan's own generator class (named by the metadata's recipe and options). Loading it runs no code
from the file; it needs seqgan installed.

Either returns int64 indices ``(n, length)``; noise is drawn inside from torch's global RNG. The
vocabulary, rule name and training summary travel inside the file as the extra file
``seqgan.json``, which ``load_model`` reads to decode indices back into tokens.

How the file draws: a temperature (1.0 = as trained, towards 0 = greedy) and a min-p (0 = every
token; else tokens below min-p x the most likely one's probability are never drawn), both chosen
by the run that saved it and stored in its metadata. TorchScript takes them per call,
``sampler(n, 0.5)`` or ``sampler(n, None, 0.05)``; a torch.export program cannot give an input a
default, so it reads the 0-d buffers ``temperature`` and ``min_p`` instead:
``m.min_p.fill_(0.05); m(n)``. ``LoadedModel.sample`` does either. Files written before min-p
existed draw without it and refuse a min-p other than 0.

A model file is a program: loading a TorchScript or torch.export file runs code that its author
wrote, with the user's rights (a crafted ``__setstate__`` can write files). So the CLI goes one
step further than ``weights_only`` / ``trust_remote_code``: ``seqgan sample/evaluate RUN_DIR`` load
the run's weights-only file, and a TorchScript or torch.export file given by path loads only with
``--trust`` (``load_model(trust=False)`` refuses it with ``UntrustedProgram``, one line saying why).
Any model path is first checked like a ``--data`` path: a regular file (not a FIFO or a device),
at most ``MAX_MODEL_BYTES``, asked of the file system before a byte is read. What seqgan does to
limit the harm of a trusted program: it reads and checks the metadata from the zip archive before torch loads the program, and
it checks every output of the program (a tensor, int64, ``(n, length)``, indices inside the
vocabulary) before using it, so a broken or hostile file cannot make seqgan report on the wrong
number of sequences or decode garbage.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import stat
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from seqgan_core.runtime.atomic import write_bytes
from seqgan_core.errors import ModelFileError
from seqgan_core.models import AutoregressiveGenerator, LikelihoodSampler, Sampler
from seqgan_core.models.constraints import (ConstrainedGenerator, MaskedSampler, banned_tokens, exported_sampler,
                                             never_sample)
from seqgan_core.rules.vocabulary import Vocabulary

FORMAT_VERSION = 1
META_FILE = "seqgan.json"
SAMPLE_CHUNK = 65_536  # most sequences drawn per call of the sampler
# most (sequence x position x vocabulary) cells per call: a sampler holds a float per cell (64 MiB
# here), so long sequences and large vocabularies come in smaller chunks and memory stays bounded
CHUNK_CELLS = 1 << 24
MAX_LENGTH = 1 << 20  # a model's sequence length that seqgan accepts from a file's metadata
# a model file's size that seqgan opens at all: MAX_CELLS-sized generators are far below it; a
# bigger file (a sparse file, a mistaken dataset) is refused before it is read
MAX_MODEL_BYTES = 4 << 30
FORMATS = {"torchscript": "generator.pt", "export": "generator.pt2", "weights": "generator.weights.pt"}
WEIGHTS_KEY = "seqgan_weights"  # the format version of a weights-only file, under this key


def stored_tokens(tokens: list) -> tuple[list, bool]:
    """Tokens as JSON can hold them: as they are when JSON gives them back unchanged, else their
    ``str()`` (or ``repr()`` if two ``str()`` collide); the flag says whether they were converted."""
    try:
        back = json.loads(json.dumps(tokens))
        if back == tokens and all(type(a) is type(b) for a, b in zip(back, tokens)):
            return tokens, False
    except (TypeError, ValueError):
        pass
    for convert in (str, repr):
        converted = [convert(t) for t in tokens]
        if len(set(converted)) == len(converted):
            return converted, True
    return [f"token{i}" for i in range(len(tokens))], True


def metadata(rule, config: dict | None = None, target: dict | None = None, **extra) -> dict:
    tokens, tokens_are_strings = stored_tokens(list(rule.vocabulary))
    return {
        "format_version": FORMAT_VERSION,
        "rule": rule.name,
        "plugin": rule.plugin,
        "length": rule.length,
        "vocab": tokens,
        "tokens_are_strings": tokens_are_strings,
        "eos": None if rule.eos_index is None else tokens[rule.eos_index],
        **({} if getattr(rule, "unk_index", None) is None else {"unk": tokens[rule.unk_index]}),
        "config": config or {},
        "target": target or {"kind": "rule", "rule": rule.name, "plugin": rule.plugin},
        **extra,
    }


def save_sampler(generator: nn.Module, meta: dict, path: str | os.PathLike, fmt: str = "torchscript",
                 temperature: float = 1.0, min_p: float = 0.0) -> Path:
    """Wrap ``generator`` in a ``Sampler`` on the CPU, drawing at ``temperature`` and ``min_p``
    unless a call says otherwise, and write it atomically to ``path``."""
    # autoregressive generators also carry token_log_probs, so that evaluate can compute NLLs; a
    # generator trained under a position mask carries the mask (models/constraints.py)
    generator = copy.deepcopy(generator).cpu().eval()
    if meta.get("unk") is not None and banned_tokens(_drawing(generator)) is None:  # any recipe's generator
        never_sample(generator, [list(meta["vocab"]).index(meta["unk"])])
    sampler = exported_sampler(generator, temperature, min_p)
    extra = {META_FILE: json.dumps(meta)}
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if fmt == "torchscript":
            torch.jit.save(torch.jit.script(sampler), buffer, _extra_files=extra)
        elif fmt == "export":
            torch.export.save(_export_program(sampler), buffer, extra_files=extra)
        elif fmt == "weights":
            state = {k: v.detach().clone() for k, v in sampler.state_dict().items()}
            torch.save({WEIGHTS_KEY: FORMAT_VERSION, "meta": extra[META_FILE], "state_dict": state}, buffer)
        else:
            raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    write_bytes(path, buffer.getvalue())
    return Path(path)


def _drawing(generator: nn.Module) -> nn.Module:
    """The module whose ``sample`` draws the tokens: the inner one of a constrained generator."""
    return generator.inner if isinstance(generator, ConstrainedGenerator) else generator


def _export_program(sampler: Sampler):
    """torch.export with ``n`` dynamic. Without size-oblivious tracing, export specialises sizes
    0 and 1 away and the program would refuse ``n == 1``."""
    dynamic = {"n": torch.export.Dim.DYNAMIC}
    try:
        from torch.fx.experimental import _config as fx_config

        oblivious = fx_config.patch(backed_size_oblivious=True)
    except (ImportError, AttributeError):  # older torch: n == 1 may be refused
        oblivious = contextlib.nullcontext()
    with oblivious, warnings.catch_warnings():
        # nn.GRU re-assigns its flat weights while being traced; harmless for sampling
        warnings.filterwarnings("ignore", message=".*were assigned during export.*")
        return torch.export.export(sampler, (2,), dynamic_shapes=dynamic)


@dataclass
class LoadedModel:
    sampler: nn.Module  # sampler(n) -> LongTensor (n, length)
    format: str  # "torchscript" | "export"
    meta: dict
    vocabulary: Vocabulary
    path: Path

    @property
    def length(self) -> int:
        return int(self.meta["length"])

    @property
    def temperature(self) -> float:
        """The temperature the file samples at when a call gives none (chosen by its run; 1.0 = as trained)."""
        return float(self.meta.get("temperature", 1.0))

    @property
    def min_p(self) -> float:
        """The min-p the file samples at when a call gives none (chosen by its run; 0 = every token)."""
        return float(self.meta.get("min_p", 0.0))

    @property
    def has_min_p(self) -> bool:
        """Whether the file can draw with a min-p (files written before seqgan had it cannot)."""
        return "min_p" in self.meta

    @property
    def eos(self):
        """The end token of a variable-length rule or data file, or None."""
        return self.meta.get("eos", self.meta.get("target", {}).get("eos"))

    @property
    def unk(self):
        """The unknown token a text data run's model scores every unseen token as, and never
        samples; None for a model without one (rules, tables, runs from before it existed)."""
        return self.meta.get("unk")

    def sample(self, n: int, seed: int | None = None, temperature: float | None = None,
               min_p: float | None = None) -> torch.Tensor:
        """``n`` sequences ``(n, length)``, drawn in chunks; ``temperature`` / ``min_p`` None = the
        file's own (1.0 / 0 unless its run chose otherwise)."""
        chunks = list(self.chunks(n, seed, temperature, min_p))
        return torch.cat(chunks) if len(chunks) != 1 else chunks[0]

    def chunks(self, n: int, seed: int | None = None, temperature: float | None = None,
               min_p: float | None = None):
        """The ``n`` sequences of ``sample`` as checked chunks ``(k, length)``, drawn one at a time
        so that memory stays bounded however large ``n`` is."""
        if temperature is not None and not temperature > 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        min_p = self._checked_min_p(min_p)
        if seed is not None:
            torch.manual_seed(seed)
        step = max(1, min(SAMPLE_CHUNK, CHUNK_CELLS // (self.length * len(self.vocabulary))))
        with self._settings(temperature, min_p) as per_call:
            for start in range(0, n, step):
                k = min(step, n - start)
                try:
                    out = self._draw(k, *per_call)
                except ModelFileError:
                    raise
                except Exception as e:  # noqa: BLE001 - the file is a program: whatever it raises is its own
                    # TorchScript's message ends with the error itself, after its interpreter's traceback
                    last = (str(e).strip().splitlines() or [""])[-1].strip()[:160]
                    said = last if last.split(":")[0].endswith(("Error", "Exception")) else (
                        f"{type(e).__name__}: {last}" if last else type(e).__name__)
                    raise ModelFileError(f"the model {str(self.path)!r} failed while sampling ({said}); it is "
                                         "damaged or not written by seqgan") from None
                yield self._checked(out, k)

    def _checked_min_p(self, min_p: float | None) -> float | None:
        """``min_p`` as a call passes it: None (the file's own) for a file without min-p asked for 0."""
        if min_p is None:
            return None
        if not 0 <= min_p < 1:
            raise ValueError(f"min_p must be at least 0 and below 1, got {min_p}")
        if not self.has_min_p:
            if min_p == 0:
                return None  # such a file draws every token already
            raise ModelFileError(f"{str(self.path)!r} was written by a seqgan without min-p sampling; "
                                 "sample without --min-p, or train it again")
        return float(min_p)

    @contextlib.contextmanager
    def _settings(self, temperature: float | None, min_p: float | None):
        """Yields (temperature, min_p) to pass per call; a torch.export program reads buffers instead."""
        if (temperature is None and min_p is None) or self.format == "torchscript":
            yield temperature, min_p
            return
        buffers = [(name, getattr(self.sampler, name, None), value)
                   for name, value in (("temperature", temperature), ("min_p", min_p)) if value is not None]
        for name, buffer, _ in buffers:
            if buffer is None:
                raise ModelFileError(f"{str(self.path)!r} was exported without a {name} buffer; sample without it")
        own = [buffer.clone() for _, buffer, _ in buffers]
        for _, buffer, value in buffers:
            buffer.fill_(value)
        try:
            yield None, None
        finally:
            for (_, buffer, _), saved in zip(buffers, own):
                buffer.copy_(saved)

    def _checked(self, out, n: int) -> torch.Tensor:
        """A sampler's output, checked before anything uses it: the file is a program and may lie."""
        where = f"the model {str(self.path)!r}"
        if not isinstance(out, torch.Tensor):
            raise ModelFileError(f"{where} returned {type(out).__name__}, not a tensor; it is damaged or not "
                                 "written by seqgan")
        if out.dtype != torch.int64:
            raise ModelFileError(f"{where} returned dtype {out.dtype}, not int64 token indices; it is damaged "
                                 "or not written by seqgan")
        if tuple(out.shape) != (n, self.length):
            raise ModelFileError(f"{where} returned shape {tuple(out.shape)} when asked for {n} sequences, "
                                 f"expected ({n}, {self.length}); it is damaged or not written by seqgan")
        if out.numel() and (int(out.min()) < 0 or int(out.max()) >= len(self.vocabulary)):
            raise ModelFileError(f"{where} returned indices outside its vocabulary (0..{len(self.vocabulary) - 1});"
                                 " it is damaged or not written by seqgan")
        return out

    def sample_tokens(self, n: int, seed: int | None = None, temperature: float | None = None,
                      min_p: float | None = None) -> list[list]:
        """``n`` sequences as lists of tokens, each cut at its end token."""
        return [self.strip(row) for row in self.vocabulary.decode(self.sample(n, seed, temperature, min_p))]

    @property
    def scores_likelihood(self) -> bool:
        """Whether the file can score sequences (an autoregressive generator saved as TorchScript)."""
        return self.format in ("torchscript", "weights") and hasattr(self.sampler, "token_log_probs")

    def token_log_probs(self, seqs: torch.Tensor, temperature: float | None = None, chunk: int = 1024) -> torch.Tensor:
        """log p(token_t | tokens before) of index ``seqs`` ``(n, L)`` -> ``(n, L)``, in chunks, under
        the distribution ``sample(..., temperature)`` draws from (None = the file's own) before any
        min-p cut: a truncated sampler gives every real sequence with one cut token probability 0,
        an infinite NLL that says nothing about how close the model is."""
        if not self.scores_likelihood:
            why = ("a torch.export file holds only the sampler" if self.format == "export"
                   else "its generator is not autoregressive")
            raise ModelFileError(f"{str(self.path)!r} cannot score sequences: {why}")
        seqs = torch.as_tensor(seqs, dtype=torch.long)
        t = self.temperature if temperature is None else float(temperature)
        return torch.cat([self.sampler.token_log_probs(part, t) for part in seqs.split(chunk)]).cpu()

    def strip(self, tokens: list) -> list:
        eos = self.eos
        return tokens[: tokens.index(eos)] if eos is not None and eos in tokens else tokens

    def as_line(self, tokens: list) -> str:
        """One sequence as a line: characters joined for a --chars run, else tokens with spaces. A line
        break inside a token (a quoted CSV cell) is written as ``\\n`` so that one line stays one
        sequence; ``sample --json`` gives the tokens exactly."""
        sep = "" if self.meta.get("target", {}).get("chars") else " "
        line = sep.join(str(t) for t in tokens)
        return line.replace("\r", "\\r").replace("\n", "\\n") if "\n" in line or "\r" in line else line

    def _draw(self, n: int, temperature: float | None, min_p: float | None):
        if min_p is not None:  # only files with min-p get here (_checked_min_p)
            out = self.sampler(n, temperature, min_p)
        elif temperature is not None:
            out = self.sampler(n, temperature)
        elif n == 1 and self.format == "export":
            try:
                out = self.sampler(1)
            except AssertionError:
                # files from older seqgan ran nn.GRU in the loop, which torch.export specialises
                # to n >= 2: draw two and keep the first
                out = self.sampler(2)
                out = out[:1] if isinstance(out, torch.Tensor) else out
        else:
            out = self.sampler(n)
        return out.cpu() if isinstance(out, torch.Tensor) and out.device.type != "meta" else out


class UntrustedProgram(ModelFileError):
    """A TorchScript or torch.export file that the caller did not say it trusts: loading it runs its code."""


def check_model_file(path: Path) -> None:
    """A model path as a ``--data`` path is checked: a regular file of a bounded size, asked of the
    file system before a byte is read (a FIFO would block, /dev/zero never ends)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ModelFileError(f"model file {str(path)!r} does not exist; train one with `seqgan train`") from None
    except OSError as e:
        raise ModelFileError(f"cannot read the model file {str(path)!r}: {e.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        hint = " (did you mean generator.pt inside it?)" if (path / "generator.pt").exists() else ""
        raise ModelFileError(f"{str(path)!r} is a directory, not a model file{hint}")
    if not stat.S_ISREG(st.st_mode):
        kind = ("a FIFO" if stat.S_ISFIFO(st.st_mode) else "a device" if stat.S_ISCHR(st.st_mode) or
                stat.S_ISBLK(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file")
        raise ModelFileError(f"{str(path)!r} is {kind}, not a model file; give the generator file or run folder "
                             "`seqgan train` wrote")
    if st.st_size > MAX_MODEL_BYTES:
        raise ModelFileError(f"{str(path)!r} holds {st.st_size:,} bytes, more than any seqgan model "
                             f"({MAX_MODEL_BYTES:,} at most); it is not a model file written by seqgan")


def load_model(path: str | os.PathLike, map_location: str | torch.device = "cpu", trust: bool = True) -> LoadedModel:
    """Load a model file. ``trust=False`` loads only weights-only files (data: no code runs) and
    refuses a TorchScript or torch.export file, which is a program, with ``UntrustedProgram``."""
    path = Path(path)
    check_model_file(path)
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        raise ModelFileError(f"{str(path)!r} is not a seqgan model file (truncated or not a torch archive)") from None
    if any(n.endswith("/archive_format") for n in names):
        fmt = "export"
    elif any(n.endswith("/data.pkl") for n in names) and not any("/code/" in n for n in names):
        return _load_weights(path)
    else:
        fmt = "torchscript"
    # the metadata is read from the archive and checked before torch loads (and so runs) the program
    meta = _parse_meta(path, _archive_meta(path, names))
    if not trust:
        name = "a TorchScript" if fmt == "torchscript" else "a torch.export"
        raise UntrustedProgram(
            f"{str(path)!r} is {name} program, and loading it runs code its author wrote; pass --trust if you "
            f"trust where it came from, or give the run folder (its {FORMATS['weights']} is data only)")
    extra = {META_FILE: ""}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            if fmt == "export":
                sampler = torch.export.load(str(path), extra_files=extra).module()
            else:
                sampler = torch.jit.load(str(path), map_location=map_location, _extra_files=extra)
    except Exception as e:  # noqa: BLE001 - torch raises many types for damaged archives
        raise ModelFileError(
            f"cannot load {str(path)!r}: the file is damaged or not a {fmt} model ({type(e).__name__})"
        ) from None
    if _parse_meta(path, extra[META_FILE]) != meta:
        raise ModelFileError(f"{str(path)!r} holds two different copies of its seqgan metadata; it is damaged")
    return LoadedModel(sampler=sampler, format=fmt, meta=meta, vocabulary=Vocabulary(meta["vocab"]), path=path)


def _load_weights(path: Path) -> LoadedModel:
    """A weights-only file: plain tensors and strings, loaded into seqgan's own generator class."""
    from seqgan_core.engine.config import TrainConfig
    from seqgan_core.engine.recipes import get_recipe

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        int(state[WEIGHTS_KEY]), state["meta"], state["state_dict"]  # noqa: B018 - presence check
    except Exception as e:  # noqa: BLE001 - torch refuses pickled code, and damage, with many types
        raise ModelFileError(f"cannot load {str(path)!r}: not a seqgan weights file, or it holds more than "
                             f"tensors ({type(e).__name__}); seqgan opens such files with weights_only=True") from None
    meta = _parse_meta(path, state["meta"])
    try:
        config = TrainConfig.from_dict(meta["config"])
        generator = get_recipe(config.recipe).build_generator(len(meta["vocab"]), int(meta["length"]),
                                                              config.recipe_options())
        weights = dict(state["state_dict"])
        banned = weights.get("generator.banned")  # tokens it never samples (a text data run's <unk>)
        if banned is not None:
            never_sample(generator, banned.nonzero().flatten().tolist())
        mask = weights.get("position_mask")  # a generator trained under a position mask
        if mask is not None:
            sampler = MaskedSampler(generator, mask)
        else:  # autoregressive generators keep token_log_probs, so that evaluate can compute NLLs
            sampler = (LikelihoodSampler if isinstance(generator, AutoregressiveGenerator) else Sampler)(generator)
        weights.setdefault("min_p", torch.tensor(0.0))  # files from before min-p draw every token
        sampler.load_state_dict(weights)
    except Exception as e:  # noqa: BLE001 - a config or state dict that does not fit
        raise ModelFileError(f"cannot load {str(path)!r}: its weights do not fit the generator its metadata "
                             f"describes ({type(e).__name__})") from None
    return LoadedModel(sampler=sampler.eval(), format="weights", meta=meta, vocabulary=Vocabulary(meta["vocab"]),
                       path=path)


def _archive_meta(path: Path, names: list[str]) -> bytes:
    members = [n for n in names if n.endswith(f"/extra/{META_FILE}")]
    if len(members) != 1:
        return b""
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(members[0])
            if info.file_size > 64 * 2**20:  # a vocabulary of millions of tokens at most
                raise ModelFileError(f"{str(path)!r} has seqgan metadata of {info.file_size:,} bytes; it is damaged")
            return archive.read(members[0])
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError):  # zipfile raises these on damage
        raise ModelFileError(f"{str(path)!r} is not a seqgan model file (truncated or not a torch archive)") from None


def _parse_meta(path: Path, raw) -> dict:
    if not raw:
        raise ModelFileError(f"{str(path)!r} is a TorchScript file without seqgan metadata; it was not written by seqgan")
    try:
        meta = json.loads(raw)
        version = int(meta["format_version"])
        meta["vocab"], meta["length"], meta["rule"]  # noqa: B018 - presence check
        length, vocab = meta["length"], meta["vocab"]
        if (isinstance(length, bool) or not isinstance(length, int) or not 1 <= length <= MAX_LENGTH
                or not isinstance(vocab, list) or not vocab):
            raise ValueError("length or vocabulary out of range")
    except (ValueError, KeyError, TypeError):
        raise ModelFileError(f"{str(path)!r} has damaged seqgan metadata") from None
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{str(path)!r} uses model format {version}, newer than this seqgan supports "
            f"({FORMAT_VERSION}); upgrade seqgan"
        )
    return meta
