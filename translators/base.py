"""The translator interface: a batch of strings, a source and a target language, the same number of strings back.

A backend implements :meth:`Translator._translate_batch` for non-empty strings of reasonable length. The public
:meth:`Translator.translate` adds what every backend needs and no backend should re-implement:

* codes are validated against the backend's supported set before anything is sent (an unknown code raises
  :class:`UnknownNameError` listing the supported ones; codes never become paths unchecked);
* empty and whitespace-only strings are returned unchanged without a request;
* strings longer than ``max_chars`` are split at sentence boundaries, translated as parts and rejoined;
* a backend that returns the wrong number of strings, or a non-string, is an error - never padded with the
  source text.

Backends raise :class:`TranslationError` when they give up; they never return the source text as a translation.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence

from conj_harness.errors import ConjError, UnknownNameError

_SENTENCE_END = re.compile(r"(?<=[.!?。！？؟।])\s+")


class TranslationError(ConjError):
    """A translation that could not be obtained (after the backend's retries)."""


def split_long(text: str, max_chars: int) -> list[str]:
    """Split ``text`` into parts of at most ``max_chars`` at sentence ends (then at spaces, then hard)."""
    if len(text) <= max_chars:
        return [text]
    parts: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(text):
        while len(sentence) > max_chars:  # one sentence too long: cut at the last space that fits
            cut = sentence.rfind(" ", 0, max_chars)
            cut = cut if cut > 0 else max_chars
            if current:
                parts.append(current)
                current = ""
            parts.append(sentence[:cut])
            sentence = sentence[cut:].lstrip()
        if current and len(current) + 1 + len(sentence) > max_chars:
            parts.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}" if current else sentence
    if current:
        parts.append(current)
    return parts


class Translator(ABC):
    """Base of every backend. Subclasses set ``name`` and implement the two abstract methods."""

    name: str = "base"
    max_chars: int = 4000

    @property
    def model(self) -> str:
        """What produced the translations (model id, endpoint version); part of the cache key."""
        return self.name

    @abstractmethod
    def supported_languages(self) -> Iterable[str] | None:
        """ISO 639-1 codes (or conjugate names) this backend handles; None means 'any valid ISO 639-1 code'."""

    @abstractmethod
    def _translate_batch(self, texts: list[str], source: str, target: str) -> list[str]:
        """Translate non-empty strings of at most ``max_chars``; same length and order as ``texts``."""

    def check_codes(self, source: str, target: str) -> None:
        from conj_harness.conjugates.languages import ISO_639_1

        supported = self.supported_languages()
        valid = set(ISO_639_1) if supported is None else set(supported)
        for code in (source, target):
            if code not in valid:
                raise UnknownNameError(f"language code for the {self.name} backend", code, valid)

    def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        """Translate ``texts`` from ``source`` to ``target`` (see the module docstring for the guarantees)."""
        self.check_codes(source, target)
        texts = list(texts)
        pieces: list[str] = []  # what is sent
        plan: list[list[int] | None] = []  # per input: indices into pieces, or None for empty
        for text in texts:
            if not text.strip():
                plan.append(None)
                continue
            parts = split_long(text, self.max_chars)
            plan.append(list(range(len(pieces), len(pieces) + len(parts))))
            pieces.extend(parts)
        out = self._translate_batch(pieces, source, target) if pieces else []
        if len(out) != len(pieces) or not all(isinstance(s, str) for s in out):
            raise TranslationError(
                f"{self.name} returned {len(out)} results for {len(pieces)} strings ({source}->{target})"
            )
        return [text if idx is None else " ".join(out[i] for i in idx) for text, idx in zip(texts, plan)]
