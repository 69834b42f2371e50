"""Learning from the user's own data: read a sequence file and turn it into a rule.

Accepted files (UTF-8 text):

- one sequence per line, tokens separated by whitespace (``--chars``: every character is a token);
- ``.csv``: one sequence per row, one column per position, every row with the same column count;
  with ``--header`` the first row names the columns (kept in the run, shown by ``sample --json``).

Blank lines are skipped. Sequences shorter than the longest are padded with an end-of-sequence
token, which sampling strips. The sequences are shuffled with the seed and split into a training
part (what the GAN sees as real data) and a held-out part (held-out NLL, novelty, n-gram metrics).

Validity is *local plausibility*, not membership — "adjacent pairs seen in training", as the verdict
names it: a generated sequence is valid when every pair of
adjacent tokens in it (its first token after the start, and the end after its last token) also
occurs in the training part — at the same position for fixed-length data such as a CSV (so each
cell is a value its column takes, next to a value its neighbour column takes with it). A new
sequence can be valid; so can nonsense built from plausible pieces, which is why a data run's
verdict rests on held-out NLL and novelty too (``seqgan_core.evaluation.verdict``). Held-out data is not
always valid by this test (it may hold pairs training never saw); ``heldout_validity`` is that
rate, the level a perfect model reaches.

The unknown token (text and ``--chars`` files; not CSV tables or event logs): the vocabulary is the
training part's tokens seen at least ``min_count`` times, plus one reserved ``<unk>``. Rarer
training tokens, tokens only the held-out part has, and a later reference file's unseen tokens are
all ``<unk>``, as in a language model's vocabulary, so that every held-out or reference line can be
scored. The model learns ``<unk>``'s probability from the rare training tokens it stands for; its
samplers never draw it (``seqgan_core.models.constraints.never_sample``). A file's own ``<unk>``
tokens (a corpus already mapped, like the Penn Treebank's) are that same class.
"""

from __future__ import annotations

import csv
import io
import random
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import torch

from seqgan_core.errors import SeqganError
from seqgan_core.evaluation.metrics import js_distance
from seqgan_core.evaluation.novelty import novelty
from seqgan_core.rules.rule import Rule

EOS = "<eos>"
UNK = "<unk>"  # the unknown class of a text data run's vocabulary
MIN_COUNT = 2  # a text data run's training tokens seen fewer times are <unk>: what teaches the model <unk>
HOLDOUT_SHARE = 0.1  # of the sequences, at least one, kept out of training
BIGRAM_WEIGHTS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.99)  # bigram vs unigram mixes the baseline picks its best from
MAX_BYTES = 200 * 1024 * 1024  # refuse files that could not sensibly be held in memory
MAX_LENGTH = 256  # tokens per sequence: the generators unroll over every position
MAX_VOCAB = 50_000  # distinct tokens: models cost O(V x H) (no V x V tables); measured in the README
# (benchmarks/bench_scaling.py), the per-position reference counts cost L x V doubles


class DataFileError(SeqganError):
    """A data file that cannot be read as sequences; the message names the file and line."""


def read_sequences(path: str | Path, chars: bool = False) -> list[tuple[str, ...]]:
    return read_data(path, chars=chars)[0]


def read_data(path: str | Path, chars: bool = False, header: bool = False) -> tuple[list[tuple[str, ...]], list[str] | None]:
    """The sequences of a data file, and its column names (a CSV read with ``header``, else None)."""
    path = Path(path)
    if not path.exists():
        raise DataFileError(f"data file {str(path)!r} does not exist")
    if path.is_dir():
        raise DataFileError(f"data file {str(path)!r} is a directory; give a text or CSV file")
    if not path.is_file():  # a FIFO would block for ever, /dev/zero never ends
        raise DataFileError(f"data file {str(path)!r} is not a regular file (a pipe, device or socket); "
                            "save the data to a text or CSV file and give that")
    if path.stat().st_size > MAX_BYTES:  # before reading it, not after
        raise DataFileError(f"data file {str(path)!r} is larger than {MAX_BYTES // 2**20} MiB")
    is_csv = path.suffix.lower() == ".csv"
    if header and not is_csv:
        raise DataFileError(f"--header only applies to CSV files; {str(path)!r} is not a .csv file")
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataFileError(f"cannot read data file {str(path)!r}: {e.strerror}") from None
    if len(raw) > MAX_BYTES:
        raise DataFileError(f"data file {str(path)!r} is larger than {MAX_BYTES // 2**20} MiB")
    if is_csv and chars:
        raise DataFileError(f"--chars does not apply to CSV files like {str(path)!r}: each cell is a token")
    columns: list[str] = []
    seqs = parse_sequences(raw, str(path), chars=chars, is_csv=is_csv, header=header, columns=columns)
    return seqs, (columns if header else None)


