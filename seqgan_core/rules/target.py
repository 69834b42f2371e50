"""What a run learns: a registered rule, or the user's data file turned into a rule.

The target's ``record`` is stored in config.json, the checkpoint and the model file, so that
``evaluate``, ``plot`` and ``train --resume`` rebuild the same target later.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from seqgan_core.rules.data import MIN_COUNT, Dataset, load_dataset
from seqgan_core.errors import SeqganError
from seqgan_core.rules.rule import Rule


@dataclass
class Target:
    rule: Rule
    record: dict  # {"kind": "rule", "rule": ..., "plugin": ...} or {"kind": "data", "path": ..., ...}
    dataset: Dataset | None = None

    @property
    def finite(self) -> bool:
        """Finite data: a fixed training set with held-out sequences of its own (``Rule.heldout``) —
        a data file, or a rule like the SeqGAN oracle. Such a run stops on held-out NLL and saves
        its sampler at T = 1; a rule that draws fresh sequences every step cannot be memorised."""
        return self.rule.heldout is not None

    def extra_metrics(self, seqs: torch.Tensor) -> dict:
        """The rule's own extra figures (a data file's novelty and n-gram distances, ...)."""
        return self.rule.extra_metrics(seqs.cpu())

    def format(self, seq: torch.Tensor) -> str:
        """One index sequence as a line: decoded, cut at the end token; a --chars run's characters
        are joined as they were in the file."""
        tokens = self.rule.strip(self.rule.vocabulary.decode(seq))
        return ("" if self.record.get("chars") else " ").join(map(str, tokens))

    def check_vocabulary(self, tokens: list, what: str) -> None:
        """A data file rebuilt later must give the vocabulary the model was trained with."""
        if self.dataset is not None and list(tokens) != list(self.rule.vocab):
            raise SeqganError(
                f"{self.record['path']} no longer matches {what}: its tokens changed since training "
                f"({len(self.rule.vocab)} now, {len(tokens)} then); pass the original file"
            )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


CONSTRAINT_NOTE = ("applied by seqgan's sampler (seqgan sample RUN, SeqGAN.sample), which loads the rule; "
                   "a bare exported file does not apply it")


def rule_target(rule: Rule) -> Target:
    record = {"kind": "rule", "rule": rule.name, "plugin": rule.plugin}
    if rule.allowed_next is not None:  # config.json and the model file say where it is applied
        record["allowed_next"] = CONSTRAINT_NOTE
    return Target(rule, record)


def data_target(path: str | Path, seed: int, chars: bool = False, header: bool = False,
                min_count: int | None = MIN_COUNT) -> Target:
    """A data file as a target. A text or ``--chars`` file gets the unknown token ``<unk>`` for
    training tokens seen fewer than ``min_count`` times (``rules/data.py``); a CSV table does not,
    nor does ``min_count=None`` (a run saved before ``<unk>`` existed, rebuilt as it was)."""
    path = Path(path)
    table = path.suffix.lower() == ".csv"
    dataset = load_dataset(path, seed=seed, chars=chars, header=header, min_count=None if table else min_count)
    rule = dataset.to_rule()
    rule.plugin = "--data"
    record = {"kind": "data", "path": str(path.resolve()), "chars": chars, "seed": seed,
              "rule": rule.name, "eos": dataset.eos, "vocab_size": len(dataset.vocab),
              "sha256": file_sha256(path)}  # what --resume checks: the same bytes, not just the same tokens
    if dataset.unk is not None:  # its absence rebuilds an older run's vocabulary, without <unk>
        record.update(unk=dataset.unk, min_count=dataset.min_count, unk_tokens=dataset.unk_tokens)
    if header:
        record.update(header=True, columns=dataset.columns)
    return Target(rule, record, dataset)


def sequences_target(sequences, seed: int, name: str = "sequences") -> Target:
    """Token sequences given in Python (lists of hashable tokens), learned like a data file."""
    from seqgan_core.rules.data import Dataset, check_sequences

    seqs = check_sequences([tuple(s) for s in sequences], name)
    dataset = Dataset.from_sequences(seqs, name, seed)
    rule = dataset.to_rule()
    rule.plugin = "python"
    record = {"kind": "sequences", "rule": rule.name, "seed": seed, "eos": dataset.eos,
              "vocab_size": len(dataset.vocab)}
    return Target(rule, record, dataset)


def frame_target(frame, seed: int, entity: str | None = None, order: str | None = None, event: str | None = None,
                 context=(), path: str | Path | None = None) -> Target:
    """A pandas DataFrame (wide: a row a sequence; long, with ``entity``: an event log), or with
    ``path`` an event-log CSV file, learned like a data file (``seqgan_core.rules.frames``). The
    record keeps the layout, so that samples come back in the same form."""
    from dataclasses import asdict

    from seqgan_core.rules.data import Dataset, data_rule_name
    from seqgan_core.rules.frames import from_frame, read_events

    if path is not None:
        seqs, layout = read_events(path, entity, order, event, context)
        name = data_rule_name(path)
    else:
        seqs, layout = from_frame(frame, entity, order, event, context)
        name = "dataframe"
    dataset = Dataset.from_sequences(seqs, name, seed)
    dataset.tabular = layout.form == "wide" and dataset.eos is None
    dataset.fixed_columns = 0 if dataset.tabular else layout.fixed_columns
    dataset.columns = layout.columns if dataset.tabular else None
    rule = dataset.to_rule()
    rule.plugin = "--data" if path is not None else "python"
    record = {"kind": "data" if path is not None else "frame", "rule": rule.name, "seed": seed, "eos": dataset.eos,
              "vocab_size": len(dataset.vocab), "layout": asdict(layout)}
    if dataset.tabular:
        record["columns"] = layout.columns
    elif layout.context:
        record["context_columns"] = layout.context  # the first positions: --where plan=pro is a prefix
    if path is not None:
        record.update(path=str(Path(path).resolve()), sha256=file_sha256(Path(path)), chars=False,
                      events={"entity": entity, "order": order, "event": event, "context": list(context)})
    return Target(rule, record, dataset)


def target_from_record(record: dict, rules: Callable[[], dict[str, Rule]], data: str | None = None,
                       data_flag: str = "--data FILE") -> Target:
    """Rebuild a saved target. ``rules`` loads the plugin registry (only called for rule targets);
    ``data`` overrides the stored data path (the file may have moved)."""
    if record.get("kind") == "data":
        path = data or record["path"]
        if not Path(path).exists():
            raise SeqganError(
                f"this run learned from {record['path']!r}, which no longer exists; pass the file with {data_flag}"
            )
        if record.get("events"):  # an event log read with --entity/--order/--event
            return frame_target(None, int(record["seed"]), path=path, **record["events"])
        return data_target(path, seed=int(record["seed"]), chars=bool(record.get("chars")),
                           header=bool(record.get("header")),
                           min_count=int(record["min_count"]) if record.get("unk") is not None else None)
    if record.get("kind") in ("sequences", "frame"):
        raise SeqganError("this run learned from sequences given in Python, which seqgan cannot reload; "
                          "use SeqGAN(...).fit(sequences) again, or save them to a file and use --data")
    name = record.get("rule")
    registry = rules()
    if name not in registry:
        raise SeqganError(
            f"the model was trained on rule {name!r} (plugin {record.get('plugin')}), which is not "
            "installed; install that plugin or load it with -p MODULE"
        )
    return rule_target(registry[name])
