"""Tables, conditions and constraints: column domains as logit masks that the exported file carries,
``sample --where``, a rule's ``allowed_next``, and data metrics that name what they measure."""

import json

import pytest
import torch

from seqgan_core.io.export import load_model, metadata, save_sampler
from seqgan_core.models import GRUGenerator, MarginalsGenerator, TransformerGenerator
from seqgan_core.models.constraints import (
    Constraint, ConstrainedGenerator, MaskedSampler, apply_mask, constrain, masked_sample,
)
from seqgan_core.rules.data import load_dataset
from seqgan_core.rules.target import data_target

# three columns whose values could leak into each other: a size column of numbers beside a
# quantity column of numbers, and a colour column
ROWS = [("red", "38", "1"), ("blue", "40", "2"), ("red", "42", "3"), ("green", "38", "2"),
        ("blue", "44", "1"), ("green", "40", "3")] * 40


def _csv(tmp_path, header=True):
    path = tmp_path / "t.csv"
    lines = (["colour,size,qty"] if header else []) + [",".join(r) for r in ROWS]
    path.write_text("\n".join(lines) + "\n")
    return path


def _outside(seqs: torch.Tensor, mask: torch.Tensor) -> int:
    """Rows holding a token their position's mask does not allow."""
    pos = torch.arange(seqs.shape[1]).expand_as(seqs)
    return int((~mask[pos, seqs]).any(dim=1).sum())


def test_apply_mask_gives_disallowed_tokens_probability_zero():
    logits = torch.zeros(2, 4)
    mask = torch.tensor([[True, False, True, False], [False, False, False, True]])
    probs = apply_mask(logits, mask).softmax(-1)
    assert torch.equal(probs > 0, mask) and torch.allclose(probs.sum(-1), torch.ones(2))


def test_csv_columns_get_their_own_values_as_the_mask(tmp_path):
    ds = load_dataset(_csv(tmp_path), seed=0, header=True)
    mask = ds.position_mask()
    assert mask.shape == (3, len(ds.vocab))
    for pos in range(3):
        allowed = {ds.vocab[i] for i in mask[pos].nonzero().flatten().tolist()}
        assert allowed == {r[pos] for r in ROWS}
    # "38" is a size, never a quantity; "1" a quantity, never a size
    assert not mask[2, ds.vocab.index("38")] and not mask[1, ds.vocab.index("1")]


def test_free_length_data_never_starts_with_its_end_token(tmp_path):
    path = tmp_path / "w.txt"
    path.write_text("ab\nabc\nb\nca\n")
    ds = load_dataset(path, seed=0, chars=True)
    mask = ds.position_mask()
    assert not mask[0, ds.eos_index] and mask[1:, ds.eos_index].all() and mask[0, :ds.eos_index].all()


@pytest.mark.parametrize("family", [GRUGenerator, TransformerGenerator, MarginalsGenerator])
def test_a_constrained_generator_never_samples_outside_its_mask(family):
    torch.manual_seed(0)
    mask = torch.rand(5, 7) < 0.4
    mask[:, 0] = True  # every position allows something
    g = constrain(family(7, 5), Constraint(mask))
    assert isinstance(g, ConstrainedGenerator)
    seqs = g.sample(2000)
    assert _outside(seqs, mask) == 0
    assert torch.isfinite(g.nll(seqs)) and torch.isfinite(g.token_log_probs(seqs)).all()
    # the training loss renormalises over the allowed tokens only: below the unmasked NLL
    assert g.nll(seqs) < g.inner.nll(seqs)


