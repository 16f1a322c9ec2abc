"""Where task data comes from: a local mirror (``CONJ_DATA_DIR``), the network, or a clear error.

Online, XNLI comes from the Hugging Face hub and the paper's ICL sentences from the authors' repository, pinned
by commit and checked by sha256. Air-gapped nodes set ``CONJ_DATA_DIR`` to a folder laid out like this (written
by ``conj-harness download-data DIR`` on a machine with network)::

    icl_sentences/{en,fr,es,nl,hu,ls,pl}.txt     500 line-aligned sentences each (ls = Leetspeak, pl = Pig Latin)
    xnli/validation/<lang>.jsonl                  2490 rows each: premise, hypothesis, label (0/1/2)
    advbench/train.jsonl                          520 rows: prompt, target
    multijail/train.jsonl                         315 rows: id, source, tags, en, zh, it, vi, ar, ko, th, bn, sw, jv
    paper_reference/harmful_instructions_<lang>.txt  520 lines each (en ja hu sw ml)

Every file is validated when read; a missing or malformed file raises :class:`DataError` naming the file and what
was expected, so a run never starts on half a dataset.
"""

from __future__ import annotations

import hashlib
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from conj_harness.errors import DataError, UnknownNameError
from conj_harness.files import atomic, jsonl
from conj_harness.files.text import read_utf8_lines

log = logging.getLogger(__name__)

ENV_DATA_DIR = "CONJ_DATA_DIR"
ENV_SOURCE_URL = "CONJ_PAPER_REPO_URL"  # base URL of the authors' repository files (tests point it at 127.0.0.1)

PAPER_REPO = "kothasuhas/understanding-forgetting"
PAPER_COMMIT = "acccaacd3d81d58848151e6218581481dc9450a9"
PAPER_REPO_URL = f"https://raw.githubusercontent.com/{PAPER_REPO}/{PAPER_COMMIT}"

ICL_CODES = ("en", "fr", "es", "nl", "hu", "ls", "pl")
ICL_SENTENCE_SHA256 = {
    "en": "7537313e7d8b012e0a4ec57778235dad7ec43e670af439ce71b61e775bca9fce",
    "es": "3d92e63db1072f564f8b64b0769d2706ac5a6c6e819de05ad7879d6ab7603109",
    "fr": "84ad152dfc77bf7ecc53a5c5976c3aa01dff22d0945f0a2636b07c755cf7ed99",
    "hu": "f7defc83183bd362256dc9b3f69761543d2bb27c0e6c916f44499f9191e2c8d2",
    "ls": "d3b69906570928998b08062b373a37ceb71d3754c807652557a9412025168084",
    "nl": "6010db57f1839d9e73bfdf691c985f32f47f48df102e85e9b5d584983487e1fd",
    "pl": "799e46cc9c56a12a2396be3643f198ff6346ca83309d88ffff67abe51603eb76",
}
ICL_SENTENCES = 500

XNLI_HUB_ID = "facebook/xnli"
XNLI_LANGS = ("ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh")
XNLI_ROWS = 2490

HUB_HINT = (
    f"Set {ENV_DATA_DIR}=<dir> to a local copy laid out as described in the README ('Data and offline mode'), "
    "or write one with `conj-harness download-data <dir>` on a machine with network access."
)


def data_dir() -> Path | None:
    """The local mirror named by ``CONJ_DATA_DIR``, or None when the network is to be used."""
    value = os.environ.get(ENV_DATA_DIR)
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        raise DataError(f"{ENV_DATA_DIR}={value} is not a folder. {HUB_HINT}")
    return path


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "conj_harness"


# ---------------------------------------------------------------------------------------------- readers
def read_lines(path: Path, expected: int, what: str) -> list[str]:
    """Lines of a line-aligned text file, as the paper read them (newline stripped, nothing else)."""
    if not path.is_file():
        raise DataError(f"missing data file {path}: expected {what}. {HUB_HINT}")
    lines = read_utf8_lines(path, DataError, f"expected {what}")  # a trailing newline does not add a line
    if len(lines) != expected:
        raise DataError(f"{path} has {len(lines)} lines: expected {what}")
    return lines


