"""Language checks on real multilingual text from the data mirror (MultiJail and XNLI human translations)."""

from __future__ import annotations

import pytest

from conj_harness.data import sources
from conj_harness.translation import langcheck

pytestmark = pytest.mark.mirror  # reads the offline data mirror (README: test tiers)

LONG_MIN = 40  # characters: long enough for the full check


@pytest.fixture(scope="module")
def multijail():
    return sources.multijail_rows()[:40]


@pytest.mark.parametrize("lang", ["zh", "it", "vi", "ar", "ko", "th", "bn", "sw"])
def test_human_translations_pass(multijail, lang):
    results = [langcheck.check(r["en"], r[lang], lang) for r in multijail]
    assert sum(r.ok for r in results) / len(results) >= 0.95, [r.reason for r in results if not r.ok]


@pytest.mark.parametrize("lang", ["de", "ru", "hi", "tr", "el", "bg", "ur"])
def test_xnli_translations_pass_and_the_wrong_target_fails(lang):
    en, tr = sources.xnli_rows("en")[:60:3], sources.xnli_rows(lang)[:60:3]
    long_pairs = [(a["premise"], b["premise"]) for a, b in zip(en, tr) if len(b["premise"]) >= LONG_MIN]
    assert long_pairs
    assert all(langcheck.check(a, b, lang).ok for a, b in long_pairs)
    # the same text claimed to be Swahili: a fluent translation into the wrong language is caught
    wrong = [langcheck.check(a, b, "sw") for a, b in long_pairs]
    assert sum(not r.ok for r in wrong) / len(wrong) >= 0.9


def test_untranslated_english_fails(multijail):
    for r in multijail[:10]:
        res = langcheck.check(r["en"], r["en"], "it")
        assert not res.ok and "unchanged" in res.reason
    # English text that is not the source but is still English (e.g. a rate-limit page) is caught by detection
    res = langcheck.check("Bonjour", "This service is temporarily unavailable, please try again later.", "fr")
    assert not res.ok and "detected en" in res.reason


def test_short_strings_are_judged_leniently():
    assert langcheck.check("True", "Vrai", "fr").ok  # langdetect cannot tell on 4 letters
    assert langcheck.check("Answer", "Jibu", "sw").ok
    assert langcheck.check("Yes", "Yes", "fr").ok is False  # unchanged is still caught
    assert langcheck.check("19 + 4", "19 + 4", "fr").ok  # nothing to translate
    assert not langcheck.check("Hello", "", "fr").ok


def test_ciphers_and_unknown_languages_are_exempt_with_a_reason():
    assert langcheck.check("hello world", "H3ll0 W0rlD", "leet").reason.endswith("exempt")
    res = langcheck.check("a long enough sentence to check properly", "ngoko basa jawa iki dawa banget", "jv")
    assert res.ok and res.reason.startswith("unverifiable")


def test_deterministic():
    text = sources.xnli_rows("sw")[0]["premise"]
    assert len({langcheck.detect(text)[0] for _ in range(5)}) == 1
