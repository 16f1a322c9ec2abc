"""A conjugate as a transform over lists of strings: ``s`` (English -> conjugate) and ``s^-1`` (back).

Ciphers (``leet``, ``piglatin``) and the identity apply their rules here, offline. A language goes through a
:class:`~conj_harness.translation.layer.TranslationLayer` (cache, batching, language checks): each distinct string
is translated once, and the same layer back-translates. Used to conjugate whole lm-eval tasks
(:mod:`conj_harness.lmeval.conjugated`) and to map generated answers back (its filter).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from conj_harness import conjugates
from conj_harness.conjugates.registry import NeedsTranslatorError
from conj_harness.translation.layer import TranslationLayer

#: Left as written by a cipher, in both directions: URLs and code (fenced blocks, inline backticks). A cipher of a
#: URL is a dead link and a cipher of code is not code; a format check that reads them (a URL the answer must
#: cite, a code block it must contain) must find them as the task wrote them. Languages are left to the
#: translator, which keeps URLs and code by itself in practice.
PROTECTED = re.compile(r"(```.*?```|`[^`\n]+`|\b(?:https?://|www\.)[^\s<>\"')\]]+)", re.S)


def _outside_protected(text: str, rule: Callable[[str], str]) -> str:
    """``rule`` applied to the parts of ``text`` between protected spans (see :data:`PROTECTED`; splitting on its
    group puts the protected spans at the odd positions)."""
    return "".join(part if i % 2 or not part.strip() else rule(part)
                   for i, part in enumerate(PROTECTED.split(text)))


class ConjugateTransform:
    """``forward`` / ``inverse`` of one conjugate over many strings (duplicates and empty strings cost nothing)."""

    def __init__(self, name: str, layer_factory: Callable[[], TranslationLayer] | None = None) -> None:
        self.conjugate = conjugates.get(name)
        self.name = self.conjugate.name
        self._factory = layer_factory
        self._layer: TranslationLayer | None = None

    @property
    def is_language(self) -> bool:
        return self.conjugate.kind == "language"

    @property
    def layer(self) -> TranslationLayer:
        """The translation layer (languages only; made on first use)."""
        if self._layer is None:
            if self._factory is None:
                raise NeedsTranslatorError(
                    f"conjugate {self.name!r} is a language: it needs a translator backend (--backend google|hf)")
            self._layer = self._factory()
        return self._layer

    def forward(self, texts: Sequence[str]) -> list[str]:
        return self._map(texts, "en", self.name, self.conjugate.transform)

    def inverse(self, texts: Sequence[str]) -> list[str]:
        return self._map(texts, self.name, "en", self.conjugate.invert)

    def _map(self, texts: Sequence[str], source: str, target: str, rule: Callable[[str], str]) -> list[str]:
        if not self.is_language:
            done = {t: _outside_protected(t, rule) for t in dict.fromkeys(t for t in texts if t.strip())}
            return [done.get(t, t) for t in texts]
        # Translators trim their input; the whitespace around a string is part of the prompt's layout (a choice's
        # leading space, a description's closing blank line), so only the inside is translated.
        cores = list(dict.fromkeys(t.strip() for t in texts if t.strip()))
        done = dict(zip(cores, self.layer.translate(cores, source, target)))
        out = []
        for t in texts:
            core = t.strip()
            if not core:
                out.append(t)
                continue
            start = t.index(core)
            out.append(t[:start] + done[core] + t[start + len(core):])
        return out

    def describe(self) -> dict[str, object]:
        """What made the transform: for the task metadata."""
        if not self.is_language:
            return {"kind": self.conjugate.kind, "backend": "rules"}
        return {"kind": "language", **self.layer.describe()}
