"""``flock`` locks on small lock files: the one place that calls ``fcntl`` (compare folders, GGUF conversion).

Locks are advisory and released by the kernel when their process dies, so a SIGKILLed holder never leaves a
stale lock. On a shared filesystem they need one that supports ``flock`` across nodes (NFSv4 does; Lustre with
``-o flock``). Where ``fcntl`` does not exist (not POSIX) every lock is granted at once (:data:`AVAILABLE`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

__all__ = ["AVAILABLE", "exclusive", "holder", "open_lock_file", "release", "share", "stamp", "try_lock"]

AVAILABLE = fcntl is not None


def open_lock_file(path: Path) -> IO[str]:
    """``path`` opened for locking (created with its folder); one line naming the folder if it cannot be."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, "a+", encoding="utf-8")
    except OSError as e:  # read-only, below a file, no space...
        from conj_harness.files.atomic import FileWriteError, cannot_write

        raise FileWriteError(cannot_write(path.parent, e, path.parent), e.errno) from None


def try_lock(f: IO[str], exclusive_lock: bool = True, wait: float = 0.0) -> bool:
    """Take the lock on ``f`` (exclusive or shared) without blocking, retrying for ``wait`` seconds."""
    if not AVAILABLE:
        return True
    mode = fcntl.LOCK_EX if exclusive_lock else fcntl.LOCK_SH
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(f.fileno(), mode | fcntl.LOCK_NB)
            return True
        except OSError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)


def share(f: IO[str]) -> None:
    """Turn an exclusive lock on ``f`` into a shared one (others may join)."""
    if AVAILABLE:
        fcntl.flock(f.fileno(), fcntl.LOCK_SH)


def release(f: IO[str]) -> None:
    if AVAILABLE:
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def holder(f: IO[str]) -> str:
    """Who stamped the lock file (see :func:`stamp`), ``?`` if no one did."""
    f.seek(0)
    return f.read().strip() or "?"


def stamp(f: IO[str], tag: str) -> None:
    """Write ``tag`` (``host-pid``) into the lock file, so that a waiting process can say who holds it."""
    f.seek(0)
    f.truncate()
    f.write(tag)
    f.flush()


@contextlib.contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold ``path`` exclusively, waiting as long as another process holds it (a brief critical section)."""
    with open_lock_file(path) as f:
        if AVAILABLE:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            release(f)
