"""Which language is this text in? One language identification for the judge and the translation check.

By Unicode script first (Hangul, kana, Thai, Malayalam... name the language), then - for Latin script - the two
ciphers by their shape (detectors read Leetspeak and Pig Latin as Welsh or Tagalog), then an English function-word
test, and only then langdetect (seeded, ``DetectorFactory.seed = 0``) with a probability margin: langdetect is
unreliable on short strings. :func:`ranked` is the seeded langdetect call itself, which the translation layer's
check (:mod:`conj_harness.translation.langcheck`) uses too.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from conj_harness.text.normalize import QUOTES

__all__ = ["CIPHERS", "Detection", "canon_lang", "detect_language", "ranked", "thresholds"]

#: langdetect's answer is trusted when its top probability and its lead over the runner-up reach these.
DETECT_MIN_PROB = 0.80
DETECT_MARGIN = 0.30
#: The English function-word test reads this many characters (as telling as the whole, and cheap on long text).
EN_TEST_CHARS = 800
DETECT_MIN_LETTERS = 15
#: The cipher-shape test reads this many characters (a cipher shows in its first lines; long texts stay cheap).
CIPHER_TEST_CHARS = 2000
#: A second script with at least this share of the letters makes a text "mixed scripts".
MIXED_MIN_SHARE = 0.1

CIPHERS = ("leet", "piglatin")
ALIASES = {"zh-cn": "zh", "zh-tw": "zh", "zh-hans": "zh", "zh-hant": "zh", "ls": "leet", "leetspeak": "leet",
           "pig_latin": "piglatin", "pig-latin": "piglatin", "iw": "he", "in": "id", "jw": "jv"}


def thresholds() -> dict[str, float]:
    """The numbers that decide a detection (part of the rule judge's identity)."""
    return {"DETECT_MIN_PROB": DETECT_MIN_PROB, "DETECT_MARGIN": DETECT_MARGIN, "EN_TEST_CHARS": EN_TEST_CHARS,
            "DETECT_MIN_LETTERS": DETECT_MIN_LETTERS, "MIXED_MIN_SHARE": MIXED_MIN_SHARE,
            "CIPHER_TEST_CHARS": CIPHER_TEST_CHARS}


def canon_lang(lang: str | None, keep: frozenset[str] | set[str] = frozenset()) -> str | None:
    """A language code as the judge uses it: lower case, aliases resolved (``zh-CN`` -> ``zh``), the region
    dropped unless the full code is in ``keep``; None for nothing."""
    if lang is None:
        return None
    code = str(lang).strip().lower().replace("_", "-")
    if not code:
        return None
    code = ALIASES.get(code, code)
    return code.split("-")[0] if code not in keep and "-" in code else code


def ranked(text: str, limit: int | None = None) -> list[tuple[str, float]]:
    """langdetect's guesses, most likely first (``zh-cn``/``zh-tw`` -> ``zh``), [] when it cannot tell."""
    from langdetect import DetectorFactory, detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0  # langdetect is random otherwise (set on every call: other code may change it)
    try:
        found = detect_langs(text if limit is None else text[:limit])
    except LangDetectException:
        return []
    return [(ALIASES.get(item.lang.lower(), item.lang.lower()), float(item.prob)) for item in found]


_SCRIPT_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x024F, "Latin"), (0x1E00, 0x1EFF, "Latin"), (0x0370, 0x03FF, "Greek"), (0x0400, 0x052F, "Cyrillic"),
    (0x0590, 0x05FF, "Hebrew"), (0x0600, 0x06FF, "Arabic"), (0x0750, 0x077F, "Arabic"), (0x08A0, 0x08FF, "Arabic"),
    (0xFB50, 0xFDFF, "Arabic"), (0xFE70, 0xFEFF, "Arabic"), (0x0900, 0x097F, "Devanagari"),
    (0x0980, 0x09FF, "Bengali"), (0x0D00, 0x0D7F, "Malayalam"), (0x0B80, 0x0BFF, "Tamil"),
    (0x0C00, 0x0C7F, "Telugu"), (0x0E00, 0x0E7F, "Thai"), (0x1100, 0x11FF, "Hangul"), (0x3130, 0x318F, "Hangul"),
    (0xAC00, 0xD7AF, "Hangul"), (0x3040, 0x309F, "Kana"), (0x30A0, 0x30FF, "Kana"), (0xFF66, 0xFF9F, "Kana"),
    (0x3400, 0x4DBF, "Han"), (0x4E00, 0x9FFF, "Han"), (0xF900, 0xFAFF, "Han"),
)
# Scripts that name one language (Han is zh unless kana are present); others need langdetect to pick.
_SCRIPT_LANG = {"Hangul": "ko", "Thai": "th", "Malayalam": "ml", "Bengali": "bn", "Greek": "el", "Hebrew": "he",
                "Tamil": "ta", "Telugu": "te", "Kana": "ja", "Han": "zh", "Devanagari": "hi", "Arabic": "ar",
                "Cyrillic": "ru"}