@pytest.mark.parametrize("fmt", ["torchscript", "export", "weights"])
def test_the_exported_file_carries_the_mask(tmp_path, fmt):
    """Every format keeps the mask: a file sampled with plain torch never leaves a column."""
    from seqgan_core.engine.config import TrainConfig

    torch.manual_seed(0)
    target = data_target(_csv(tmp_path), seed=0, header=True)
    rule = target.rule
    mask = rule.position_mask
    g = constrain(GRUGenerator(len(rule.vocab), rule.length, GRUGenerator.Options(hidden=16)), rule.constraint())
    config = TrainConfig.from_dict({"recipe": "sequence", "options": {"generator": "gru", "generator_options": {"hidden": 16}}}) \
        if fmt == "weights" else None
    meta = metadata(rule, config=config.to_dict() if config else None, target=target.record)
    path = save_sampler(g, meta, tmp_path / f"g.{fmt}", fmt)
    model = load_model(path)
    assert isinstance(model.sampler, MaskedSampler) or hasattr(model.sampler, "position_mask")
    seqs = model.sample(5000, seed=1)
    assert _outside(seqs, mask) == 0
    # unmasked, the same untrained generator leaks across columns all the time
    assert _outside(g.inner.sample(5000), mask) > 100


def test_csv_run_end_to_end_with_where(tmp_path, main_in_process):
    path = _csv(tmp_path)
    code, _, err = main_in_process("train", "--data", path, "--header", "--out", "run", "--max-steps", "30")
    assert code in (0, 3), err
    code, out, _ = main_in_process("sample", "run", "-n", "3000", "--json", "--seed", "0")
    rows = json.loads(out)
    domains = {c: {r[i] for r in ROWS} for i, c in enumerate(["colour", "size", "qty"])}
    assert all(row[c] in domains[c] for row in rows for c in domains)
    # a prefix: exact; a later column: rejection; both 100 % of rows
    for where in (["colour=red"], ["qty=2"], ["colour=blue", "qty=1"]):
        args = [a for w in where for a in ("--where", w)]
        code, out, err = main_in_process("sample", "run", "-n", "200", "--json", "--seed", "0", *args)
        assert code == 0, err
        rows = json.loads(out)
        assert len(rows) == 200
        for w in where:
            column, value = w.split("=")
            assert all(row[column] == value for row in rows)
    code, out, err = main_in_process("sample", "run", "--where", "colour=atlantis")
    assert code == 2 and out == ""
    assert err.strip() == ("seqgan: error: colour=atlantis never occurs in column 'colour' of the training data; "
                           "values: blue, green, red")
    # a value of another column is not a value of this one
    code, _, err = main_in_process("sample", "run", "--where", "qty=38")
    assert code == 2 and "never occurs in column 'qty'" in err
    code, _, err = main_in_process("sample", "run", "--where", "weight=3")
    assert code == 2 and "no column 'weight'" in err
    cfg = json.loads((tmp_path / "run" / "config.json").read_text())
    assert "adjacent pairs seen in training" in cfg["verdict"]["summary"]
    assert "column TV to held-out rows" in cfg["verdict"]["summary"]


def test_where_on_a_column_too_rare_is_one_line(tmp_path, main_in_process, monkeypatch):
    from seqgan_core.rules import conditions

    path = _csv(tmp_path, header=False)
    main_in_process("train", "--data", path, "--out", "run", "--max-steps", "5")
    monkeypatch.setattr(conditions, "MIN_BUDGET", 1)
    monkeypatch.setattr(conditions, "REJECTION_BUDGET", 0)
    code, out, err = main_in_process("sample", "run", "-n", "100000", "--where", "3=2")
    assert code == 2 and out == ""
    assert err.startswith("seqgan: error: the condition 3=2 is too rare for this model") and err.count("\n") == 1


def test_chars_run_json_prints_strings_and_no_empty_samples(tmp_path, main_in_process):
    path = tmp_path / "names.txt"
    path.write_text("\n".join(["anna", "bob", "carl", "dave", "eve", "fred", "gil", "hal"] * 10) + "\n")
    code, _, err = main_in_process("train", "--data", path, "--chars", "--out", "run", "--max-steps", "10")
    assert code in (0, 3), err
    code, out, _ = main_in_process("sample", "run", "-n", "2000", "--json", "--seed", "0")
    names = json.loads(out)
    assert all(isinstance(s, str) for s in names) and "" not in names
    code, out, _ = main_in_process("sample", "run", "-n", "2000", "--seed", "0")
    assert out.splitlines() == names  # --json and plain print the same words


