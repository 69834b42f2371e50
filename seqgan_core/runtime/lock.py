"""One run per folder: an exclusive lock on ``RUN_DIR/.seqgan.lock`` that holds the owner's pid.

The lock is ``fcntl.flock`` on that file, so the kernel drops it when its owner dies however it
dies (kill -9 included): a lock file left by a dead process is stale by construction and the next
run simply takes it. A second live run gets one line naming the pid that holds the folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from seqgan_core.errors import SeqganError

LOCK_FILE = ".seqgan.lock"


class RunLocked(SeqganError):
    """Another live process is training into the folder."""


class RunLock:
    """``with RunLock(folder):`` creates the folder if needed and holds it until the block ends."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_FILE
        self.fd: int | None = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def acquire(self) -> None:
        while True:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as e:
                raise SeqganError(f"cannot write the run folder {str(self.folder)!r}: {e.strerror}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = _read_pid(fd)
                os.close(fd)
                who = f"pid {owner}" if owner else "another process"
                raise RunLocked(
                    f"{str(self.folder)!r} is in use by another seqgan run ({who}); wait for it to finish, "
                    "or pick another --out"
                ) from None
            # the previous owner may have removed the file between our open and our lock: then
            # we locked a file nobody else will ever see, and must lock the new one instead
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd

    def release(self) -> None:
        if self.fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)  # before unlocking, so no newcomer locks a file about to vanish
        os.close(self.fd)  # closing drops the flock
        self.fd = None


def _read_pid(fd: int) -> int | None:
    try:
        return int(os.pread(fd, 32, 0).decode().strip())
    except (OSError, ValueError):
        return None
