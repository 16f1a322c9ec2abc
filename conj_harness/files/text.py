"""Reading text strictly: UTF-8, line by line, and an error that names the first bad line.

Files and standard input are read as bytes and decoded here, so undecodable input is reported ("line 7 is not
UTF-8 text") instead of failing deep inside a parser or, worse, being altered silently (``surrogateescape``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from conj_harness.errors import ConjError


def utf8_lines(data: bytes, source: str, error: type[ConjError] = ConjError, hint: str = "") -> list[str]:
    """The lines of ``data`` split at ``\\n`` (nothing else stripped); a trailing newline adds no line."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out = []
    suffix = f": {hint}" if hint else ""
    for n, raw in enumerate(lines, 1):
        try:
            out.append(raw.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise error(f"{source} line {n} is not UTF-8 text (byte {e.start + 1} of the line){suffix}") from None
    return out


def read_utf8_lines(path: str | os.PathLike[str], error: type[ConjError] = ConjError, hint: str = "") -> list[str]:
    """The lines of a UTF-8 file; a missing or unreadable file raises ``error`` with the reason."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise error(f"cannot read {path}: {e.strerror or e}{': ' + hint if hint else ''}") from None
    return utf8_lines(data, str(path), error, hint)


def stdin_lines() -> list[str]:
    """Standard input's lines, strictly UTF-8 (a bad line is an error naming it, never replaced or escaped)."""
    return utf8_lines(sys.stdin.buffer.read(), "stdin")
