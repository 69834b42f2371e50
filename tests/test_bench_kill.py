"""benchmark.py kill: one trial of each kind on a short run gives a well-formed record, and the
model survives the kill (it samples, or resumes and then samples)."""

import json
import signal
import sys
from dataclasses import asdict, fields
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import bench_kill  # noqa: E402

STEPS = 40  # a short run: the kill timing, not the training, is what is tested


def _well_formed(t: bench_kill.Trial, kind: str) -> None:
    assert t.kind == kind
    assert t.phase in bench_kill.PHASES
    assert t.landed == (t.train_rc == -signal.SIGKILL)
    if t.kill_s is None:  # never sent: the run had exited on its own, finished
        assert not t.landed and t.train_rc in bench_kill.FINISHED
    assert t.sample_rc is not None
    if t.phase == bench_kill.PHASES[0]:  # killed before anything was saved: there was no model to keep
        assert t.landed and t.lost and t.recovered_by == "", t
        return
    assert t.recovered_by in ("sample", "resume"), (t, "the model was lost")
    if t.recovered_by == "sample":
        assert t.sample_rc == 0 and t.resume_rc is None
    else:
        assert t.sample_rc != 0 and t.resume_rc in bench_kill.FINISHED and t.resumed_sample_rc == 0
    assert not t.lost and t.folder == ""
    record = json.loads(json.dumps(asdict(t)))  # what the results file holds
    assert set(record) == {f.name for f in fields(t)}
    assert all(isinstance(name, str) for name in record["files"])


def test_a_kill_at_the_final_row_and_one_at_the_typical_end_keep_the_model(tmp_path):
    clean = bench_kill.clean_run(tmp_path / "clean", STEPS)
    assert clean.returncode in bench_kill.FINISHED
    assert clean.checkpoint_s is not None and clean.final_row_s is not None
    assert clean.checkpoint_s <= clean.final_row_s <= clean.end_s

    (tmp_path / "a").mkdir()
    at_row = bench_kill.trial("final_row", 0.0, tmp_path / "a", STEPS)
    _well_formed(at_row, "final_row")
    # killed the moment the final row appears: the process is alive, the model file is whole,
    # and the checkpoint is not marked finished yet (history and the final checkpoint are still to come)
    assert at_row.landed and at_row.kill_s is not None, at_row
    assert "generator.pt" in at_row.files and "metrics.jsonl" in at_row.files
    assert at_row.phase in bench_kill.PHASES[1:]

    (tmp_path / "b").mkdir()
    at_end = bench_kill.trial("window", clean.end_s, tmp_path / "b", STEPS)
    # at the typical end a checkpoint exists, unless this run was much slower than the clean one
    # (a shared machine): then the record must say so, and the model counts as lost
    _well_formed(at_end, "window")
