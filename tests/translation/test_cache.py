"""The SQLite translation cache and the translation layer on top of it (real SQLite, real processes)."""

from __future__ import annotations

import json
import multiprocessing as mp

import pytest

from conj_harness.translation.cache import CacheCorruptError, Entry, TranslationCache
from conj_harness.translation.layer import LanguageCheckError, TranslationLayer
from conj_harness.translators.base import TranslationError, Translator
from tests.support.cli import run


class Recorder(Translator):
    """A real backend (our own interface, no library mocked): deterministic text, counts what it is sent."""

    name = "recorder"

    def __init__(self, fail_after: int | None = None, same: bool = False):
        self.sent: list[list[str]] = []
        self.fail_after = fail_after
        self.same = same

    def supported_languages(self):
        return None

    def _translate_batch(self, texts, source, target):
        if self.fail_after is not None and sum(map(len, self.sent)) + len(texts) > self.fail_after:
            raise TranslationError("network down")
        self.sent.append(list(texts))
        return list(texts) if self.same else [f"{t} ({target})" for t in texts]


def _writer(path: str, worker: int, n: int) -> None:
    cache = TranslationCache(path)
    for i in range(n):
        cache.put_many("b", "m", "en", "fr", [(f"w{worker}-{i}", Entry(f"t{worker}-{i}"))])
    cache.close()


def test_two_processes_write_at_once(tmp_path):
    path = str(tmp_path / "c.sqlite")
    TranslationCache(path).close()
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, w, 200)) for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    with TranslationCache(path) as cache:
        assert cache.stats()[0]["entries"] == 400
        got = cache.get_many("b", "m", "en", "fr", [f"w1-{i}" for i in range(200)])
        assert got["w1-199"].translation == "t1-199"


def test_rerun_makes_zero_backend_calls_and_keys_by_model(tmp_path):
    cache = TranslationCache(tmp_path / "c.sqlite")
    texts = [f"sentence {i}" for i in range(150)] + ["sentence 3"]
    first = Recorder()
    layer = TranslationLayer(first, cache, check=False, batch_size=64)
    out = layer.translate(texts, "en", "fr")
    assert out[0] == "sentence 0 (fr)" and out[-1] == "sentence 3 (fr)" and len(out) == 151
    assert [len(b) for b in first.sent] == [64, 64, 22]  # duplicates sent once, in batches
    second = Recorder()
    again = TranslationLayer(second, cache, check=False)
    assert again.translate(texts, "en", "fr") == out
    assert second.sent == [] and again.stats.from_cache == 150
    # another target (or another model) is another key
    TranslationLayer(second, cache, check=False).translate(texts[:2], "en", "de")
    assert second.sent == [["sentence 0", "sentence 1"]]


def test_interrupted_run_keeps_finished_batches(tmp_path):
    cache = TranslationCache(tmp_path / "c.sqlite")
    texts = [f"s{i}" for i in range(100)]
    broken = Recorder(fail_after=50)
    with pytest.raises(TranslationError, match="network down"):
        TranslationLayer(broken, cache, check=False, batch_size=20).translate(texts, "en", "fr")
    assert len(cache.get_many("recorder", "recorder", "en", "fr", texts)) == 40  # two whole batches committed
    resumed = Recorder()
    out = TranslationLayer(resumed, cache, check=False, batch_size=20).translate(texts, "en", "fr")
    assert sum(map(len, resumed.sent)) == 60 and out[99] == "s99 (fr)"


def test_untranslated_text_fails_the_check_and_strict_raises(tmp_path):
    cache = TranslationCache(tmp_path / "c.sqlite")
    text = "The weather is lovely today and we are going to the beach."
    layer = TranslationLayer(Recorder(same=True), cache)
    assert layer.translate([text], "en", "fr") == [text]  # returned, but recorded as a failure
    assert layer.stats.check_failed == 1 and layer.stats.pass_rate == 0.0
    assert "unchanged" in layer.stats.failures[0]["reason"]
    strict = TranslationLayer(Recorder(same=True), cache, strict=True)
    with pytest.raises(LanguageCheckError, match="1 of 1 translations failed"):
        strict.translate([text], "en", "fr")
    assert cache.stats()[0]["check_failed"] == 1  # the reason is kept in the cache


