"""Writing workspace files safely: ``atomic_write`` (a crash leaves the old file or folder, or
the new one, never half of one) and ``file_lock`` (one process at a time); and
``not_a_regular_file``, checked before a file a user names is read."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_write(target: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; write a file or make a folder there. On
    success its files are flushed to disk and it is renamed to ``target`` (replacing a file,
    or an empty folder); on failure it is removed and the error goes on."""
    target = Path(target)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".tmp-{target.name}-")) / "new"
    try:
        yield tmp
        for path in [tmp, *tmp.rglob("*")] if tmp.is_dir() else [tmp]:
            if path.is_file():
                with open(path, "rb") as handle:
                    os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp.parent, ignore_errors=True)


@contextlib.contextmanager
def file_lock(path: Path | str, wait: bool = True) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) for the block; the lock goes
    with the process, so a killed holder never leaves it taken. With ``wait=False`` a lock
    another process holds raises BlockingIOError at once."""
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def not_a_regular_file(path: Path) -> str | None:
    """Why ``path`` is not a file to read, or None: a device, a FIFO or a socket blocks or never
    ends, and the kernel's /proc and /sys files are not documents."""
    try:
        target = path.resolve()
        mode = target.stat().st_mode
    except (OSError, RuntimeError):
        return None  # reading it reports the error
    if target.parts[:2] in (("/", "proc"), ("/", "sys"), ("/", "dev")):
        return f"a system file ({target}), not a document"
    if not stat.S_ISREG(mode):
        return "not a regular file (a device, FIFO or socket)"
    return None