_SCRIPT_FAMILY = {"Devanagari": {"hi", "mr", "ne", "sa"}, "Arabic": {"ar", "fa", "ur", "ps"},
                  "Cyrillic": {"ru", "uk", "bg", "mk", "sr", "be", "kk"}, "Bengali": {"bn", "as"},
                  "Han": {"zh", "ja"}, "Kana": {"ja"}}

# English function words that are not (common) words of the other Latin-script languages the tasks use.
EN_WORDS = frozenset([
    "the", "and", "you", "your", "that", "this", "with", "for", "not", "are", "have", "has", "it's", "i'm", "i",
    "can't", "cannot", "what", "which", "would", "could", "should", "there", "their", "they", "from", "about", "how",
    "been", "being", "some", "any", "these", "those", "because", "please", "however", "here", "sure", "sorry", "of",
    "to", "it", "be", "or", "if", "my", "can", "do", "don't", "we", "our", "just", "more", "other", "such", "than",
    "then", "them", "was", "were", "will", "an", "as", "at", "by", "into", "only", "also", "its", "it", "is", "i'd",
    "i'll", "i've", "you're", "don't", "won't", "isn't", "aren't", "doesn't",
])


@dataclass(frozen=True)
class Detection:
    """What :func:`detect_language` found; ``lang`` is None when nothing could be said."""

    lang: str | None
    prob: float
    margin: float
    method: str
    reliable: bool
    scripts: dict[str, float]
    mixed: bool

    def as_evidence(self) -> dict[str, Any]:
        return {"lang_detected": self.lang, "lang_prob": round(self.prob, 3), "lang_margin": round(self.margin, 3),
                "lang_method": self.method, "lang_reliable": self.reliable,
                "scripts": {k: round(v, 3) for k, v in self.scripts.items()}}


def _script_of(ch: str) -> str | None:
    code = ord(ch)
    for start, end, name in _SCRIPT_RANGES:
        if start <= code <= end:
            return name
    return "Other" if unicodedata.category(ch)[0] in "LM" else None


def _script_profile(text: str, limit: int = 3000) -> dict[str, float]:
    """Share of each script among the letters (and combining marks) of the first ``limit`` characters."""
    head = text[:limit]
    if head.isascii():  # most responses: all Latin, no need to count
        return {"Latin": 1.0} if _ASCII_LETTER.search(head) else {}
    counts: dict[str, int] = {}
    latin = len(_ASCII_LETTER.findall(head))
    for ch in _NON_ASCII.findall(head):
        if unicodedata.category(ch)[0] not in "LM":
            continue
        name = _script_of(ch)
        if name is not None:
            counts[name] = counts.get(name, 0) + 1
    if latin:
        counts["Latin"] = counts.get("Latin", 0) + latin
    total = sum(counts.values())
    return {k: v / total for k, v in sorted(counts.items(), key=lambda kv: -kv[1])} if total else {}


def _n_letters(text: str, limit: int = DETECT_MIN_LETTERS) -> int:
    """Letters in ``text``, counted up to ``limit`` (callers only compare with thresholds up to it)."""
    return sum(1 for _ in itertools.islice(_LETTER.finditer(text), limit))