def test_checkdigit_with_its_constraint_is_valid_by_construction(tmp_path, main_in_process):
    """Five steps of training: nothing learned, yet every sample is valid — the rule's allowed_next
    sets the check digit, in training and in seqgan's sampler (not in the bare file)."""
    from seqgan_core import SeqGAN

    code, _, err = main_in_process("train", "--rule", "checkdigit", "--out", "run", "--max-steps", "5")
    assert code in (0, 3), err
    code, out, err = main_in_process("sample", "run", "-n", "500", "--seed", "0")
    assert code == 0 and "applied by seqgan's sampler" in err
    seqs = [list(map(int, line.split())) for line in out.splitlines()]
    assert len(seqs) == 500 and all(s[9] == sum(s[:9]) % 10 for s in seqs)
    cfg = json.loads((tmp_path / "run" / "config.json").read_text())
    assert "applied by seqgan's sampler" in json.dumps(cfg)
    api = SeqGAN.load(tmp_path / "run").sample(300, seed=0)
    assert all(int(s[9]) == sum(map(int, s[:9])) % 10 for s in api)
    code, out, err = main_in_process("evaluate", "run", "-n", "300", "--json")
    assert code in (0, 3) and json.loads(out)["validity"] == 1.0, err  # evaluate samples as seqgan's sampler does
    bare = torch.jit.load(str(tmp_path / "run" / "generator.pt"))
    torch.manual_seed(0)
    raw = bare(2000)
    assert (raw[:, 9] == raw[:, :9].sum(-1) % 10).float().mean() < 0.5  # the bare file: about chance


def test_masked_sample_sets_a_fixed_prefix():
    torch.manual_seed(0)
    g = GRUGenerator(6, 4)
    fixed = torch.tensor([3, 1, -1, -1])
    seqs = masked_sample(g.teacher_forced_logits, 300, 4, 6, lambda p: torch.ones(len(p), 6, dtype=torch.bool),
                         fixed=fixed)
    assert (seqs[:, :2] == torch.tensor([3, 1])).all() and len(set(seqs[:, 2].tolist())) > 1


def _event_rows(n_users: int = 120):
    import random

    rng = random.Random(0)
    rows = []
    for user in range(n_users):
        plan = rng.choice(["free", "pro"])
        actions = ["login", "view", "buy"] if plan == "pro" else ["login", "view"]
        for t in range(rng.randint(1, 5)):
            rows.append({"user": f"u{user}", "ts": 10 * t + rng.random(), "action": rng.choice(actions), "plan": plan})
    return rows


def test_an_event_logs_context_values_are_never_events():
    """A plan is a value of the context column only: an event position never holds one (an
    untrained model once sampled `pro` as an action)."""
    from seqgan_core.rules.frames import sequences_from_records
    from seqgan_core.rules.data import Dataset

    seqs, _ = sequences_from_records(_event_rows(), "events", "user", "ts", "action", ["plan"])
    ds = Dataset.from_sequences(seqs, "events", 0)
    ds.fixed_columns = 1
    mask = ds.position_mask()
    allowed = lambda pos: {ds.vocab[i] for i in mask[pos].nonzero().flatten().tolist()}  # noqa: E731
    assert allowed(0) == {"free", "pro"}
    assert allowed(1) == {"login", "view", "buy"}  # no session is empty
    assert all(allowed(pos) == {"login", "view", "buy", ds.eos} for pos in range(2, ds.length))