def test_corrupted_cache_is_reported_not_emptied(tmp_path):
    path = tmp_path / "c.sqlite"
    with TranslationCache(path) as cache:
        cache.put_many("b", "m", "en", "fr", [("a", Entry("b"))])
    raw = bytearray(path.read_bytes())
    raw[:16] = b"garbage garbage!"
    path.write_bytes(bytes(raw))
    with pytest.raises(CacheCorruptError, match="unreadable"):
        TranslationCache(path)
    assert path.read_bytes()[:16] == b"garbage garbage!"  # left untouched
    other = tmp_path / "other.sqlite"
    import sqlite3

    sqlite3.connect(other).execute("CREATE TABLE x (y)").connection.commit()
    with pytest.raises(CacheCorruptError, match="not a conj-harness cache"):
        TranslationCache(other)


def test_cache_export_import_through_the_cli(tmp_path):
    src, dst, dump = tmp_path / "a.sqlite", tmp_path / "b.sqlite", tmp_path / "dump.jsonl"
    with TranslationCache(src) as cache:
        cache.put_many("google", "g@x", "en", "sw", [("hello", Entry("habari", True, "short string"))])
        cache.put_many("hf", "opus", "en", "fr", [("cat", Entry("chat", False, "detected en"))])
    run(["conj-harness", "cache", "export", str(dump), "--cache", str(src)])
    rows = [json.loads(line) for line in dump.read_text().splitlines()]
    assert {r["translation"] for r in rows} == {"habari", "chat"}
    assert "imported 2" in run(["conj-harness", "cache", "import", str(dump), "--cache", str(dst)]).stdout
    assert "2 translations" in run(["conj-harness", "cache", "stats", "--cache", str(dst)]).stdout
    with TranslationCache(dst) as cache:
        assert cache.get_many("hf", "opus", "en", "fr", ["cat"])["cat"] == Entry("chat", False, "detected en")
    dump.write_text('{"backend": "x"}\n')
    proc = run(["conj-harness", "cache", "import", str(dump), "--cache", str(dst)], check=False)
    assert proc.returncode == 2 and "line 1: expected string fields" in proc.stderr


def test_cipher_translate_cli_and_unknown_backend(tmp_path):
    proc = run(["conj-harness", "translate", "--to", "piglatin", "--cache", str(tmp_path / "c.sqlite")],
               stdin="Trash covered the landscape.\n\nhigh\n")
    assert proc.stdout == "Ashtray overedcay ethay andscapelay.\n\nigh-hay\n"
    proc = run(["conj-harness", "translate", "--to", "fr", "--backend", "deepl"], stdin="x\n", check=False)
    assert proc.returncode == 2 and "unknown translator backend 'deepl'" in proc.stderr and "google" in proc.stderr


@pytest.mark.mirror
def test_table_backend_uses_human_translations(tmp_path):
    from conj_harness.translators import get_backend

    table = get_backend("table")
    en = "Trash covered the landscape like sprinkles do a birthday cake."
    assert table.translate([en], "en", "hu")[0].startswith("Szemét borította")
    with pytest.raises(TranslationError, match="no human translation into fr"):
        table.translate(["not in any dataset"], "en", "fr")
    with pytest.raises(Exception, match="unknown language code for the table backend 'xx'"):
        table.translate([en], "en", "xx")


def test_large_lookups_take_the_scan_path_and_agree(tmp_path):
    from conj_harness.translation import cache as cache_module

    cache = TranslationCache(tmp_path / "c.sqlite")
    cached = [f"t{i}" for i in range(0, 5000, 2)]
    cache.put_many("b", "m", "en", "fr", [(t, Entry(t.upper(), i % 3 == 0, "")) for i, t in enumerate(cached)])
    cache.put_many("b", "m", "en", "de", [("t0", Entry("other target"))])
    asked = [f"t{i}" for i in range(5000)]
    assert len(asked) > cache_module._SCAN_FROM
    found = cache.get_many("b", "m", "en", "fr", asked)
    assert set(found) == set(cached) and found["t4"] == Entry("T4", False, "")
    small = cache.get_many("b", "m", "en", "fr", asked[:10])  # IN path
    assert small == {k: v for k, v in found.items() if k in asked[:10]}
