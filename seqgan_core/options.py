"""Options dataclasses: each recipe and each model family declares its own, next to its code.

An options class is a plain ``@dataclass`` with a comment on every default and an optional
``check(self)`` that raises ``SeqganError`` for values that make no sense. This module turns
plain values (a preset, config.json, ``--set KEY=VALUE``) into such an instance and back, with
errors that name the option and where it came from:

>>> from dataclasses import dataclass
>>> @dataclass
... class Demo:
...     lr: float = 0.1  # learning rate
...     steps: int = 10  # how many
>>> build(Demo, {"lr": "0.5"}, "demo").lr
0.5
>>> build(Demo, {"lrr": 1}, "demo")
Traceback (most recent call last):
...
seqgan_core.errors.SeqganError: demo has no option 'lrr'; its options: lr, steps
"""

from __future__ import annotations

import dataclasses
import math
import os
import types
import typing
from typing import Any

from seqgan_core.errors import SeqganError


def build(cls: type, values: dict | None, where: str) -> Any:
    """An instance of the options dataclass ``cls`` from ``values`` (missing keys keep defaults)."""
    values = dict(values or {})
    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise SeqganError(f"{where} has no option {unknown[0]!r}; its options: {', '.join(names)}")
    hints = typing.get_type_hints(cls)
    converted = {name: coerce(value, hints[name], f"{where} option {name!r}") for name, value in values.items()}
    options = cls(**converted)
    check = getattr(options, "check", None)
    if check is not None:
        check()
    return options


def to_dict(options: Any) -> dict:
    return dataclasses.asdict(options)


def coerce(value: Any, hint: Any, what: str) -> Any:
    """``value`` as type ``hint`` (int, float, bool, str, tuple of floats, dict, or X | None)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None or value == "None":
            if type(None) in args:
                return None
        inner = [a for a in args if a is not type(None)]
        return coerce(value, inner[0], what)
    if hint is bool:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("1", "true", "yes", "on"):
            return True
        if str(value).lower() in ("0", "false", "no", "off"):
            return False
        raise SeqganError(f"{what} must be true or false, got {value!r}")
    if hint is int:
        if isinstance(value, bool):
            raise SeqganError(f"{what} must be an integer, got {value!r}")
        try:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        except (TypeError, ValueError):
            raise SeqganError(f"{what} must be an integer, got {value!r}") from None
    if hint is float:
        try:
            out = float(value)
        except (TypeError, ValueError):
            raise SeqganError(f"{what} must be a number, got {value!r}") from None
        if not math.isfinite(out):
            raise SeqganError(f"{what} must be a finite number, got {value!r}")
        return out
    if hint is str:
        return str(value)
    if origin is tuple:
        parts = value.split(",") if isinstance(value, str) else value
        try:
            return tuple(coerce(p, args[0], what) for p in parts)
        except TypeError:
            raise SeqganError(f"{what} must be a comma-separated list, got {value!r}") from None
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            raise SeqganError(f"{what} must be a mapping, got {value!r}")
        return dict(value)
    return value


def at_least(options: Any, minimum: float, *names: str) -> None:
    for name in names:
        value = getattr(options, name)
        if value < minimum:
            raise SeqganError(f"--{name.replace('_', '-')} must be at least {minimum}, got {value}")


def in_range(value: float, low: float, high: float, name: str, low_open: bool = True) -> None:
    ok = (low < value if low_open else low <= value) and value <= high
    if not ok:
        bracket = "(" if low_open else "["
        raise SeqganError(f"{name} must be in {bracket}{low:g}, {high:g}], got {value}")


def describe(cls: type) -> list[tuple[str, Any, str]]:
    """(name, default, comment) of every option, for --help and the README."""
    import inspect

    try:
        comments = {name: comment for name, (_, comment) in fields_in(inspect.getsource(cls), cls.__name__).items()}
    except (OSError, TypeError):
        comments = {}
    out = []
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        out.append((f.name, default, comments.get(f.name, "")))
    return out


def fields_in(source: str, class_name: str) -> dict[str, tuple[str, str]]:
    """(annotation, comment) of each field of the class ``class_name`` in ``source``, read as text:
    the comment on a field's line is its help. Reading the source, not the class, gives a module's
    option help without importing it (and torch with it), so ``seqgan --help`` stays fast."""
    import ast
    import io
    import textwrap
    import tokenize

    source = textwrap.dedent(source)
    comments = {tok.start[0]: tok.string.lstrip("#").strip()
                for tok in tokenize.generate_tokens(io.StringIO(source).readline) if tok.type == tokenize.COMMENT}
    out = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for item in node.body:
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    out[item.target.id] = (ast.unparse(item.annotation), comments.get(item.end_lineno, ""))
            break
    return out


def fields_in_file(path: str | os.PathLike, class_name: str) -> dict[str, tuple[str, str]]:
    """``fields_in`` of the file at ``path`` (not imported)."""
    with open(path, encoding="utf-8") as f:
        return fields_in(f.read(), class_name)


PLAIN_TYPES = {"int": int, "float": float, "str": str, "bool": str}  # a bool flag takes true/false as text


def plain_type(annotation: str) -> type:
    """The type a command-line value of a field annotated ``annotation`` is read as ("float | None": float)."""
    inner = [part.strip() for part in annotation.split("|") if part.strip() != "None"]
    return PLAIN_TYPES.get(inner[0] if len(inner) == 1 else "", str)
