"""Atomic file writes: a temp file in the target's folder, fsync, then rename over the target.

A process killed mid-write leaves the previous file (or no file) behind, never a half-written one.
A write that fails (a full disk, a file-size limit) raises ``WriteError``: one line naming the file,
the bytes it needed and the space left, and the previous file is kept.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
from pathlib import Path

from seqgan_core.errors import SeqganError

TMP_SUFFIX = ".tmp"  # every temporary file is ".<name>.<random>.tmp" beside its target
# fault injection, tests only: SIGKILL this process at its Nth atomic write, just before the rename
# (the temporary file is whole, the target not yet replaced); and log every write, one name a line
KILL_AT_WRITE_ENV = "SEQGAN_TEST_KILL_AT_WRITE"
WRITE_LOG_ENV = "SEQGAN_TEST_WRITE_LOG"
_writes = 0  # atomic writes of this process so far, counted for KILL_AT_WRITE_ENV


def mark(label: str) -> None:
    """Tests only: put ``label`` in the write log (e.g. where a run's final sequence begins)."""
    log = os.environ.get(WRITE_LOG_ENV)
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"# {label}\n")


def _before_rename(path: Path) -> None:
    global _writes
    _writes += 1
    log = os.environ.get(WRITE_LOG_ENV)
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"{_writes} {path.name}\n")
    if os.environ.get(KILL_AT_WRITE_ENV) == str(_writes):
        os.kill(os.getpid(), signal.SIGKILL)


class WriteError(SeqganError):
    """A file that could not be written; the previous version (if any) is left as it was."""

    def __init__(self, path: Path, needed: int | None, error: OSError):
        self.path, self.needed, self.error = Path(path), needed, error
        free = _free_bytes(self.path.parent)
        need = f"it needed {needed:,} bytes" if needed is not None else "its size is unknown"
        left = f", {free:,} bytes free there" if free is not None else ""
        super().__init__(f"cannot write {self.path}: {error.strerror or error} ({need}{left})")


def _free_bytes(folder: Path) -> int | None:
    try:
        st = os.statvfs(folder)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically; a failure is a ``WriteError`` naming the file."""
    try:
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
    except OSError as e:
        raise WriteError(Path(path), len(data), e) from None


def remove_leftovers(folder: str | os.PathLike) -> list[Path]:
    """Delete temporary files that a killed writer left in ``folder``; returns what went.
    Call only while holding the folder's run lock, so no live writer owns them."""
    gone = []
    for tmp in Path(folder).glob(f".*{TMP_SUFFIX}"):
        with contextlib.suppress(OSError):
            tmp.unlink()
            gone.append(tmp)
    return gone


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path to write; on success it replaces ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a saved model is an ordinary file
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        _before_rename(path)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | os.PathLike, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not possible on every platform (e.g. Windows).
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
