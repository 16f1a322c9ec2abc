"""Atomic file writes: a reader sees the old file or the whole new one, never half of it.

A file is written to a temporary name in the same folder, flushed to disk, given the permissions a plain
``open(path, "w")`` would give it (an existing file keeps its mode; a new one gets ``0o666`` minus the umask,
not ``mkstemp``'s private ``0o600``), and renamed over the target. A folder that cannot be created or written
(read-only, full disk) raises :class:`FileWriteError`, which the commands print as one line.
"""

from __future__ import annotations

import errno as errno_module
import json
import os
import stat
import tempfile
from pathlib import Path

from conj_harness.errors import ConjError


class FileWriteError(ConjError):
    """A file could not be written (permissions, a read-only or full disk); ``errno`` says which, when known."""

    def __init__(self, message: str, errno: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno


def is_disk_full(error: BaseException) -> bool:
    """Whether ``error`` (ours, an OSError, or SQLite's or a child's message) means the disk is full."""
    if getattr(error, "errno", None) == errno_module.ENOSPC:
        return True
    text = str(error)
    return "No space left on device" in text or "database or disk is full" in text or "[Errno 28]" in text


def cannot_write(target: Path, error: OSError, folder: Path | None = None) -> str:
    """One true line for a file or folder that cannot be written: a file in the way, read-only, full disk."""
    folder = target.parent if folder is None else folder
    for ancestor in [folder, *folder.parents]:
        if ancestor.exists():
            if not ancestor.is_dir():
                head = "" if ancestor == target else f"cannot write {target}: "
                return f"{head}{ancestor} is a file, not a folder: choose another folder"
            break
    advice = " (a read-only folder?): choose a folder you can write" if isinstance(error, PermissionError) else ""
    return f"cannot write {target}: {error.strerror or error}{advice}"


def _current_umask() -> int:
    try:  # Linux reports it without changing it
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere it can only be read by setting it: set it straight back
    os.umask(mask)
    return mask


def _mode_for(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return 0o666 & ~_current_umask()


def write_bytes(path: str | os.PathLike[str], data: bytes, private: bool = False) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and an atomic rename (``private``:
    readable by the owner only, ``0o600``, for a file that must carry a credential)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise FileWriteError(cannot_write(path, e), e.errno) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600 if private else _mode_for(path))
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise FileWriteError(f"cannot write {path}: {e.strerror or e}", e.errno) from None
        raise
    return path


def write_text(path: str | os.PathLike[str], text: str, private: bool = False) -> Path:
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as e:  # a lone surrogate: not Unicode text, no UTF-8 file can hold it
        raise FileWriteError(f"cannot write {path}: its text holds a lone surrogate (U+{ord(text[e.start]):04X}), "
                             "which is not Unicode text") from None
    return write_bytes(path, data, private)


def write_json(path: str | os.PathLike[str], obj: object, private: bool = False) -> Path:
    return write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False) + "\n", private)
