"""`seqgan train --nproc N`: the launcher and its ranks live and die together. A launcher killed by
SIGKILL (it cannot clean up) takes its ranks with it: the kernel sends each SIGTERM
(PR_SET_PDEATHSIG), and each stops between two steps and saves. Processes are found and checked
through /proc, without psutil."""

import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from seqgan_core.runtime.distributed import _alive

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry))
    return out


def test_killing_the_launcher_ends_its_ranks(tmp_path):
    log = open(tmp_path / "log", "w")  # noqa: SIM115 - the ranks outlive a pipe's reader otherwise
    proc = subprocess.Popen([sys.executable, "-m", "seqgan_core", "train", "--rule", "palindrome", "--nproc", "2",
                             "--max-steps", "3000", "--checkpoint-every", "50", "--out", "lk"], cwd=tmp_path,
                            stdout=log, stderr=log, env={**os.environ, "OMP_NUM_THREADS": "1"})
    ranks = []
    try:
        deadline = time.time() + 300
        while not (tmp_path / "lk" / "checkpoint.pt").exists():  # both ranks train by now
            assert proc.poll() is None, (tmp_path / "log").read_text()
            assert time.time() < deadline, "no checkpoint in 300 s"
            time.sleep(0.2)
        ranks = _children(proc.pid)
        assert len(ranks) == 2, ranks
        proc.kill()
        proc.wait()
        deadline = time.time() + 60
        while any(_alive(pid) for pid in ranks):
            assert time.time() < deadline, f"ranks still alive 60 s after the launcher died: {ranks}"
            time.sleep(0.2)
    finally:
        for pid in ranks:  # never leave one behind, even when the test fails
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        log.close()
    state = torch.load(tmp_path / "lk" / "checkpoint.pt", weights_only=True)
    assert state["stop_reason"] == "interrupted", (tmp_path / "log").read_text()  # they stopped and saved
    assert "Traceback" not in (tmp_path / "log").read_text()
