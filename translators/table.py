"""Human (or the paper's own) translations taken from aligned datasets, preferred over MT wherever they exist.

Aligned resources: XNLI (15 languages, rows aligned), MultiJail (human translations in 9 languages), the paper's
ICL sentence files (fr es nl hu, plus its Leetspeak and Pig Latin files) and its AdvBench translations (ja hu sw
ml). A string that no resource holds is a :class:`TranslationError` (use an MT backend for it), never the source
text. Only English sources are supported: the resources are aligned to English.
"""

from __future__ import annotations

from collections.abc import Callable

from conj_harness.data import sources
from conj_harness.errors import DataError
from conj_harness.translators.base import TranslationError, Translator


def _xnli(lang: str) -> list[tuple[str, str]]:
    en, tr = sources.xnli_rows("en"), sources.xnli_rows(lang)
    return [(a[f], b[f]) for a, b in zip(en, tr) for f in ("premise", "hypothesis")]


def _multijail(lang: str) -> list[tuple[str, str]]:
    return [(r["en"], r[lang]) for r in sources.multijail_rows()]


_ICL_FILES = {"fr": "fr", "es": "es", "nl": "nl", "hu": "hu", "leet": "ls", "piglatin": "pl"}


def _icl(lang: str) -> list[tuple[str, str]]:
    return list(zip(sources.icl_sentences("en"), sources.icl_sentences(_ICL_FILES[lang])))


def _harmful(lang: str) -> list[tuple[str, str]]:
    return list(zip(sources.harmful_instructions("en"), sources.harmful_instructions(lang)))


# resource name -> (languages it covers, loader of (english, translation) pairs)
RESOURCES: dict[str, tuple[tuple[str, ...], Callable[[str], list[tuple[str, str]]]]] = {
    "xnli": (tuple(x for x in sources.XNLI_LANGS if x != "en"), _xnli),
    "multijail": (tuple(x for x in sources.MULTIJAIL_LANGS if x != "en"), _multijail),
    "icl_sentences": (tuple(_ICL_FILES), _icl),
    "advbench_paper": (tuple(x for x in sources.HARMFUL_LANGS if x != "en"), _harmful),
}


class TableTranslator(Translator):
    name = "table"

    def __init__(self) -> None:
        self._tables: dict[str, dict[str, str]] = {}

    def supported_languages(self) -> list[str]:
        return sorted({"en", *(lang for langs, _ in RESOURCES.values() for lang in langs)})

    def table(self, target: str) -> dict[str, str]:
        """English -> ``target`` for every resource that covers ``target`` and whose data is available."""
        if target not in self._tables:
            merged: dict[str, str] = {}
            errors = []
            for name, (langs, load) in RESOURCES.items():
                if target in langs:
                    try:
                        for en, tr in load(target):
                            merged.setdefault(en, tr)
                    except DataError as e:
                        errors.append(f"{name}: {e}")
            if not merged and errors:
                raise TranslationError("no aligned resource could be read: " + "; ".join(errors))
            self._tables[target] = merged
        return self._tables[target]

    def lookup(self, texts: list[str], target: str) -> dict[str, str]:
        """The subset of ``texts`` that has a human translation."""
        table = self.table(target)
        return {t: table[t] for t in texts if t in table}

    def _translate_batch(self, texts: list[str], source: str, target: str) -> list[str]:
        if source != "en":
            raise TranslationError(f"the table backend translates from English only, not from {source!r}")
        found = self.lookup(texts, target)
        missing = [t for t in texts if t not in found]
        if missing:
            raise TranslationError(
                f"{len(missing)} of {len(texts)} strings have no human translation into {target} "
                f"(first: {missing[0][:60]!r}); use --backend google or hf for them"
            )
        return [found[t] for t in texts]
