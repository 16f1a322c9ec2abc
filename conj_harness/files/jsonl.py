"""JSON Lines, written and read in one place: every ``.jsonl`` file the project writes reads back identically.

A JSONL file is split into records at ``\\n`` and nowhere else. ``json.dumps(..., ensure_ascii=False)`` escapes
every control character below U+0020, but writes NEL (U+0085) and the Unicode line and paragraph separators
(U+2028, U+2029) raw - and ``str.splitlines()``, many editors and line-oriented tools end a line there, which cut
a GSM8K question in two. The writer here escapes those three (the JSON stays the same value), and the reader
splits at ``\\n`` only. A lone surrogate (``"\\ud800"``) is not Unicode text and no UTF-8 file can hold it: the
writer refuses it in one line naming the file and the record, and the reader refuses a file that escapes one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from conj_harness.errors import ConjError
from conj_harness.files.text import read_utf8_lines

#: Characters JSON leaves raw that some readers take as the end of a line.
_LINE_ENDS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def dumps(obj: Any, *, source: str = "", sort_keys: bool = False, default: Callable[[Any], Any] | None = None) -> str:
    """One record as one line of JSON text (no newline): UTF-8-safe, line separators escaped."""
    text = json.dumps(obj, ensure_ascii=False, sort_keys=sort_keys, default=default)
    for raw, escaped in _LINE_ENDS.items():
        if raw in text:  # only inside strings: JSON's own whitespace is space, tab, \r and \n
            text = text.replace(raw, escaped)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        where = f"{source}: " if source else ""
        raise ConjError(f"{where}a record holds a lone surrogate (U+{ord(text[e.start]):04X}), which is not Unicode "
                        "text and cannot be written to a UTF-8 file: fix or drop that text") from None
    return text


def encode(rows: Iterable[Any], *, source: str = "", sort_keys: bool = False,
           default: Callable[[Any], Any] | None = None) -> bytes:
    """The bytes of a JSONL file: one :func:`dumps` line per record, each ending in ``\\n``."""
    return "".join(dumps(r, source=f"{source} record {n}" if source else f"record {n}", sort_keys=sort_keys,
                         default=default) + "\n" for n, r in enumerate(rows, 1)).encode("utf-8")


def write(path: str | os.PathLike[str], rows: Iterable[Any], *, sort_keys: bool = False,
          default: Callable[[Any], Any] | None = None) -> Path:
    """Write a JSONL file atomically (:mod:`conj_harness.files.atomic`)."""
    from conj_harness.files import atomic

    return atomic.write_bytes(path, encode(rows, source=str(path), sort_keys=sort_keys, default=default))


def append(path: str | os.PathLike[str], record: Any) -> None:
    """Add one record to a log-like JSONL file. One short write with ``O_APPEND``: records from several processes
    never interleave."""
    from conj_harness.files.atomic import FileWriteError, cannot_write

    line = (dumps(record, source=str(path)) + "\n").encode("utf-8")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
    except OSError as e:
        raise FileWriteError(cannot_write(Path(path), e), e.errno) from None


def objects(lines: Iterable[str], source: str, error: type[ConjError] = ConjError,
            hint: str = "") -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; a bad line raises ``error`` naming ``source`` and the line."""
    suffix = f": {hint}" if hint else ""
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise error(f"{source} line {n} is not valid JSON ({e.msg} at column {e.colno}){suffix}") from None
        if not isinstance(row, dict):
            raise error(f"{source} line {n} is not a JSON object{suffix}")
        try:  # JSON may escape a lone surrogate ("\ud800"), which no UTF-8 output can hold
            json.dumps(row, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise error(f"{source} line {n} holds a lone surrogate escape (e.g. \\ud800), which is not valid "
                        f"Unicode text{suffix}") from None
        yield n, row


def read_objects(path: str | os.PathLike[str], error: type[ConjError] = ConjError,
                 hint: str = "") -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) of a JSONL file, read strictly as UTF-8 and split at ``\\n`` only (see :func:`objects`)."""
    yield from objects(read_utf8_lines(path, error, hint), str(path), error, hint)


def read_rows(path: str | os.PathLike[str], error: type[ConjError] = ConjError, hint: str = "") -> list[dict[str, Any]]:
    """Every object of a JSONL file, in order (see :func:`read_objects`)."""
    return [row for _n, row in read_objects(path, error, hint)]


def read_json_or_none(path: str | os.PathLike[str]) -> Any:
    """A JSON file's content, or None when it is missing or unreadable (marker files of interrupted runs)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
