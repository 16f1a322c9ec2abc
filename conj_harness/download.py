"""``conj-harness download-data DIR``: write the offline mirror that ``CONJ_DATA_DIR`` reads.

Run it once on a machine with network access, copy DIR to the air-gapped nodes, and set ``CONJ_DATA_DIR=DIR``
there. Each file is validated and written atomically, so an interrupted download leaves whole files only and a
re-run fetches what is missing.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from pathlib import Path

from conj_harness import atomic, data
from conj_harness.errors import UnknownNameError

log = logging.getLogger(__name__)

PARTS = ("icl", "xnli")


def _icl(root: Path) -> list[Path]:
    written = []
    for code in data.ICL_CODES:
        path = root / "icl_sentences" / f"{code}.txt"
        if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == data.ICL_SENTENCE_SHA256[code]:
            continue
        written.append(atomic.write_bytes(path, data.fetch_icl_sentences(code)))
    return written


def _xnli(root: Path) -> list[Path]:
    written = []
    for lang in data.XNLI_LANGS:
        path = root / "xnli" / "validation" / f"{lang}.jsonl"
        if path.is_file():
            continue
        rows = data.hub_rows(data.XNLI_HUB_ID, lang, "validation", list(data.XNLI_FIELDS))
        written.append(atomic.write_jsonl(path, rows))
    return written


WRITERS = {"icl": _icl, "xnli": _xnli}


def download(root: str | Path, parts: Iterable[str] = PARTS) -> list[Path]:
    """Fetch the named parts into ``root``; returns the files written (existing valid files are kept)."""
    root = Path(root)
    parts = list(parts)
    for part in parts:
        if part not in WRITERS:
            raise UnknownNameError("data part", part, WRITERS)
    written: list[Path] = []
    for part in parts:
        written += WRITERS[part](root)
    return written
