"""Reading JSON Lines where each line must be an object: one parser, one wording of its errors."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from conj_harness.errors import ConjError
from conj_harness.files.text import read_utf8_lines


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
    """(line number, object) of a JSONL file, read strictly as UTF-8 (see :func:`objects`)."""
    yield from objects(read_utf8_lines(path, error, hint), str(path), error, hint)


def read_json_or_none(path: str | os.PathLike[str]) -> Any:
    """A JSON file's content, or None when it is missing or unreadable (marker files of interrupted runs)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
