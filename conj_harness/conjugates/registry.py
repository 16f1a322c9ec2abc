"""The registry of conjugates: invertible prompt transforms far from the fine-tuning distribution.

A conjugate ``s`` turns an English prompt ``P`` into ``s(P)``; conjugate prompting answers with
``s^-1(f(s(P)))``. Three kinds exist:

* ``identity`` - ``en``, the unconjugated baseline every drop is measured against;
* ``cipher``   - deterministic rules that need no network (``leet``, ``piglatin``), with a best-effort inverse;
* ``language`` - any ISO 639-1 code; the transform is a translation, done by the translator layer (or by the
  human translations a dataset ships), so :meth:`Conjugate.transform` refuses to run without one.

Names are the registry keys. The paper's file codes differ (``ls`` = Leetspeak, ``pl`` = Pig Latin); here ``pl``
is Polish, as in ISO 639-1, and ``paper_code`` records the paper's spelling.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from conj_harness.conjugates import ciphers
from conj_harness.conjugates.languages import ISO_639_1
from conj_harness.errors import ConjError, UnknownNameError

Kind = Literal["identity", "cipher", "language"]


class NeedsTranslatorError(ConjError):
    """A language conjugate was asked to transform text without a translator."""


@dataclass(frozen=True)
class Conjugate:
    """One named transform with its inverse where one exists."""

    name: str
    kind: Kind
    description: str
    forward: Callable[[str], str] | None = None
    inverse: Callable[[str], str] | None = None
    paper_code: str | None = None

    @property
    def invertible(self) -> bool:
        return self.inverse is not None or self.kind == "language"

    def transform(self, text: str) -> str:
        """Apply the conjugate (English -> conjugate)."""
        if self.forward is None:
            raise NeedsTranslatorError(
                f"conjugate {self.name!r} is a language: it is applied by a translator backend or by a dataset's "
                "human translations, not by a local rule"
            )
        return self.forward(text)

    def invert(self, text: str) -> str:
        """Map text in this conjugate back to English (best effort for ciphers)."""
        if self.inverse is None:
            raise NeedsTranslatorError(
                f"conjugate {self.name!r} has no local inverse: back-translate it with a translator backend"
            )
        return self.inverse(text)


def _identity(text: str) -> str:
    return text


_REGISTRY: dict[str, Conjugate] = {}


def register(conjugate: Conjugate) -> Conjugate:
    """Add a conjugate; a name may be registered once."""
    if conjugate.name in _REGISTRY:
        raise ValueError(f"conjugate {conjugate.name!r} is already registered")
    _REGISTRY[conjugate.name] = conjugate
    return conjugate


register(Conjugate("en", "identity", "English, unchanged: the baseline", _identity, _identity, paper_code="en"))
register(
    Conjugate(
        "leet", "cipher", "Leetspeak with the paper's rules (a4 b8 e3 i1 o0 s5 t7, word-edge capitals)",
        ciphers.leet, ciphers.unleet, paper_code="ls",
    )
)
register(
    Conjugate(
        "piglatin", "cipher", "Pig Latin with the paper's rules (clusters to the end + 'ay', vowels + 'yay')",
        ciphers.piglatin, ciphers.unpiglatin, paper_code="pl",
    )
)
for _code, _name in ISO_639_1.items():
    if _code != "en":
        register(Conjugate(_code, "language", f"{_name} (translation)", paper_code=_code))


def get(name: str) -> Conjugate:
    """Look a conjugate up by name; unknown names raise an error listing the non-language conjugates."""
    try:
        return _REGISTRY[name]
    except KeyError:
        rule_based = [n for n, c in _REGISTRY.items() if c.kind != "language"]
        raise UnknownNameError(
            "conjugate", name, [*rule_based, "<any ISO 639-1 language code, e.g. fr, ja, sw>"]
        ) from None


def names(kind: Kind | None = None) -> list[str]:
    """Registered conjugate names, optionally of one kind."""
    return [n for n, c in _REGISTRY.items() if kind is None or c.kind == kind]
