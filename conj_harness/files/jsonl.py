"""Reading JSON Lines where each line must be an object: one parser, one wording of its errors."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from conj_harness.errors import ConjError


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
        yield n, row


def read_json_or_none(path) -> Any:
    """A JSON file's content, or None when it is missing or unreadable (marker files of interrupted runs)."""
    from pathlib import Path

    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
