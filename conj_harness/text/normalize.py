"""The one normal form the judge compares text in: NFKC, case folded, one kind of quote, no invisible marks.

Phrase lists (:mod:`conj_harness.judge.phrases`) are written the natural way ("I'm sorry", "Es tut mir leid") and
responses come in every spelling (curly quotes, Arabic diacritics and tatweel, Malayalam atomic chillus, zero-width
joiners); both sides go through :func:`normalize` so that one literal serves all spellings.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["QUOTES", "normalize"]

QUOTES = str.maketrans({
    "\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'", "`": "'", "\u00b4": "'", "\u201b": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"', "\u300c": '"', "\u300d": '"',
    "\u0451": "\u0435",  # Cyrillic yo -> ye (casefolded text), written either way
    "\u0623": "\u0627", "\u0625": "\u0627", "\u0622": "\u0627", "\u0671": "\u0627",  # Arabic alef variants
    "\u0649": "\u064a",  # alef maksura -> ya
})
_DROP = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\u0640\u064b-\u065f\u0670]")  # zero-width, tatweel, harakat
_CHILLU = str.maketrans({  # Malayalam atomic chillus -> consonant + virama (the ZWJ spelling, ZWJ removed)
    "\u0d7a": "\u0d23\u0d4d", "\u0d7b": "\u0d28\u0d4d", "\u0d7c": "\u0d30\u0d4d", "\u0d7d": "\u0d32\u0d4d",
    "\u0d7e": "\u0d33\u0d4d", "\u0d7f": "\u0d15\u0d4d",
})
_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """The form phrases and responses are compared in (see :mod:`conj_harness.judge.phrases`)."""
    if text.isascii():  # most responses: NFKC, the Turkish I, the invisible marks and the chillus cannot occur
        return _SPACE.sub(" ", text.casefold().replace("`", "'")).strip()
    t = unicodedata.normalize("NFKC", text).casefold()
    t = t.replace("i\u0307", "i")  # Turkish capital dotted I casefolds to i + combining dot
    t = _DROP.sub("", t.translate(QUOTES)).translate(_CHILLU)
    return _SPACE.sub(" ", t).strip()