def read_jsonl(path: Path, fields: Mapping[str, type], expected: int | None, what: str) -> list[dict[str, Any]]:
    """Rows of a JSONL file, each checked for the named fields and their types."""
    if not path.is_file():
        raise DataError(f"missing data file {path}: expected {what}. {HUB_HINT}")
    rows = []
    for n, row in jsonl.read_objects(path, DataError, f"expected {what}"):
        for name, typ in fields.items():
            if not isinstance(row.get(name), typ):
                raise DataError(f"{path} line {n}: field {name!r} missing or not {typ.__name__}: expected {what}")
        rows.append(row)
    if expected is not None and len(rows) != expected:
        raise DataError(f"{path} has {len(rows)} rows: expected {what}")
    return rows


# ---------------------------------------------------------------------------------------------- ICL sentences
def _fetch(url: str, timeout: float = 30.0) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.read()
    except (urllib.error.URLError, OSError) as e:
        raise DataError(f"could not download {url} ({e}). {HUB_HINT}") from None


def fetch_pinned(path: str, sha256: str) -> bytes:
    """A file of the authors' repository at the pinned commit, checked by sha256."""
    url = f"{os.environ.get(ENV_SOURCE_URL, PAPER_REPO_URL).rstrip('/')}/{path}"
    payload = _fetch(url)
    digest = hashlib.sha256(payload).hexdigest()
    if digest != sha256:
        raise DataError(f"{url} has sha256 {digest}, expected {sha256} (commit {PAPER_COMMIT})")
    return payload


def _cached_pinned(cache_name: str, path: str, sha256: str) -> Path:
    """The pinned file in the user cache, downloaded once (re-downloaded if the cached copy does not match)."""
    cached = cache_dir() / cache_name
    if not (cached.is_file() and hashlib.sha256(cached.read_bytes()).hexdigest() == sha256):
        atomic.write_bytes(cached, fetch_pinned(path, sha256))
    return cached


def fetch_icl_sentences(code: str) -> bytes:
    """The authors' sentence file for ``code``, downloaded at the pinned commit and checked by sha256."""
    return fetch_pinned(f"icl_vs_if/sentences/random_sentences_{code}.txt", ICL_SENTENCE_SHA256[code])


def icl_sentences(code: str) -> list[str]:
    """The paper's 500 sentences in one of its codes (en fr es nl hu ls pl)."""
    if code not in ICL_CODES:
        raise UnknownNameError("ICL sentence file", code, ICL_CODES)
    what = f"{ICL_SENTENCES} sentences, one per line, line-aligned with icl_sentences/en.txt"
    root = data_dir()
    if root is not None:
        path = root / "icl_sentences" / f"{code}.txt"
        lines = read_lines(path, ICL_SENTENCES, what)
        if hashlib.sha256(path.read_bytes()).hexdigest() != ICL_SENTENCE_SHA256[code]:
            log.warning("%s differs from the paper's file (sha256): prompts will not match the paper", path)
        return lines
    cached = _cached_pinned(f"icl_sentences/{code}.txt", f"icl_vs_if/sentences/random_sentences_{code}.txt",
                            ICL_SENTENCE_SHA256[code])
    return read_lines(cached, ICL_SENTENCES, what)


# ---------------------------------------------------------------------------------------------- XNLI
XNLI_FIELDS = {"premise": str, "hypothesis": str, "label": int}


def _check_xnli_labels(rows: list[dict], source: str) -> list[dict]:
    for n, row in enumerate(rows, 1):
        if row["label"] not in (0, 1, 2):
            raise DataError(f"{source} row {n}: label {row['label']!r}, expected 0, 1 or 2")
    return rows


def xnli_rows(lang: str) -> list[dict[str, Any]]:
    """XNLI validation rows (premise, hypothesis, label) in one of its 15 languages."""
    if lang not in XNLI_LANGS:
        raise UnknownNameError("XNLI language", lang, XNLI_LANGS)
    what = f"{XNLI_ROWS} JSON lines with premise (str), hypothesis (str), label (0/1/2)"
    root = data_dir()
    if root is not None:
        path = root / "xnli" / "validation" / f"{lang}.jsonl"
        return _check_xnli_labels(read_jsonl(path, XNLI_FIELDS, XNLI_ROWS, what), str(path))
    return _check_xnli_labels(hub_rows(XNLI_HUB_ID, lang, "validation", list(XNLI_FIELDS)), XNLI_HUB_ID)