def test_dataframes_wide_and_long_come_back_in_their_form():
    pd = pytest.importorskip("pandas")
    from seqgan_core import SeqGAN

    wide = pd.DataFrame([dict(zip(["colour", "size", "qty"], r)) for r in ROWS])
    gan = SeqGAN(seed=0, max_steps=20).fit(wide)
    out = gan.sample(200, seed=0)
    assert list(out.columns) == ["colour", "size", "qty"] and len(out) == 200
    assert set(out["size"]) <= {"38", "40", "42", "44"} and set(out["qty"]) <= {"1", "2", "3"}
    long = pd.DataFrame(_event_rows())
    gan = SeqGAN(seed=0, max_steps=20).fit(long, entity="user", order="ts", event="action", context=["plan"])
    out = gan.sample(100, seed=0, where={"plan": "free"})
    assert list(out.columns) == ["user", "ts", "action", "plan"]
    assert set(out["plan"]) == {"free"} and out["user"].nunique() == 100  # no entity without events
    assert set(out["action"]) <= {"login", "view", "buy"}


def test_event_log_csv_from_the_cli(tmp_path, main_in_process):
    import csv

    path = tmp_path / "events.csv"
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, ["user", "ts", "action", "plan"])
        writer.writeheader()
        writer.writerows(_event_rows())
    code, _, err = main_in_process("train", "--data", path, "--entity", "user", "--order", "ts", "--event", "action",
                                   "--context", "plan", "--out", "run", "--max-steps", "20")
    assert code in (0, 3), err
    code, out, err = main_in_process("sample", "run", "-n", "50", "--where", "plan=pro", "--seed", "0")
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 50 and all(line.split()[0] == "pro" and len(line.split()) >= 2 for line in lines)
    # --json gives the event log back in its own long form: one record an event, entities numbered
    code, out, err = main_in_process("sample", "run", "-n", "40", "--json", "--seed", "0")
    assert code == 0, err
    records = json.loads(out)
    assert all(set(r) == {"user", "ts", "action", "plan"} for r in records)
    assert {r["user"] for r in records} == set(range(40))  # every entity has events, ids unique
    assert all(len({r["plan"] for r in records if r["user"] == u}) == 1 for u in range(40))
    assert {r["action"] for r in records} <= {"login", "view", "buy"}
    code, _, err = main_in_process("train", "--data", path, "--entity", "who", "--order", "ts", "--event", "action",
                                   "--out", "run2")
    assert code == 2 and "no column 'who'" in err and err.count("\n") == 1


def test_pandas_missing_is_one_line(monkeypatch):
    import builtins

    from seqgan_core.rules.data import DataFileError
    from seqgan_core.rules.frames import require_pandas

    real_import = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    with pytest.raises(DataFileError, match=r"pip install 'seqgan\[pandas\]'"):
        require_pandas()


def test_the_docs_event_log_example_runs_as_written(tmp_path, main_in_process):
    """docs/tables.md's event-log commands, in order, at a tiny size (fewer users, 20 steps): a
    renamed flag or a changed output form breaks the docs' example here first."""
    import re
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    page = (root / "docs" / "tables.md").read_text()
    section = page[page.index("## Event logs"):]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    commands = [line.split("  #")[0].split() for line in block.splitlines() if line.strip()]
    assert [c[:2] for c in commands] == [["python", "benchmarks/data/make_events.py"], ["seqgan", "train"],
                                         ["seqgan", "sample"], ["seqgan", "sample"]]
    outputs = []
    for command in commands:
        if command[0] == "python":
            command = [a if a != "5000" else "300" for a in command]  # --users: a tiny log
            done = subprocess.run([sys.executable, str(root / command[1]), *command[2:]], cwd=tmp_path,
                                  capture_output=True, text=True)
            assert done.returncode == 0, done.stderr
            continue
        args = command[1:] + (["--max-steps", "20"] if command[1] == "train" else [])
        code, out, err = main_in_process(*args)
        assert code in (0, 3), err
        outputs.append(out)
    records = json.loads(outputs[1])
    assert {r["user"] for r in records} == {0, 1} and set(records[0]) == {"user", "ts", "action", "plan"}
    lines = outputs[2].splitlines()
    assert len(lines) == 5 and all(line.split()[0] == "team" for line in lines)
