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

from conj_harness.data import sources
from conj_harness.errors import UnknownNameError
from conj_harness.files import atomic, jsonl

log = logging.getLogger(__name__)

PARTS = ("icl", "xnli", "advbench", "multijail")


def _icl(root: Path) -> list[Path]:
    written = []
    for code in sources.ICL_CODES:
        path = root / "icl_sentences" / f"{code}.txt"
        if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == sources.ICL_SENTENCE_SHA256[code]:
            continue
        written.append(atomic.write_bytes(path, sources.fetch_icl_sentences(code)))
    return written


def _xnli(root: Path) -> list[Path]:
    written = []
    for lang in sources.XNLI_LANGS:
        path = root / "xnli" / "validation" / f"{lang}.jsonl"
        if path.is_file():
            continue
        rows = sources.hub_rows(sources.XNLI_HUB_ID, lang, "validation", list(sources.XNLI_FIELDS))
        written.append(jsonl.write(path, rows))
    return written


def _advbench(root: Path) -> list[Path]:
    written = []
    path = root / "advbench" / "train.jsonl"
    if not path.is_file():
        rows = sources.hub_rows(sources.ADVBENCH_HUB_ID, None, "train", ["prompt", "target"])
        written.append(jsonl.write(path, rows))
    for lang in sources.HARMFUL_LANGS[1:]:  # en is AdvBench itself
        path = root / "paper_reference" / f"harmful_instructions_{lang}.txt"
        if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == sources.HARMFUL_SHA256[lang]:
            continue
        written.append(atomic.write_bytes(path, sources.fetch_harmful(lang)))
    return written


def _multijail(root: Path) -> list[Path]:
    path = root / "multijail" / "train.jsonl"
    if path.is_file():
        return []
    rows = sources.hub_rows(sources.MULTIJAIL_HUB_ID, None, "train", ["id", "source", "tags", *sources.MULTIJAIL_LANGS])
    return [jsonl.write(path, [{**r, "id": str(r["id"])} for r in rows])]


WRITERS = {"icl": _icl, "xnli": _xnli, "advbench": _advbench, "multijail": _multijail}


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
