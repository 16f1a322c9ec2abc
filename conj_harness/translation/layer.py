"""The translation layer: backend + persistent cache + language checks, used by every part that translates.

``TranslationLayer.translate(texts, source, target)`` looks every string up in the cache, sends only the misses
to the backend in batches, checks each new translation (``langcheck``), and commits each batch to the cache
before the next is sent. A re-run therefore makes zero backend calls, and an interrupted one resumes where it
stopped. A failed check is recorded (and kept in the cache with its reason); with ``strict=True`` it raises.
A failed translation raises; it is never replaced by the source text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from conj_harness.errors import ConjError
from conj_harness.translation import langcheck
from conj_harness.translation.cache import Entry, TranslationCache


class LanguageCheckError(ConjError):
    """``--strict``: at least one translation failed the language check."""


@dataclass
class TranslationStats:
    requested: int = 0  # strings asked for (after de-duplication)
    from_cache: int = 0
    translated: int = 0  # strings sent to the backend
    backend_calls: int = 0  # batches sent
    checked: int = 0
    check_failed: int = 0
    failures: list[dict] = field(default_factory=list)  # first few failures, for reports

    @property
    def pass_rate(self) -> float | None:
        return None if self.checked == 0 else 1 - self.check_failed / self.checked

    def as_dict(self) -> dict:
        return {
            "requested": self.requested, "from_cache": self.from_cache, "translated": self.translated,
            "backend_calls": self.backend_calls, "checked": self.checked, "check_failed": self.check_failed,
            "pass_rate": self.pass_rate, "failures": self.failures[:20],
        }


class TranslationLayer:
    def __init__(self, backend, cache: TranslationCache | None = None, *, check: bool = True,
                 strict: bool = False, batch_size: int = 64):
        self.backend = backend
        self.cache = cache if cache is not None else TranslationCache()
        self.check = check
        self.strict = strict
        self.batch_size = batch_size
        self.stats = TranslationStats()
        #: (English source, translation) of every distinct string translated from English (for round-trip chrF).
        self.from_english: dict[str, str] = {}

    def describe(self) -> dict[str, object]:
        """Which translator made the strings and how they fared: what task metadata records."""
        s = self.stats
        return {"backend": self.backend.name, "model": self.backend.model, "strings": s.requested,
                "checked": s.checked, "check_failed": s.check_failed, "pass_rate": s.pass_rate}

    def _model(self, source: str, target: str) -> str:
        model_for = getattr(self.backend, "model_for", None)
        return model_for(source, target) if model_for else self.backend.model

    def _judge(self, text: str, translation: str, source: str, target: str) -> Entry:
        from conj_harness import conjugates

        if not self.check or conjugates.get(target).kind != "language":
            return Entry(translation)  # ciphers are exempt: not counted in the pass rate
        result = langcheck.check(text, translation, target, source)
        return Entry(translation, result.ok, result.reason)

    def _count(self, entries: dict[str, Entry], source: str, target: str) -> None:
        self.stats.checked += sum(e.check_ok is not None for e in entries.values())
        for text, entry in entries.items():
            if entry.check_ok is False:
                self.stats.check_failed += 1
                if len(self.stats.failures) < 100:
                    self.stats.failures.append({"source": source, "target": target, "text": text,
                                                "translation": entry.translation, "reason": entry.check_reason})

    def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        """Translations of ``texts`` in order (duplicates translated once)."""
        self.backend.check_codes(source, target)
        if source == target:
            return list(texts)
        unique = list(dict.fromkeys(texts))
        name, model = self.backend.name, self._model(source, target)
        entries = self.cache.get_many(name, model, source, target, unique)
        self.stats.requested += len(unique)
        self.stats.from_cache += len(entries)
        self._count(entries, source, target)
        missing = [t for t in unique if t not in entries]
        for i in range(0, len(missing), self.batch_size):
            batch = missing[i : i + self.batch_size]
            out = self.backend.translate(batch, source, target)
            self.stats.backend_calls += 1
            self.stats.translated += len(batch)
            new = {t: self._judge(t, tr, source, target) for t, tr in zip(batch, out)}
            self.cache.put_many(name, model, source, target, new.items())  # committed: a crash loses nothing
            entries.update(new)
            self._count(new, source, target)
        if self.strict and self.stats.check_failed:
            first = self.stats.failures[0]
            raise LanguageCheckError(
                f"{self.stats.check_failed} of {self.stats.checked} translations failed the language check "
                f"(first: {first['text'][:60]!r} -> {first['translation'][:60]!r}: {first['reason']}); "
                "they are cached with their reasons: inspect with `conj-harness cache export`"
            )
        if source == "en":
            self.from_english.update((t, entries[t].translation) for t in unique)
        return [entries[t].translation for t in texts]

    def back_translate(self, texts: Sequence[str], source: str) -> list[str]:
        """Model outputs in ``source`` back to English, batched through the same cache and checks."""
        return self.translate(texts, source, "en")


def get_translate(backend: str, **options):
    """A ``translate(texts, source) -> English texts`` callable over a backend (for the refusal judge's stage 2)."""
    from conj_harness.translators import get_backend

    return TranslationLayer(get_backend(backend, **options)).back_translate
