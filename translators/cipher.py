"""The rule-based conjugates (identity, leet, piglatin) as a translator backend: no network, no cache needed."""

from __future__ import annotations

from conj_harness import conjugates
from conj_harness.translators.base import Translator


class CipherTranslator(Translator):
    name = "cipher"

    def supported_languages(self) -> list[str]:
        return [n for n in conjugates.names() if conjugates.get(n).kind != "language"]

    def _translate_batch(self, texts: list[str], source: str, target: str) -> list[str]:
        if source == "en":
            fn = conjugates.get(target).transform
        elif target == "en":
            fn = conjugates.get(source).invert
        else:
            def fn(text: str) -> str:
                return conjugates.get(target).transform(conjugates.get(source).invert(text))
        return [fn(t) for t in texts]
