"""Atomic writes: a process killed while saving leaves the previous file intact."""

import os
import signal
import stat
import subprocess
import sys

from seqgan_core.runtime.atomic import write_text

WRITER = """
import sys, time
from seqgan_core.runtime.atomic import atomic_path
path = sys.argv[1]
for version in (1, 2):
    body = str(version).encode() * 3_000_000
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(body[: len(body) // 2])
            f.flush()
            if version == 2:
                print("half-written", flush=True)
                time.sleep(60)  # killed here, in the middle of the second write
            f.write(body[len(body) // 2 :])
    print(f"wrote {version}", flush=True)
"""


def test_killed_writer_leaves_a_complete_file(tmp_path):
    target = tmp_path / "model.bin"
    target.write_bytes(b"the previous file")
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "wrote 1"
    assert proc.stdout.readline().strip() == "half-written"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert target.read_bytes() == b"1" * 3_000_000  # version 1, whole
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "model.bin"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".model.bin.")  # the abandoned temp file


def test_failed_write_keeps_the_old_file_and_cleans_up(tmp_path):
    target = tmp_path / "config.json"
    write_text(target, "old")
    try:
        from seqgan_core.runtime.atomic import atomic_path

        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["config.json"]


def test_saved_files_are_readable_by_others(tmp_path):
    old = os.umask(0o022)
    try:
        from seqgan_core.runtime.atomic import write_text

        write_text(tmp_path / "config.json", "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "config.json").stat().st_mode) == 0o644
