"""Cached translation lookups per second through the translation layer (goal: >= 100,000/s).

Fills a fresh SQLite cache with N translations, then times `TranslationLayer.translate` on all N (every one a
cache hit, zero backend calls), median of several runs. Prints one JSON line.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from conj_harness.translation.cache import Entry, TranslationCache
from conj_harness.translation.layer import TranslationLayer
from conj_harness.translators.base import Translator


class NeverCalled(Translator):
    name = "bench"

    def supported_languages(self):
        return None

    def _translate_batch(self, texts, source, target):
        raise AssertionError("a cached lookup reached the backend")


def main(n: int = 50_000, runs: int = 5) -> dict:
    texts = [f"Sentence number {i} with a few words to make it realistic." for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        cache = TranslationCache(Path(tmp) / "bench.sqlite")
        cache.put_many("bench", "bench", "en", "fr", [(t, Entry(t[::-1], True, "detected target")) for t in texts])
        times = []
        for _ in range(runs):
            layer = TranslationLayer(NeverCalled(), cache)
            start = time.perf_counter()
            out = layer.translate(texts, "en", "fr")
            times.append(time.perf_counter() - start)
            assert len(out) == n and layer.stats.backend_calls == 0
        cache.close()
    median = statistics.median(times)
    result = {"bench": "cache_lookups", "n": n, "runs": runs, "median_s": round(median, 4),
              "lookups_per_s": round(n / median), "goal_per_s": 100_000}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