_LETTER = re.compile(r"[^\W\d_]")
_ASCII_LETTER = re.compile(r"[A-Za-z]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_LEET_TOKEN = re.compile(r"(?=\S*[a-z])(?=\S*[0134578])\S+", re.IGNORECASE)
_ALPHA_TOKEN = re.compile(r"[a-z][a-z'-]*", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")


_WORDED_TOKEN = re.compile(r"(?<!\S)(?=\S*[^\W\d_])\S+")
_LEET_LIKE_TOKEN = re.compile(r"(?<!\S)(?=\S*[a-z])(?=\S*[0134578])\S+", re.IGNORECASE)


def _cipher_guess(text: str) -> str | None:
    """Leetspeak (letters mixed with 0134578 in many tokens) or Pig Latin (most words end in 'ay')."""
    digits = sum(map(text.count, "0134578"))
    if digits < 0.3 * (text.count(" ") + 1) * 0.5 and text.count("ay") < 3:
        return None  # too few digits for Leetspeak (nearly every word holds one), too few "ay" for Pig Latin
    worded = len(_WORDED_TOKEN.findall(text))  # tokens holding a letter (one C-level scan each)
    if worded < 3:
        return None
    if len(_LEET_LIKE_TOKEN.findall(text)) / worded >= 0.3:
        return "leet"
    words = [w.lower() for w in _ALPHA_TOKEN.findall(text)]
    if len(words) >= 3 and sum(1 for w in words if w.endswith("ay")) / len(words) >= 0.5:
        return "piglatin"
    return None


def detect_language(text: str, expected: str | None = None) -> Detection:
    """Identify the language of ``text`` (script, then English function words, then langdetect with a margin)."""
    expected = canon_lang(expected)
    scripts = _script_profile(text)
    if not scripts:
        return Detection(None, 0.0, 0.0, "no letters", False, {}, False)
    grouped: dict[str, float] = {}
    for name, share in scripts.items():
        key = "CJK" if name in ("Han", "Kana") else name
        grouped[key] = grouped.get(key, 0.0) + share
    by_share = sorted(grouped.items(), key=lambda kv: -kv[1])
    mixed = len(by_share) > 1 and by_share[1][1] >= MIXED_MIN_SHARE
    top = by_share[0][0]
    n_letters = _n_letters(text)
    script = top
    if top == "CJK":
        script = "Kana" if scripts.get("Kana", 0.0) >= 0.05 * grouped["CJK"] else "Han"
    if script != "Latin" and script in _SCRIPT_LANG:
        family = _SCRIPT_FAMILY.get(script)
        if family is None or (expected in family):
            lang = expected if family and expected in family else _SCRIPT_LANG[script]
            return Detection(lang, grouped[top], grouped[top] - (by_share[1][1] if len(by_share) > 1 else 0.0),
                             "script", n_letters >= 2, scripts, mixed)
        guesses = ranked(text, 1000)
        in_family = [g for g in guesses if g[0] in family]
        lang = in_family[0][0] if in_family else _SCRIPT_LANG[script]
        return Detection(lang, grouped[top], grouped[top] - (by_share[1][1] if len(by_share) > 1 else 0.0),
                         "script+langdetect", n_letters >= DETECT_MIN_LETTERS, scripts, mixed)
    if script != "Latin":
        return Detection(None, 0.0, 0.0, f"script {script}", False, scripts, mixed)
    # Latin script: ciphers first (detectors call them Welsh or Tagalog), then English function words.
    cipher = _cipher_guess(text[:CIPHER_TEST_CHARS])
    if cipher is not None:
        return Detection(cipher, 1.0, 1.0, "cipher shape", True, scripts, mixed)
    # the head of the text tells the language as well as the whole (and keeps long responses cheap)
    head = text[:EN_TEST_CHARS]
    head = head.replace("`", "'") if head.isascii() else head.translate(QUOTES)
    words = [w.casefold() for w in _WORD.findall(head)]
    if words:
        en_share = sum(1 for w in words if w in EN_WORDS) / len(words)
        if len(words) >= 4 and en_share >= 0.25:
            return Detection("en", en_share, en_share, "english function words", True, scripts, mixed)
    guesses = ranked(text, 1000)
    if not guesses:
        return Detection(None, 0.0, 0.0, "langdetect failed", False, scripts, mixed)
    best, prob = guesses[0]
    margin = prob - (guesses[1][1] if len(guesses) > 1 else 0.0)
    reliable = prob >= DETECT_MIN_PROB and margin >= DETECT_MARGIN and n_letters >= DETECT_MIN_LETTERS
    if words and len(words) < 4 and sum(1 for w in words if w in EN_WORDS) / len(words) >= 0.5:
        return Detection("en", prob, margin, "english function words (short)", False, scripts, mixed)
    return Detection(best, prob, margin, "langdetect", reliable, scripts, mixed)
