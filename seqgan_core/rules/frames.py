"""pandas DataFrames and event logs as sequences, and samples back in the same form.

Two forms (``FrameLayout`` remembers which, to give samples back in it):

- **wide**: one row a sequence, one column a position (a table): every cell a token, each column
  with its own values (``Dataset.tabular``: the position mask keeps them apart);
- **long** (an event log): one row an event, with an ``entity`` column (whose sequence), an
  ``order`` column (sorts an entity's events) and an ``event`` column (the token); optional
  ``context`` columns hold one value per entity (a plan, a country). An entity becomes the
  sequence ``[context values..., events...]`` of variable length; the context positions are
  columns with their own values (the position mask), so ``where={"plan": "pro"}`` conditions
  exactly on a prefix.

Also read from a CSV file (``read_events``) for ``--entity/--order/--event/--context``. pandas is
an optional dependency (``pip install 'seqgan[pandas]'``), imported only here and only when used.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from seqgan_core.rules.data import DataFileError, check_sequences


def require_pandas():
    """The pandas module, or one error line saying how to install it."""
    try:
        import pandas
    except ImportError:
        raise DataFileError("DataFrames need pandas, which is not installed; pip install 'seqgan[pandas]'") from None
    return pandas


def is_frame(obj) -> bool:
    """Whether ``obj`` is a pandas DataFrame, without importing pandas when it is not loaded."""
    import sys

    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(obj, pandas.DataFrame)


@dataclass
class FrameLayout:
    """How sequences were made from a table, to turn samples back into one."""

    form: str  # "wide" | "long"
    columns: list[str] = field(default_factory=list)  # wide: the columns, one per position
    entity: str | None = None  # long: the entity, order and event column names
    order: str | None = None
    event: str | None = None
    context: list[str] = field(default_factory=list)  # long: per-entity columns, the first positions

    @property
    def fixed_columns(self) -> int:
        """Leading positions that are columns with their own values."""
        return len(self.columns) if self.form == "wide" else len(self.context)

    def to_rows(self, sequences: list[list], first_entity: int = 0) -> list[dict]:
        """Samples (token lists, end tokens stripped) as records of the original form; long form
        numbers the sampled entities from ``first_entity`` (samples written chunk by chunk)."""
        if self.form == "wide":
            return [dict(zip(self.columns, seq)) for seq in sequences]
        rows, k = [], len(self.context)
        for i, seq in enumerate(sequences, first_entity):
            ctx = dict(zip(self.context, seq[:k]))
            rows += [{self.entity: i, self.order: t, self.event: ev, **ctx} for t, ev in enumerate(seq[k:])]
        return rows


def _cell(value) -> str:
    return str(value).strip()


def sequences_from_records(records: list[dict], name: str, entity: str | None = None, order: str | None = None,
                           event: str | None = None, context: list[str] | tuple = (),
                           columns: list[str] | None = None) -> tuple[list[tuple], FrameLayout]:
    """Records (column -> value) as sequences: wide without ``entity``, long (an event log) with it."""
    if entity is None:
        if event is not None or order is not None or context:
            raise DataFileError(f"{name}: --order, --event and --context need --entity (an event log)")
        columns = list(columns or (records[0].keys() if records else []))
        seqs = [tuple(_cell(r[c]) for c in columns) for r in records]
        for i, seq in enumerate(seqs, 1):
            if any(cell == "" for cell in seq):
                raise DataFileError(f"{name}: row {i} has an empty cell; every column needs a value")
        return check_sequences(seqs, name), FrameLayout("wide", columns)
    missing = [c for c in (entity, order, event, *context) if c is None or (records and c not in records[0])]
    if event is None or order is None:
        raise DataFileError(f"{name}: an event log needs --entity, --order and --event columns")
    if missing:
        have = ", ".join(records[0].keys()) if records else "none"
        raise DataFileError(f"{name}: no column {missing[0]!r}; columns: {have}")
    groups: dict = {}
    for i, r in enumerate(records, 1):
        groups.setdefault(_cell(r[entity]), []).append((i, r))
    seqs = []
    for key, rows in groups.items():
        ctx = []
        for c in context:
            values = {_cell(r[c]) for _, r in rows}
            if len(values) != 1:
                raise DataFileError(f"{name}: entity {key!r} has {len(values)} values of context column {c!r} "
                                    f"({', '.join(sorted(values)[:3])}); a context column holds one value per entity")
            ctx.append(values.pop())
        rows.sort(key=lambda ir: _order_key(ir[1][order]))
        seqs.append(tuple(ctx + [_cell(r[event]) for _, r in rows]))
    return check_sequences(seqs, name), FrameLayout("long", entity=entity, order=order, event=event,
                                                     context=list(context))


def _order_key(value):
    """Numbers (and numeric strings) in numeric order, else as text (ISO timestamps sort as text)."""
    try:
        return (0, float(value), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(value))


def from_frame(frame, entity: str | None = None, order: str | None = None, event: str | None = None,
               context: list[str] | tuple = ()) -> tuple[list[tuple], FrameLayout]:
    """A DataFrame (wide, or long with ``entity``) as sequences and its layout."""
    require_pandas()
    records = [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")]
    columns = [str(c) for c in frame.columns]
    return sequences_from_records(records, "the DataFrame", entity, order, event, context,
                                  columns=columns if entity is None else None)


def to_frame(rows: list[dict], layout: FrameLayout):
    """Records from ``FrameLayout.to_rows`` as a DataFrame with the original columns."""
    pandas = require_pandas()
    if layout.form == "wide":
        return pandas.DataFrame(rows, columns=layout.columns)
    return pandas.DataFrame(rows, columns=[layout.entity, layout.order, layout.event, *layout.context])


def read_events(path: str | Path, entity: str, order: str, event: str, context: list[str] | tuple = ()
                ) -> tuple[list[tuple], FrameLayout]:
    """An event-log CSV file (a header row naming the columns) as sequences, one per entity."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        raise DataFileError(f"--entity reads an event log from a CSV file with a header; {str(path)!r} is not a .csv file")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            records = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise DataFileError(f"cannot read {str(path)!r} as a CSV event log ({e})") from None
    return sequences_from_records(records, str(path), entity, order, event, context)