def hub_rows(hub_id: str, config: str | None, split: str, fields: list[str]) -> list[dict[str, Any]]:
    """Rows of a hub dataset, or a DataError that says how to work offline."""
    import datasets

    try:
        ds = datasets.load_dataset(hub_id, config, split=split)
    except Exception as e:  # noqa: BLE001 - datasets raises many types for "no network"
        name = f"{hub_id}" + (f" ({config})" if config else "")
        raise DataError(f"could not load {name} from the Hugging Face hub ({type(e).__name__}). {HUB_HINT}") from None
    return [{k: row[k] for k in fields} for row in ds]


# ---------------------------------------------------------------------------------------------- safety data
ADVBENCH_HUB_ID = "walledai/AdvBench"
ADVBENCH_ROWS = 520
MULTIJAIL_HUB_ID = "DAMO-NLP-SG/MultiJail"
MULTIJAIL_LANGS = ("en", "zh", "it", "vi", "ar", "ko", "th", "bn", "sw", "jv")
MULTIJAIL_ROWS = 315
HARMFUL_LANGS = ("en", "ja", "hu", "sw", "ml")  # the paper's Google translations of AdvBench (en = AdvBench order)
HARMFUL_SHA256 = {
    "en": "f035131936bb56f411e3a206c189d4ced7196138ed769752751deccd978c0c68",
    "hu": "e3f53ca0a6b953daf5e98ce10816e2be016cf0fb362c033567cc9704a2f6f334",
    "ja": "587b7beaf9902c2cf7df73c438367dcdd632bcc4bae56b55e5d5720c589c1379",
    "ml": "b5dd25837f397772fa06456da2ff9d475eea82c5d7823a10f64b2548a1c43c31",
    "sw": "8a93d914482551f69126d30f1f5d6b14b45a864f41b1a297521b553122613ff2",
}


def advbench_rows() -> list[dict[str, Any]]:
    """The 520 AdvBench harmful behaviors (``prompt``, ``target``) in their original order."""
    what = f"{ADVBENCH_ROWS} JSON lines with prompt (str), target (str)"
    root = data_dir()
    if root is not None:
        return read_jsonl(root / "advbench" / "train.jsonl", {"prompt": str, "target": str}, ADVBENCH_ROWS, what)
    return hub_rows(ADVBENCH_HUB_ID, None, "train", ["prompt", "target"])


def multijail_rows() -> list[dict[str, Any]]:
    """The 315 MultiJail prompts with their human translations (one column per language)."""
    fields = {"id": str, **dict.fromkeys(MULTIJAIL_LANGS, str)}
    what = f"{MULTIJAIL_ROWS} JSON lines with id and the columns {', '.join(MULTIJAIL_LANGS)}"
    root = data_dir()
    if root is not None:
        return read_jsonl(root / "multijail" / "train.jsonl", fields, MULTIJAIL_ROWS, what)
    rows = hub_rows(MULTIJAIL_HUB_ID, None, "train", ["id", "source", "tags", *MULTIJAIL_LANGS])
    return [{**r, "id": str(r["id"])} for r in rows]


def _harmful_path(lang: str) -> str:
    return f"harmful_generation/harmful_instructions/harmful_instructions_{lang}.txt"


def fetch_harmful(lang: str) -> bytes:
    """The paper's Google translation of AdvBench into ``lang``, at the pinned commit, checked by sha256."""
    return fetch_pinned(_harmful_path(lang), HARMFUL_SHA256[lang])


def harmful_instructions(lang: str) -> list[str]:
    """The paper's 520 AdvBench instructions in en ja hu sw ml, line-aligned with AdvBench."""
    if lang not in HARMFUL_LANGS:
        raise UnknownNameError("paper translation of AdvBench", lang, HARMFUL_LANGS)
    what = f"{ADVBENCH_ROWS} instructions, one per line, line-aligned with AdvBench"
    if lang == "en":
        return [r["prompt"] for r in advbench_rows()]
    root = data_dir()
    if root is not None:
        return read_lines(root / "paper_reference" / f"harmful_instructions_{lang}.txt", ADVBENCH_ROWS, what)
    cached = _cached_pinned(f"harmful_instructions/{lang}.txt", _harmful_path(lang), HARMFUL_SHA256[lang])
    return read_lines(cached, ADVBENCH_ROWS, what)
