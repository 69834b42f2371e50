"""Save a trained generator as a self-contained sampler, and load it back.

Two formats, both loadable with plain torch and no seqgan installed:

- ``torchscript`` (``generator.pt``): ``torch.jit.load(path)(n)``;
- ``export`` (``generator.pt2``, torch.export): ``torch.export.load(path).module()(n)``.

Either returns int64 indices ``(n, length)``; noise is drawn inside from torch's global RNG. The
vocabulary, rule name and training summary travel inside the file as the extra file
``seqgan.json``, which ``load_model`` reads to decode indices back into tokens.

Sampling temperature (1.0 = as trained, towards 0 = greedy): TorchScript takes it per call,
``sampler(n, 0.5)``; a torch.export program cannot give an input a default, so it reads the 0-d
buffer ``temperature`` instead: ``m.temperature.fill_(0.5); m(n)``. ``LoadedModel.sample`` does
either.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .atomic import atomic_path
from .errors import ModelFileError
from .models import LikelihoodSampler, Sampler
from .vocabulary import Vocabulary

FORMAT_VERSION = 1
META_FILE = "seqgan.json"
SAMPLE_CHUNK = 65_536  # sequences drawn per call of the sampler
FORMATS = {"torchscript": "generator.pt", "export": "generator.pt2"}  # format -> file name


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
        "config": config or {},
        "target": target or {"kind": "rule", "rule": rule.name, "plugin": rule.plugin},
        **extra,
    }


def save_sampler(generator: nn.Module, meta: dict, path: str | os.PathLike, fmt: str = "torchscript") -> Path:
    """Wrap ``generator`` in a ``Sampler`` on the CPU and write it atomically to ``path``."""
    # autoregressive generators also carry token_log_probs, so that evaluate can compute NLLs
    kind = LikelihoodSampler if getattr(generator, "autoregressive", False) else Sampler
    sampler = kind(copy.deepcopy(generator).cpu().eval())
    extra = {META_FILE: json.dumps(meta)}
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if fmt == "torchscript":
            torch.jit.save(torch.jit.script(sampler), buffer, _extra_files=extra)
        elif fmt == "export":
            torch.export.save(_export_program(sampler), buffer, extra_files=extra)
        else:
            raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue())
    return Path(path)


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
    def eos(self):
        """The end token of a variable-length rule or data file, or None."""
        return self.meta.get("eos", self.meta.get("target", {}).get("eos"))

    def sample(self, n: int, seed: int | None = None, temperature: float | None = None) -> torch.Tensor:
        """``n`` sequences ``(n, length)``, drawn in chunks so that memory stays bounded;
        ``temperature`` None = the file's own (1.0 unless changed)."""
        if temperature is not None and not temperature > 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        if seed is not None:
            torch.manual_seed(seed)
        if temperature is None or self.format == "torchscript":
            return self._chunks(n, temperature)
        buffer = getattr(self.sampler, "temperature", None)
        if buffer is None:
            raise ModelFileError(f"{str(self.path)!r} was exported without a temperature; sample at 1.0")
        own = buffer.clone()
        buffer.fill_(temperature)
        try:
            return self._chunks(n, None)
        finally:
            buffer.copy_(own)

    def sample_tokens(self, n: int, seed: int | None = None, temperature: float | None = None) -> list[list]:
        """``n`` sequences as lists of tokens, each cut at its end token."""
        return [self.strip(row) for row in self.vocabulary.decode(self.sample(n, seed, temperature))]

    @property
    def scores_likelihood(self) -> bool:
        """Whether the file can score sequences (an autoregressive generator saved as TorchScript)."""
        return self.format == "torchscript" and hasattr(self.sampler, "token_log_probs")

    def token_log_probs(self, seqs: torch.Tensor, temperature: float | None = None, chunk: int = 1024) -> torch.Tensor:
        """log p(token_t | tokens before) of index ``seqs`` ``(n, L)`` -> ``(n, L)``, in chunks, under
        the distribution ``sample(..., temperature)`` draws from (None = 1.0)."""
        if not self.scores_likelihood:
            why = ("a torch.export file holds only the sampler" if self.format == "export"
                   else "its generator is not autoregressive")
            raise ModelFileError(f"{str(self.path)!r} cannot score sequences: {why}")
        seqs = torch.as_tensor(seqs, dtype=torch.long)
        t = 1.0 if temperature is None else float(temperature)
        return torch.cat([self.sampler.token_log_probs(part, t) for part in seqs.split(chunk)]).cpu()

    def strip(self, tokens: list) -> list:
        eos = self.eos
        return tokens[: tokens.index(eos)] if eos is not None and eos in tokens else tokens

    def as_line(self, tokens: list) -> str:
        """One sequence as a line: characters joined for a --chars run, else tokens with spaces."""
        sep = "" if self.meta.get("target", {}).get("chars") else " "
        return sep.join(str(t) for t in tokens)

    def _chunks(self, n: int, temperature: float | None) -> torch.Tensor:
        chunks = [self._draw(min(SAMPLE_CHUNK, n - start), temperature) for start in range(0, n, SAMPLE_CHUNK)]
        return torch.cat(chunks) if len(chunks) != 1 else chunks[0]

    def _draw(self, n: int, temperature: float | None) -> torch.Tensor:
        if temperature is not None:
            return self.sampler(n, temperature).cpu()
        if n == 1 and self.format == "export":
            try:
                return self.sampler(1).cpu()
            except AssertionError:
                # files from older seqgan ran nn.GRU in the loop, which torch.export specialises
                # to n >= 2: draw two and keep the first
                return self.sampler(2)[:1].cpu()
        return self.sampler(n).cpu()


def load_model(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> LoadedModel:
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"model file {str(path)!r} does not exist; train one with `seqgan train`")
    if path.is_dir():
        hint = " (did you mean generator.pt inside it?)" if (path / "generator.pt").exists() else ""
        raise ModelFileError(f"{str(path)!r} is a directory, not a model file{hint}")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        raise ModelFileError(f"{str(path)!r} is not a seqgan model file (truncated or not a torch archive)") from None
    fmt = "export" if any(n.endswith("/archive_format") for n in names) else "torchscript"
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
    meta = _parse_meta(path, extra[META_FILE])
    return LoadedModel(sampler=sampler, format=fmt, meta=meta, vocabulary=Vocabulary(meta["vocab"]), path=path)


def _parse_meta(path: Path, raw) -> dict:
    if not raw:
        raise ModelFileError(f"{str(path)!r} is a TorchScript file without seqgan metadata; it was not written by seqgan")
    try:
        meta = json.loads(raw)
        version = int(meta["format_version"])
        meta["vocab"], meta["length"], meta["rule"]  # noqa: B018 - presence check
    except (ValueError, KeyError, TypeError):
        raise ModelFileError(f"{str(path)!r} has damaged seqgan metadata") from None
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{str(path)!r} uses model format {version}, newer than this seqgan supports "
            f"({FORMAT_VERSION}); upgrade seqgan"
        )
    return meta