def parse_sequences(raw: bytes, name: str, chars: bool = False, is_csv: bool = False, header: bool = False,
                    columns: list | None = None) -> list[tuple[str, ...]]:
    """Bytes of a data file -> sequences of string tokens. Errors name ``name`` and the line.
    With ``header`` (CSV only) the first row holds column names, appended to ``columns``."""
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise DataFileError(f"{name}:{line}: binary data (NUL byte); give a UTF-8 text file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise DataFileError(f"{name}:{line}: not UTF-8 text (byte 0x{raw[e.start]:02x})") from None
    # only \n (and \r\n) end a line; str.splitlines would also split on form feeds etc.
    numbered = [(i, line.removesuffix("\r")) for i, line in enumerate(text.split("\n"), 1)]
    if is_csv:
        seqs = _parse_csv(text, name)
        if header:
            seqs = _take_header(seqs, name, columns if columns is not None else [])
    elif chars:
        seqs = [(i, tuple(line)) for i, line in numbered if line.strip()]
    else:
        seqs = [(i, tuple(line.split())) for i, line in numbered if line.strip()]
    return check_sequences(seqs, name, numbered=True)


def _take_header(rows: list, name: str, columns: list) -> list:
    """The first row as column names (into ``columns``); the rest is data."""
    if not rows:
        raise DataFileError(f"{name}: no header row (the file is empty or blank)")
    line, names = rows[0]
    if len(set(names)) != len(names):
        twice = sorted({c for c in names if names.count(c) > 1})
        raise DataFileError(f"{name}:{line}: column name {twice[0]!r} appears twice in the header row")
    columns.extend(names)
    return rows[1:]


def check_sequences(seqs: list, name: str, numbered: bool = False) -> list[tuple]:
    """The limits every source of sequences must meet; errors name ``name`` and the line (or
    the sequence's position). ``numbered``: items are ``(line, sequence)`` pairs."""
    pairs = seqs if numbered else list(enumerate(seqs, 1))
    where = (lambda i: f"{name}:{i}") if numbered else (lambda i: f"{name}: sequence {i}")
    if not pairs:
        raise DataFileError(f"{name}: no sequences (the file is empty or blank)")
    if len(pairs) < 2:
        raise DataFileError(f"{name}: only one sequence; need at least 2 to split into training and held-out parts")
    for i, seq in pairs:
        if not seq:
            raise DataFileError(f"{where(i)}: an empty sequence")
        if EOS in seq:
            raise DataFileError(f"{where(i)}: the token {EOS!r} is reserved for end-of-sequence padding")
        if len(seq) > MAX_LENGTH:
            raise DataFileError(f"{where(i)}: {len(seq)} tokens; sequences of at most {MAX_LENGTH} are supported")
    try:
        vocab = {t for _, seq in pairs for t in seq}
    except TypeError as e:
        raise DataFileError(f"{name}: tokens must be hashable ({e})") from None
    if len(vocab) > MAX_VOCAB:
        raise DataFileError(
            f"{name}: {len(vocab)} distinct tokens; at most {MAX_VOCAB} are supported "
            "(use --chars for text, or map rare tokens to one)"
        )
    return [tuple(seq) for _, seq in pairs]


def _parse_csv(text: str, name: str) -> list[tuple[int, tuple[str, ...]]]:
    """One sequence per CSV row (a header row is taken off by the caller); quoted cells may hold commas and newlines."""
    rows, width, first = [], None, None
    reader = csv.reader(io.StringIO(text, newline=""))
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            raise DataFileError(f"{name}:{start}: not a valid CSV row ({e})") from None
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue
        if width is None:
            width, first = len(cells), start
        elif len(cells) != width:
            raise DataFileError(
                f"{name}:{start}: {len(cells)} columns, but line {first} has {width}; every row needs the same columns"
            )
        if any(c == "" for c in cells):
            raise DataFileError(f"{name}:{start}: empty cell; every position needs a token")
        rows.append((start, tuple(cells)))
    return rows


@dataclass
class Dataset:
    """Sequences as vocabulary indices ``(n, length)``, split by the seed."""

    name: str
    vocab: list[str]
    length: int
    eos: str | None  # the padding token, None when every sequence has the same length
    train: torch.Tensor  # (n_train, length)
    heldout: torch.Tensor  # (n_heldout, length)
    all_sequences: set[tuple[int, ...]]  # every sequence in the file, as index tuples
    unk: str | None = None  # the unknown token (UNK), None for a vocabulary of every token in the file
    min_count: int = 1  # training tokens seen fewer times are ``unk`` (with ``unk`` only)
    unk_tokens: int = 0  # tokens of the file that are ``unk`` (rare in training, or only held out)
    columns: list[str] | None = None  # a CSV's column names (--header), one per position
    tabular: bool = False  # a CSV: every position is a column with its own values (position_mask)
    fixed_columns: int = 0  # free-length data whose first positions are such columns (an event log's context)

    @classmethod
    def from_sequences(cls, seqs: list[tuple[str, ...]], name: str, seed: int, unk: bool = False,
                       min_count: int = MIN_COUNT) -> Dataset:
        """``seqs`` as indices, split by ``seed``. Without ``unk`` the vocabulary is every token of
        the file; with it, the training part's tokens seen ``min_count`` times or more, then UNK for
        the rest (the split comes first: it follows the seed alone, as without ``unk``)."""
        length = max(len(s) for s in seqs)
        eos = EOS if any(len(s) < length for s in seqs) else None
        order = list(range(len(seqs)))
        random.Random(seed).shuffle(order)
        n_held = max(1, round(HOLDOUT_SHARE * len(seqs)))
        held, train = order[:n_held], order[n_held:]
        if unk:
            if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
                raise DataFileError(f"{name}: --min-count must be a whole number of at least 1, got {min_count!r}")
            counts = Counter(t for i in train for t in seqs[i])
            known = [t for t, c in counts.items() if c >= min_count and t != UNK]
            if not known:
                raise DataFileError(f"{name}: no token occurs {min_count} times in the training part, so every "
                                    "token would be <unk>; lower --min-count (1 keeps every training token)")
            vocab = sorted(known, key=_natural_key) + [UNK] + ([eos] if eos else [])
        else:
            vocab = sorted(Counter(t for s in seqs for t in s), key=_natural_key) + ([eos] if eos else [])
        index = {t: i for i, t in enumerate(vocab)}
        pad, other = index.get(eos, -1), index.get(UNK) if unk else None
        rows = torch.tensor([[index.get(t, other) for t in s] + [pad] * (length - len(s)) for s in seqs],
                            dtype=torch.long)
        data = cls(name, vocab, length, eos, rows[train], rows[held], {tuple(r) for r in rows.tolist()})
        if unk:
            data.unk, data.min_count = UNK, min_count
            data.unk_tokens = int((rows == other).sum())
        return data

    def position_mask(self) -> torch.Tensor | None:
        """The tokens each position may hold ``(L, V)`` (``seqgan_core.models.constraints``): a CSV's
        columns each their own values (an event log's context columns too, and its events the
        values that occur as events), and no end token first when no sequence is empty (none
        is: ``check_sequences``). Columns take their values from every row of the file, held-out
        ones too, as the vocabulary does: a held-out value outside its column's mask would have
        NLL infinity. None when nothing is masked, or for free-length sequences longer than
        ``MASK_MAX_LENGTH`` (their sampler would cost L passes for one token's mask)."""
        from seqgan_core.models.constraints import MASK_MAX_LENGTH

        V, L = len(self.vocab), self.length
        if self.tabular:
            rows = torch.cat([self.train, self.heldout])  # (n, L)
            mask = torch.zeros(L, V, dtype=torch.bool)
            mask[torch.arange(L).expand_as(rows), rows] = True
            return mask
        k = self.fixed_columns
        if self.eos is not None and (L <= MASK_MAX_LENGTH or k):
            mask = torch.ones(L, V, dtype=torch.bool)
            if k:  # the leading columns (an event log's context) each keep their own values
                rows = torch.cat([self.train, self.heldout])  # (n, L)
                mask[:] = False
                mask[torch.arange(k).expand_as(rows[:, :k]), rows[:, :k]] = True
                # and the events theirs: a plan is never an action (the end token is among them)
                mask[k:, torch.unique(rows[:, k:])] = True
            mask[: k + 1, self.eos_index] = False  # no sequence ends before its first token
            return mask
        return None

    def column_names(self) -> list[str]:
        """A name per position: the CSV header's, else the positions 1 .. L."""
        return list(self.columns) if self.columns else [str(i + 1) for i in range(self.length)]

    @property
    def eos_index(self) -> int | None:
        return self.vocab.index(self.eos) if self.eos else None

    @property
    def unk_index(self) -> int | None:
        return self.vocab.index(self.unk) if self.unk else None

    def _pairs(self, seqs: torch.Tensor) -> torch.Tensor:
        """Each canonical sequence ``(n, L)`` as codes of its adjacent pairs ``(n, L + 1)``: with a
        start before it and, without end tokens, an end after it (so a cut-off sequence is caught);
        fixed-length data keys every pair by its position too."""
        V, n = len(self.vocab), len(seqs)
        start = torch.full((n, 1), V)  # a start symbol outside the vocabulary
        ends = [] if self.eos else [torch.full((n, 1), V + 1)]
        seq = torch.cat([start, seqs, *ends], dim=1)  # (n, L + 1 or L + 2)
        codes = seq[:, :-1] * (V + 2) + seq[:, 1:]  # (n, L or L + 1)
        if self.eos is None:  # a position's own pairs: a CSV's columns
            codes = codes + torch.arange(codes.shape[1]) * (V + 2) ** 2
        else:  # padding after the end is no pair of the sequence: -1, always seen
            codes = torch.where(seq[:, :-1] == self.eos_index, -1, codes)
        return codes

    def to_rule(self) -> Rule:
        """The file as a rule: real data is the training part, held-out data the rest."""
        train, heldout = self.train, self.heldout
        seen = torch.unique(torch.cat([self._pairs(train).flatten(), torch.tensor([-1])]))  # every pair code in training

        def sample(n: int, generator: torch.Generator) -> torch.Tensor:
            return train[torch.randint(len(train), (n,), generator=generator)]

        def held(n: int, generator: torch.Generator) -> torch.Tensor:
            return heldout[torch.randint(len(heldout), (n,), generator=generator)]

        def is_valid(seqs: torch.Tensor) -> torch.Tensor:
            return torch.isin(self._pairs(seqs), seen).all(dim=1)

        rule = Rule(name=self.name, description=f"sequences from {self.name}", vocab=self.vocab,
                    length=self.length, sample=sample, is_valid=is_valid, eos=self.eos, heldout=held,
                    metrics=self.metrics, position_mask=self.position_mask(), unk=self.unk)
        self._rule = rule
        return rule

    def metrics(self, seqs: torch.Tensor) -> dict:
        """Copies and novelty (``seqgan_core.evaluation.novelty``), held-out data's own validity, and n-gram
        (1-4) Jensen-Shannon distances to the held-out part, of canonical ``seqs``."""
        eos = self.eos_index
        out = novelty(seqs, self.train, self.heldout, eos)
        rule = getattr(self, "_rule", None) or self.to_rule()
        out["heldout_validity"] = rule.valid(self.heldout).float().mean().item()
        unpadded = [[t for t in r if t != eos] for r in seqs.tolist()]
        heldout = [[t for t in r if t != eos] for r in self.heldout.tolist()]
        for n in range(1, min(4, self.length) + 1):  # no 4-grams in sequences of 3
            out[f"ngram{n}_js"] = _ngram_js(unpadded, heldout, n)
        if self.tabular:  # each column's value distribution against held-out rows'
            for pos, name in enumerate(self.column_names()):
                out[f"column_tv_{name}"] = _tv(seqs[:, pos].tolist(), self.heldout[:, pos].tolist())
        if self.eos is not None:  # free-length sequences: how long they are, against held-out data
            out["length_tv"] = _tv(list(map(len, unpadded)), list(map(len, heldout)))
        return out

    def bigram_nll(self) -> float:
        """Per-token NLL (nats) of the held-out part under the best bigram model of the training
        part (bigram mixed with unigram frequencies, the mix chosen on the held-out part itself:
        the strongest baseline a bigram can be). Tokens counted as ``metrics.per_token_nll`` does:
        up to and including the first end token. Fixed-length data conditions on the position too."""
        from seqgan_core.evaluation.metrics import token_mask

        V = len(self.vocab)

        def contexts(seqs):  # (n, L): the previous token (start = V), and the position if fixed-length
            prev = torch.cat([torch.full((len(seqs), 1), V), seqs[:, :-1]], dim=1)
            return prev + (torch.arange(seqs.shape[1]) * (V + 1) if self.eos is None else 0)

        def unigram_key(seqs):
            return seqs + (torch.arange(seqs.shape[1]) * V if self.eos is None else 0)

        train_mask = token_mask(self.train, self.eos_index)
        ctx, tok = contexts(self.train)[train_mask], self.train[train_mask]
        pair_counts = Counter(zip(ctx.tolist(), tok.tolist()))
        ctx_counts = Counter(ctx.tolist())
        uni_counts = Counter(unigram_key(self.train)[train_mask].tolist())
        uni_totals = Counter((k // V if self.eos is None else 0) for k in unigram_key(self.train)[train_mask].tolist())
        held_mask = token_mask(self.heldout, self.eos_index)
        h_ctx = contexts(self.heldout)[held_mask].tolist()
        h_tok = self.heldout[held_mask].tolist()
        h_uni = unigram_key(self.heldout)[held_mask].tolist()
        uni = torch.tensor([(uni_counts[u] + 1) / (uni_totals[u // V if self.eos is None else 0] + V) for u in h_uni],
                           dtype=torch.float64)
        bi = torch.tensor([pair_counts[(c, t)] / ctx_counts[c] if ctx_counts[c] else 0.0
                           for c, t in zip(h_ctx, h_tok)], dtype=torch.float64)
        return min(-(w * bi + (1 - w) * uni).log().mean().item() for w in BIGRAM_WEIGHTS)


def load_dataset(path: str | Path, seed: int, chars: bool = False, header: bool = False,
                 min_count: int | None = None) -> Dataset:
    """A data file as a ``Dataset``. ``min_count`` (a text or ``--chars`` file only) gives the
    vocabulary its unknown token (module docstring); None = every token of the file, no ``<unk>``."""
    seqs, columns = read_data(path, chars=chars, header=header)
    if min_count is not None and Path(path).suffix.lower() == ".csv":
        raise DataFileError(f"--min-count applies to text files, not to the CSV table {str(path)!r}: "
                            "each cell is a column's value")
    dataset = Dataset.from_sequences(seqs, data_rule_name(path), seed, unk=min_count is not None,
                                     min_count=1 if min_count is None else min_count)
    dataset.columns = columns
    dataset.tabular = Path(path).suffix.lower() == ".csv"
    if dataset.tabular and len(set(map(len, seqs))) != 1:  # _parse_csv ensures it; the mask relies on it
        raise DataFileError(f"{str(path)!r}: rows of different lengths")
    return dataset


def data_rule_name(path: str | Path) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(path).stem).strip("-.") or "file"
    return f"data-{stem}"


def _natural_key(token: str):
    """Numbers in numeric order, then everything else alphabetically."""
    try:
        return (0, float(token), token)
    except ValueError:
        return (1, 0.0, token)


def _tv(a: list, b: list) -> float:
    """Total variation distance between the empirical distributions of ``a`` and ``b``."""
    if not a or not b:
        return 0.0 if not a and not b else 1.0
    ca, cb = Counter(a), Counter(b)
    return 0.5 * sum(abs(ca[k] / len(a) - cb[k] / len(b)) for k in ca.keys() | cb.keys())


def _ngram_js(generated: list[tuple], heldout: list, n: int) -> float:
    def grams(rows):
        return Counter(tuple(r[i : i + n]) for r in rows for i in range(len(r) - n + 1))

    g, h = grams(generated), grams(heldout)
    if not g or not h:  # one side has no n-grams at all: as far apart as can be, unless both
        return 0.0 if not g and not h else 1.0
    keys = list(g.keys() | h.keys())
    p = torch.tensor([g[k] for k in keys], dtype=torch.float64)
    q = torch.tensor([h[k] for k in keys], dtype=torch.float64)
    return js_distance(p, q).item()
