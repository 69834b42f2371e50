"""Advice as data: which setting to change for the next run, to what, and why.

The engine, the verdict and the run say what to try next as ``Advice``; each caller renders it in
its own words: the command line as flags (``--patience 8``, ``--set pretrain_steps=4000``), the
Python API as keyword arguments (``patience=8``, ``pretrain_steps=4000``).

A piece of advice is a tuple of *alternatives*; each alternative is a tuple of ``Advice`` to apply
together (``--max-steps 8000 --patience 8``). Rendered, alternatives are joined by ", or ".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

# settings `seqgan train` has a flag of its own for; any other one is a `--set KEY=VALUE`
FLAG_SETTINGS = ("seed", "max_steps", "patience", "min_delta", "distance", "lr", "loss", "batch_size",
                 "pretrain_steps", "checkpoint_every", "device", "threads")
OWN_FLAGS = ("preset", *FLAG_SETTINGS)  # ... and the preset, which is no run setting but a choice of them


@dataclass(frozen=True)
class Advice:
    setting: str  # a run setting, recipe option, dotted model option ("generator.hidden") or "preset"; "" = none
    value: Any = None  # the value to give it; None = the user's pick, in the direction `how` names
    why: str = ""  # what the change does, shown in parentheses after it (or alone when setting is "")
    how: str = ""  # with no value: which way to change it ("another", "a lower")

    def flag(self) -> str:
        """As `seqgan train` flags: ``--patience 8``, ``--set pretrain_steps=4000``."""
        if not self.setting:
            return self.why
        name = f"--{self.setting.replace('_', '-')}" if self.setting in OWN_FLAGS else f"--set {self.setting}"
        if self.value is None:
            text = f"{self.how} {name}".strip()
        elif self.setting in OWN_FLAGS:
            text = f"{name} {_plain(self.value)}"
        else:
            text = f"{name}={_plain(self.value)}"
        return f"{text} ({self.why})" if self.why else text

    def keyword(self) -> str:
        """As Python keyword arguments of ``SeqGAN``: ``patience=8``, ``pretrain_steps=4000``; a dotted
        model option goes through ``**options`` (``**{'generator.hidden': 64}``)."""
        if not self.setting:
            return self.why
        if self.value is None:
            text = f"{self.how} {self.setting}".strip()
        elif self.setting.isidentifier():
            text = f"{self.setting}={self.value!r}"
        else:
            text = f"**{{{self.setting!r}: {self.value!r}}}"
        return f"{text} ({self.why})" if self.why else text

    def to_dict(self) -> dict:
        return asdict(self)


Alternatives = tuple[tuple[Advice, ...], ...]  # try one of these; each is settings changed together


def _plain(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _join(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + ", or " + parts[-1]


def as_flags(alternatives: Alternatives) -> str:
    """``alternatives`` as `seqgan train` flags: ``--max-steps 8000 --patience 8, or another --seed``."""
    return _join([" ".join(a.flag() for a in group) for group in alternatives]) if alternatives else ""


def as_keywords(alternatives: Alternatives) -> str:
    """``alternatives`` as ``SeqGAN`` keyword arguments: ``max_steps=8000, patience=8``."""
    if not alternatives:
        return ""
    groups = [", ".join(a.keyword() for a in group) for group in alternatives]
    if all(len(group) == 1 for group in alternatives):
        return _join(groups)
    return "; or ".join(groups)  # a comma already separates the settings of one group


def one(*advice: Advice) -> Alternatives:
    """Advice with no alternative: these settings, changed together."""
    return (tuple(advice),)


def either(*advice: Advice) -> Alternatives:
    """Alternatives of one setting each."""
    return tuple((a,) for a in advice)
