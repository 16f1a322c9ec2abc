"""Is this translation really in the target language? A language check with a margin, careful with short strings.

Machine translation fails quietly: googletrans hands back the source text on a rate limit, MT models copy names
and numbers, and a wrong language code yields a fluent translation into the wrong language. Every translation is
checked before it is used:

* not empty, and not the unchanged source text (strings without letters - numbers, punctuation - are exempt);
* langdetect (seeded, so deterministic) must put the target first with probability >= ``MIN_PROB``;
* a detection of a close relative (Bulgarian read as Russian) passes with that reason;
* short strings (under ``SHORT_CHARS`` letters) carry too little signal for that: they fail only when langdetect
  is confident they are still in the *source* language;
* ciphers and identity are exempt (detectors read Leetspeak and Pig Latin as Welsh, Somali, Tagalog...), and a
  target langdetect does not know is passed as "unverifiable", with the reason recorded.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

from conj_harness.text import langid

MIN_PROB = 0.5
SHORT_CHARS = 20
SHORT_SOURCE_PROB = 0.9

# Close relatives langdetect mixes up on single sentences (measured on XNLI: Bulgarian read as Russian). A detection
# of a sibling passes, with the reason recorded; any other language fails.
_SIBLINGS = [{"bg", "ru", "mk", "uk"}, {"hr", "sr", "bs", "sl"}, {"id", "ms"}, {"no", "nb", "nn", "da", "sv"},
             {"cs", "sk"}, {"hi", "mr", "ne"}, {"ur", "fa"}]


def siblings(a: str, b: str) -> bool:
    return any(a in group and b in group for group in _SIBLINGS)


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    reason: str
    detected: str | None = None
    prob: float = 0.0


def _letters(text: str) -> int:
    return sum(1 for ch in text if unicodedata.category(ch).startswith("L"))


def _detector_langs() -> set[str]:
    from langdetect import DetectorFactory, detector_factory

    DetectorFactory.seed = 0
    detector_factory.init_factory()
    return {langid.ALIASES.get(code, code) for code in detector_factory._factory.get_lang_list()}


@functools.cache
def supported() -> set[str]:
    """The languages langdetect knows (loaded once)."""
    return _detector_langs()


def detect(text: str) -> list[tuple[str, float]]:
    """(language, probability) pairs, most likely first; empty when langdetect cannot decide (the judge's call:
    :func:`conj_harness.text.langid.ranked`)."""
    return langid.ranked(text)


def check(source_text: str, translation: str, target: str, source: str = "en") -> CheckResult:
    """Judge one translation (see the module docstring for the rules)."""
    from conj_harness import conjugates

    if not translation.strip():
        return CheckResult(False, "empty translation")
    if conjugates.get(target).kind != "language":
        return CheckResult(True, f"{target} is a rule-based conjugate: exempt")
    letters = _letters(source_text)
    if letters == 0:
        return CheckResult(True, "no letters to translate")
    if translation.strip().casefold() == source_text.strip().casefold():
        return CheckResult(False, "unchanged: the translation equals the source text")
    if target not in supported():
        return CheckResult(True, f"unverifiable: langdetect does not know {target!r}")
    ranked = detect(translation)
    if not ranked:
        return CheckResult(_letters(translation) < SHORT_CHARS, "no language detected")
    top, prob = ranked[0]
    target_prob = dict(ranked).get(target, 0.0)
    if _letters(translation) < SHORT_CHARS:
        if top == source and prob >= SHORT_SOURCE_PROB and source != target:
            return CheckResult(False, f"short string still looks like {source} (p={prob:.2f})", top, prob)
        return CheckResult(True, "short string: too little text to judge reliably", top, prob)
    if top == target and prob >= MIN_PROB:
        return CheckResult(True, "detected target", top, prob)
    if siblings(top, target) and top != source:
        return CheckResult(True, f"detected {top}, a close relative of {target} that langdetect confuses", top, prob)
    return CheckResult(False, f"detected {top} (p={prob:.2f}), target {target} (p={target_prob:.2f})", top, prob)
