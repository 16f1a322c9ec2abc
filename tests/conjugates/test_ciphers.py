"""Tests for conj_harness.conjugates.ciphers.

The forward transforms must reproduce the paper's translated files, so the
main checks compare against the line-aligned reference data (read in place,
never copied into the repo).  The unit tests pin the individual rules so a
regression points at the rule that broke rather than at "line 137".
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conj_harness.conjugates.ciphers import agreement, leet, piglatin, unleet, unpiglatin


@pytest.fixture(scope="module")
def data(data_dir: Path) -> dict[str, list[str]]:
    # The files have no trailing newline, so split() gives exactly 500 lines.
    lines = {name: (data_dir / "icl_sentences" / f"{name}.txt").read_text(encoding="utf-8").split("\n")
             for name in ("en", "ls", "pl")}
    assert len(lines["en"]) == len(lines["ls"]) == len(lines["pl"]) == 500
    return lines


def _norm_words(line: str) -> list[str]:
    """Words compared case-insensitively, ignoring apostrophes and edge punctuation."""
    words = []
    for word in line.split():
        word = word.replace("'", "").replace("’", "").lower()
        words.append(re.sub(r"^\W+|\W+$", "", word))
    return words


def _word_accuracy(src: list[str], fn) -> float:
    ok = total = 0
    for line in src:
        expected, got = _norm_words(line), _norm_words(fn(line))
        assert len(got) == len(expected), (line, fn(line))
        total += len(expected)
        ok += sum(a == b for a, b in zip(expected, got))
    return ok / total


# --------------------------------------------------------------------------
# Agreement with the paper's files
# --------------------------------------------------------------------------


def test_leet_matches_reference(data: dict[str, list[str]]) -> None:
    share, mismatches = agreement(data["en"], data["ls"], leet)
    assert share == 1.0, mismatches[:10]  # the README's claim: 500/500


def test_piglatin_matches_reference(data: dict[str, list[str]]) -> None:
    share, mismatches = agreement(data["en"], data["pl"], piglatin)
    assert share == 1.0, mismatches[:10]  # the README's claim: 500/500


# --------------------------------------------------------------------------
# Leetspeak rules
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("Trash covered the landscape", "7r45H C0v3r3D 7h3 L4nd5c4p3"),
        ("I am my aunt's sister's daughter.", "1 4M MY 4un7'5 51573r'5 D4ugh73R."),
        # the last letter is capitalised only before nothing or a full stop
        ("Hang on, my kittens", "H4nG 0n, MY K1773n5"),
        ("random grammar?", "R4nd0M Gr4mm4r?"),
        ('the "bag" strategy', '7h3 "84g" 57r473gY'),
        ("open up… and", "0p3N Up… 4nD"),
        # a hyphenated compound is one word; apostrophes are inner characters
        ("three-egg omelets", "7hr33-3gG 0m3l375"),
        ("they'll upset", "7h3y'lL Up537"),
        ("I’ll stay", "1’lL 574Y"),
        ("I have 4 windows", "1 H4v3 4 W1nd0w5"),
    ],
)
def test_leet_examples(src: str, expected: str) -> None:
    assert leet(src) == expected


def test_leet_output_has_no_mapped_letters() -> None:
    text = "The quick brown fox jumps over the lazy dog; IT'S A TEST, Bob!"
    assert not set(leet(text)) & set("abeiostABEIOST")


@pytest.mark.parametrize("fn", [leet, unleet, piglatin, unpiglatin])
def test_empty_string(fn) -> None:
    assert fn("") == ""


@pytest.mark.parametrize("fn", [leet, unleet, piglatin, unpiglatin])
def test_whitespace_preserved_exactly(fn) -> None:
    text = "  Trash covered\tthe landscape.\n\nIt's a  skateboarding\r\npenguin!  \n"
    out = fn(text)
    assert re.findall(r"\s+", out) == re.findall(r"\s+", text)
    assert out.startswith("  ") and out.endswith("  \n")


# --------------------------------------------------------------------------
# Pig Latin rules
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("quite", "uiteqay"),
        ("that", "at-thay"),
        ("sprinkles", "inkles-spray"),
        ("high", "igh-hay"),
        ("a", "ayay"),
        ("am", "amyay"),
        ("any", "anyay"),
        ("didn't", "idntday"),
        ("didn’t", "idntday"),
        ("It's", "Itsyay"),
        ("Trash", "Ashtray"),
        ("ice-cream", "iceyay-eamcray"),
        ("cake.", "akecay."),
        ("Thigh-high", "Ighthay-igh-hay"),
        ("Sixty-Four", "Ixtysay-Ourfay"),
        # y: consonant at the start, vowel elsewhere
        ("yard", "ardyay"),
        ("why", "ywhay"),
        ("sky", "yskay"),
        # no vowel: untouched; numbers and surrounding punctuation kept
        ("Mr.", "Mr."),
        ('"stuff your', '"uffstay ouryay'),
        ("$1 or 97.", "$1 oryay 97."),
    ],
)
def test_piglatin_examples(src: str, expected: str) -> None:
    assert piglatin(src) == expected


def test_piglatin_full_sentence() -> None:
    src = "Trash covered the landscape like sprinkles do a birthday cake."
    expected = "Ashtray overedcay ethay andscapelay ikelay inkles-spray oday ayay irthdaybay akecay."
    assert piglatin(src) == expected


def test_piglatin_words_end_in_ay() -> None:
    words = piglatin("Trash covered the landscape like sprinkles do a birthday cake").split()
    assert all(word.endswith("ay") for word in words)


# --------------------------------------------------------------------------
# Inverses
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("7r45H C0v3r3D 7h3 L4nd5c4p3.", "Trash covered the landscape."),
        ("1'M 5ur3. 7h3Y 4r3", "I'm sure. They are"),
        ("19 D0g5 c057 $1", "19 dogs cost $1"),  # real numbers survive
        ("70 83 0R N07", "70 83 or not"),  # ...and so do all-digit words by default
    ],
)
def test_unleet_examples(src: str, expected: str) -> None:
    assert unleet(src) == expected


def test_unleet_digit_words_option() -> None:
    assert unleet("70 83 0R N07 70 83, 17'5 4 73573", digit_words=True) == (
        "To be or not to be, it's a 73573"
    )
    assert unleet("19 D0g5 c057 $1", digit_words=True) == "19 dogs cost $1"


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("Ashtray", "Trash"),
        ("at-thay", "that"),
        ("inkles-spray", "sprinkles"),
        ("Ighthay-igh-hay", "Thigh-high"),
        ("iceyay-eamcray", "ice-cream"),
        ("amyay", "am"),
        ("angryay,", "angry,"),
        ("asway", "was"),
        ("ithway", "with"),
        ("isskay", "kiss"),  # "skis" would have been written "is-skay"
        ("uiteqay", "quite"),
        ("ywhay", "why"),
        ("Mr.", "Mr."),
        ("$1 97.", "$1 97."),
    ],
)
def test_unpiglatin_examples(src: str, expected: str) -> None:
    assert unpiglatin(src) == expected


def test_round_trip_word_accuracy(data: dict[str, list[str]]) -> None:
    en = data["en"]
    # the README's figures (88.7%, 99.97%, 94.2% of words on the 500 reference sentences): the rules are
    # deterministic, so a change that moves them shows here
    assert round(_word_accuracy(en, lambda s: unleet(leet(s))), 3) == 0.887
    assert round(_word_accuracy(en, lambda s: unleet(leet(s), digit_words=True)), 4) == 0.9997
    assert round(_word_accuracy(en, lambda s: unpiglatin(piglatin(s))), 3) == 0.942


# --------------------------------------------------------------------------
# agreement()
# --------------------------------------------------------------------------


def test_agreement_reports_mismatches() -> None:
    share, mismatches = agreement(["a", "b", "c", "d"], ["A", "x", "C", "D"], str.upper)
    assert share == 0.75
    assert mismatches == [(1, "B", "x")]


def test_agreement_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        agreement(["a", "b"], ["A"], str.upper)
    with pytest.raises(ValueError):
        agreement([], [], str.upper)
