"""The end of a run, killed at every one of its writes: each time the run folder either samples or
resumes (and then samples), so no kill loses the trained model.

The fault injection is ``SEQGAN_TEST_KILL_AT_WRITE=N`` (runtime/atomic.py): the process SIGKILLs
itself at its Nth atomic write, after the temporary file is whole and before it replaces the
target. A first run logs its writes (``SEQGAN_TEST_WRITE_LOG``); every write from the last routine
checkpoint (which lands on the final step here, as it does whenever the interval divides
``--max-steps``) to the final checkpoint is then killed in turn."""

import os
import signal
import subprocess
import sys

import pytest
import torch
from conftest import FINISHED

from seqgan_core.runtime.atomic import KILL_AT_WRITE_ENV, WRITE_LOG_ENV

TRAIN = ("train", "--rule", "multiples5", "--max-steps", "40", "--checkpoint-every", "20")


def _train(tmp_path, out, **env):
    return subprocess.run([sys.executable, "-m", "seqgan_core", *TRAIN, "--out", str(out)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "OMP_NUM_THREADS": "1", **env})


def _final_writes(tmp_path) -> list[tuple[int, str]]:
    """(N, file name) of every write from the last routine checkpoint before the final sequence on."""
    log = tmp_path / "writes.log"
    done = _train(tmp_path, tmp_path / "dry", **{WRITE_LOG_ENV: str(log)})
    assert done.returncode in FINISHED, done.stderr
    lines = log.read_text().splitlines()
    start = lines.index("# final sequence")
    writes = [(int(n), name) for n, name in (line.split() for line in lines if not line.startswith("#"))]
    routine = [n for n, name in writes[:start] if name == "checkpoint.pt"]
    first = routine[-1] if routine else writes[start][0]
    return [(n, name) for n, name in writes if n >= first]


def test_a_kill_at_any_write_of_the_end_loses_nothing(tmp_path, main_in_process):
    writes = _final_writes(tmp_path)
    names = [name for _, name in writes]
    # the routine checkpoint, the pending one, the model, its weights, config, metrics, history, the final one
    assert names == ["checkpoint.pt", "checkpoint.pt", "generator.pt", "generator.weights.pt", "config.json",
                     "metrics.jsonl", "history.jsonl", "checkpoint.pt"], names
    for n, name in writes:
        out = tmp_path / f"killed{n}"
        killed = _train(tmp_path, out, **{KILL_AT_WRITE_ENV: str(n)})
        assert killed.returncode == -signal.SIGKILL, (n, name, killed.stderr)
        assert "Traceback" not in killed.stderr
        state = torch.load(out / "checkpoint.pt", weights_only=True)
        assert state["stop_reason"] is None, (n, name)  # never marked finished before every file is whole
        code, _, err = main_in_process("train", "--resume", out)
        assert code in FINISHED, (n, name, err)
        assert "Traceback" not in err and "resuming at step" in err, (n, name, err)
        assert torch.load(out / "checkpoint.pt", weights_only=True)["stop_reason"] == "max_steps", (n, name)
        code, lines, err = main_in_process("sample", out, "-n", "3")
        assert code == 0 and len(lines.splitlines()) == 3, (n, name, err)
        # what resume wrote is the whole run: a second resume has nothing left to do
        code, _, err = main_in_process("train", "--resume", out)
        assert code == 2 and "already finished (max steps at step 40)" in err, (n, name, err)


@pytest.mark.parametrize("larger", [False, True])
def test_a_last_step_checkpoint_resumes_to_the_end_or_further(tmp_path, main_in_process, larger):
    """A routine checkpoint on the final step (the run killed right after it) is not refused:
    ``--resume`` writes the model, and ``--resume --max-steps M`` with more steps trains on."""
    out = tmp_path / "r"
    first = _final_writes(tmp_path)[0][0]
    killed = _train(tmp_path, out, **{KILL_AT_WRITE_ENV: str(first + 1)})  # the routine one is whole
    assert killed.returncode == -signal.SIGKILL
    extra = ("--max-steps", "60") if larger else ()
    code, _, err = main_in_process("train", "--resume", out, *extra)
    assert code in FINISHED, err
    steps = 60 if larger else 40
    assert f"stopped after {steps} steps" in err, err
