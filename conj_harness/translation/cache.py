"""A persistent translation cache: SQLite in WAL mode, shared safely by concurrent processes.

Keyed by (backend, model, source, target, text), so a change of MT model never serves stale translations. Each
batch is committed in one transaction as soon as it is translated: an interrupted run loses at most the batch in
flight and resumes from the cache. A corrupted file is detected on open and reported; it is never emptied or
replaced. ``conj-harness cache stats|export|import`` moves translations between machines as JSONL, so a team can
translate once online and evaluate on air-gapped nodes.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from conj_harness.errors import ConjError
from conj_harness.files import jsonl

SCHEMA_VERSION = "1"
_SCAN_FROM = 2000  # above this many texts, scan the key prefix instead
_CHUNK = 900  # host parameters per IN (...) lookup (SQLite allows 999 in old builds)


class CacheCorruptError(ConjError):
    """The cache file exists but is not a healthy translation cache."""


class Entry(NamedTuple):  # a tuple, not a dataclass: built once per cached row, and lookups must be fast
    translation: str
    check_ok: bool | None = None  # None: not checked (ciphers, or checks off)
    check_reason: str = ""


def default_path() -> Path:
    """``$CONJ_TRANSLATION_CACHE``, else ``$XDG_CACHE_HOME/conj_harness/translations.sqlite``."""
    env = os.environ.get("CONJ_TRANSLATION_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "conj_harness" / "translations.sqlite"


#: The columns of the translations table, in order: a table with other columns is another program's.
_COLUMNS = ("backend", "model", "source", "target", "text", "translation", "check_ok", "check_reason", "created")


class CacheReadOnlyError(ConjError):
    """A translation had to be stored in a cache that can only be read."""


class TranslationCache:
    """The cache file at ``path`` (default :func:`default_path`), opened for reading and writing when it can be.

    A file or folder without write permission is opened read-only: lookups, ``stats`` and ``export`` work, and
    storing a new translation raises :class:`CacheReadOnlyError`. A file that is not a healthy conj-harness cache
    is reported and left byte for byte as it was.
    """

    def __init__(self, path: str | os.PathLike | None = None, timeout: float = 60.0):
        self.path = Path(path) if path is not None else default_path()
        existed = self.path.is_file() and self.path.stat().st_size > 0
        self.read_only = existed and not (os.access(self.path, os.W_OK) and os.access(self.path.parent, os.W_OK))
        if not existed:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise ConjError(f"cannot create the translation cache folder {self.path.parent}: {e.strerror}; set "
                                "CONJ_TRANSLATION_CACHE (or --cache) to a writable place") from None
            if not os.access(self.path.parent, os.W_OK):
                raise ConjError(f"cannot create the translation cache {self.path}: its folder is not writable; set "
                                "CONJ_TRANSLATION_CACHE (or --cache) to a writable place")
        try:
            self._db = self._connect(timeout)
            if existed:
                self._verify()  # read-only checks first: a foreign or broken file is never written to
            if not self.read_only:
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute("PRAGMA synchronous = NORMAL")
                self._create()
        except sqlite3.DatabaseError as e:
            raise CacheCorruptError(
                f"translation cache {self.path} is unreadable ({e}). It was left untouched: move it aside to start a "
                "new cache, or restore it from a `conj-harness cache export` file"
            ) from None

    def _connect(self, timeout: float) -> sqlite3.Connection:
        if self.read_only:
            # mode=ro opens without writing; a WAL file in a read-only folder cannot get its shared-memory index,
            # and immutable=1 then reads it as it stands (no other writer can exist where nobody may write).
            uri = self.path.resolve().as_uri()
            try:
                db = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=timeout, isolation_level=None,
                                     check_same_thread=False)
                db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.OperationalError:
                db = sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None, check_same_thread=False)
        else:
            db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
        db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        return db

    def _verify(self) -> None:
        (result,) = self._db.execute("PRAGMA quick_check").fetchone()
        if result != "ok":
            raise sqlite3.DatabaseError(f"integrity check: {result}")
        tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables != {"translations", "meta"}:
            raise sqlite3.DatabaseError(f"not a conj-harness cache (tables: {sorted(tables)})")
        columns = tuple(r[1] for r in self._db.execute("PRAGMA table_info(translations)"))
        meta_columns = tuple(r[1] for r in self._db.execute("PRAGMA table_info(meta)"))
        version = None
        if meta_columns == ("key", "value"):
            version = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if columns != _COLUMNS or version != (SCHEMA_VERSION,):
            raise sqlite3.DatabaseError(f"not a conj-harness cache of schema {SCHEMA_VERSION} (translations columns: "
                                        f"{', '.join(columns)}; schema_version: {version[0] if version else 'none'})")

    def _create(self) -> None:
        with self._transaction():
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS translations (backend TEXT NOT NULL, model TEXT NOT NULL, "
                "source TEXT NOT NULL, target TEXT NOT NULL, text TEXT NOT NULL, translation TEXT NOT NULL, "
                "check_ok INTEGER, check_reason TEXT NOT NULL DEFAULT '', created REAL NOT NULL, "
                "PRIMARY KEY (backend, model, source, target, text)) WITHOUT ROWID"
            )
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))

    class _Tx:
        def __init__(self, db: sqlite3.Connection):
            self.db = db

        def __enter__(self):
            self.db.execute("BEGIN IMMEDIATE")  # take the write lock up front: no deadlock between writers

        def __exit__(self, exc_type, *_):
            self.db.execute("ROLLBACK" if exc_type else "COMMIT")

    def _transaction(self) -> _Tx:
        return self._Tx(self._db)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> TranslationCache:
        return self

    def __exit__(self, *_) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------ lookups
    def get_many(self, backend: str, model: str, source: str, target: str, texts: Sequence[str]) -> dict[str, Entry]:
        """The cached entries among ``texts`` (missing ones are absent from the result)."""
        found: dict[str, Entry] = {}
        unique = list(dict.fromkeys(texts))
        if len(unique) > _SCAN_FROM:
            # Many texts: one range scan of the (backend, model, source, target) key prefix beats many IN queries.
            wanted = set(unique)
            rows = self._db.execute(
                "SELECT text, translation, check_ok, check_reason FROM translations "
                "WHERE backend=? AND model=? AND source=? AND target=?", (backend, model, source, target))
            for text, translation, ok, reason in rows:
                if text in wanted:
                    found[text] = Entry(translation, ok if ok is None else ok == 1, reason)
            return found
        for i in range(0, len(unique), _CHUNK):
            chunk = unique[i : i + _CHUNK]
            rows = self._db.execute(
                "SELECT text, translation, check_ok, check_reason FROM translations WHERE backend=? AND model=? "
                f"AND source=? AND target=? AND text IN ({','.join('?' * len(chunk))})",
                (backend, model, source, target, *chunk),
            )
            for text, translation, ok, reason in rows:
                found[text] = Entry(translation, ok if ok is None else ok == 1, reason)
        return found

    def put_many(self, backend: str, model: str, source: str, target: str,
                 items: Iterable[tuple[str, Entry]]) -> int:
        """Store a batch in one transaction (committed before returning)."""
        if self.read_only:
            raise CacheReadOnlyError(f"the translation cache {self.path} is read-only, so new translations cannot be "
                                     "stored: make it writable, or set CONJ_TRANSLATION_CACHE (or --cache) to a "
                                     "writable copy")
        now = time.time()
        rows = [
            (backend, model, source, target, text, e.translation, None if e.check_ok is None else int(e.check_ok),
             e.check_reason, now)
            for text, e in items
        ]
        with self._transaction():
            self._db.executemany("INSERT OR REPLACE INTO translations VALUES (?,?,?,?,?,?,?,?,?)", rows)
        return len(rows)

    # ------------------------------------------------------------------------------------------ admin
    def stats(self) -> list[dict]:
        rows = self._db.execute(
            "SELECT backend, model, source, target, COUNT(*), SUM(check_ok = 0) FROM translations "
            "GROUP BY backend, model, source, target ORDER BY backend, model, source, target"
        )
        return [
            {"backend": b, "model": m, "source": s, "target": t, "entries": n, "check_failed": int(f or 0)}
            for b, m, s, t, n, f in rows
        ]

    def export_rows(self) -> Iterator[dict]:
        cur = self._db.execute(
            "SELECT backend, model, source, target, text, translation, check_ok, check_reason FROM translations "
            "ORDER BY backend, model, source, target, text"
        )
        for b, m, s, t, text, tr, ok, reason in cur:
            yield {"backend": b, "model": m, "source": s, "target": t, "text": text, "translation": tr,
                   "check_ok": None if ok is None else bool(ok), "check_reason": reason}

    def export_jsonl(self, path: str | os.PathLike) -> int:

        rows = list(self.export_rows())
        jsonl.write(path, rows)
        return len(rows)

    def import_jsonl(self, path: str | os.PathLike) -> int:
        """Merge an export file; validated whole before anything is written."""
        required = ("backend", "model", "source", "target", "text", "translation")
        groups: dict[tuple[str, str, str, str], list[tuple[str, Entry]]] = {}
        for n, row in jsonl.read_objects(path):
            if not all(isinstance(row.get(k), str) for k in required):
                raise ConjError(f"{path} line {n}: expected string fields {', '.join(required)}")
            key = (row["backend"], row["model"], row["source"], row["target"])
            ok = row.get("check_ok")
            entry = Entry(row["translation"], None if ok is None else bool(ok), row.get("check_reason") or "")
            groups.setdefault(key, []).append((row["text"], entry))
        return sum(self.put_many(*key, items) for key, items in groups.items())
