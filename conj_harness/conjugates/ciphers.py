"""Leetspeak and Pig Latin transforms used for conjugate prompting.

Conjugate prompting (Kotha et al., ICLR 2024) moves a prompt into a
"transformed" language that the model saw less of during fine-tuning, asks the
model there, and maps the answer back.  For the evaluation to be comparable
with the paper, the *forward* transforms here must reproduce the paper's own
translated files byte for byte, so every rule below was derived from (and is
checked against) the line-aligned reference files ``en.txt`` / ``ls.txt`` /
``pl.txt``: both forward transforms reproduce all 500 reference lines.

The *inverse* transforms are only best-effort: both ciphers lose information
(Leetspeak throws away case and collides ``4``/``1`` with the words "a"/"I";
Pig Latin deletes apostrophes and hides where the moved consonant cluster
began), so they are meant for decoding model answers, not for exact recovery.

Everything works on whitespace-separated tokens via ``re.sub(r"\\S+", ...)`` so
that all whitespace, including newlines, is preserved exactly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

__all__ = ["agreement", "leet", "piglatin", "unleet", "unpiglatin"]

_TOKEN_RE = re.compile(r"\S+")

# ---------------------------------------------------------------------------
# Leetspeak
# ---------------------------------------------------------------------------

_LEET: dict[str, str] = {"a": "4", "b": "8", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}
_UNLEET: dict[str, str] = {digit: letter for letter, digit in _LEET.items()}


def _leet_token(token: str) -> str:
    """Leet one whitespace-delimited token.

    The reference data treats the whole whitespace token as the "word":
    hyphenated compounds get a single capital at each end
    (``three-egg`` -> ``7hr33-3gG``) and apostrophes are ordinary inner
    characters (``they'll`` -> ``7h3y'lL``).  The first letter is always
    upper-cased, even after leading punctuation.  The last letter is
    upper-cased only when nothing but full stops follows it: in the data
    ``moment.`` -> ``M0m3n7`` style words keep the capital while every word
    followed by ``, ; : ! ? " …`` gets a lower-case last letter
    (``on,`` -> ``0n,``, ``grammar?`` -> ``Gr4mm4r?``), with no exceptions.
    """
    letter_positions = [i for i, ch in enumerate(token) if ch.isalpha()]
    if not letter_positions:
        return token  # numbers / pure punctuation pass through unchanged
    first, last = letter_positions[0], letter_positions[-1]
    upper_last = all(ch == "." for ch in token[last + 1 :])
    out: list[str] = []
    for i, ch in enumerate(token):
        sub = _LEET.get(ch.lower())
        if sub is not None:
            out.append(sub)
        elif ch.isalpha():
            out.append(ch.upper() if i == first or (i == last and upper_last) else ch.lower())
        else:
            out.append(ch)
    return "".join(out)


def leet(text: str) -> str:
    """Translate English text to the paper's Leetspeak.

    a/b/e/i/o/s/t become 4/8/3/1/0/5/7 everywhere (case-insensitively); the
    remaining letters follow the first/last-letter capitalisation rule of
    :func:`_leet_token`.  Whitespace and punctuation are left untouched.
    """
    return _TOKEN_RE.sub(lambda m: _leet_token(m.group()), text)


_SENTENCE_START_RE = re.compile(r"(^|[.!?…]\s+)([a-z])", re.MULTILINE)
_PRONOUN_I_RE = re.compile(r"(?<![\w'’])i(?!\w)")


# Common English words spelt only with the letters leet turns into digits.
# Their Leetspeak forms are pure digit strings ("70" = "to", "17" = "it").
_DIGIT_WORDS = frozenset(
    [
        "a", "i", "as", "at", "be", "is", "it", "so", "to", "its", "too", "toe", "tie", "ties", "see", "set", "sets",
        "sit", "sits", "sat", "eat", "eats", "ate", "tea", "teas", "sea", "seas", "bit", "bits", "bet", "bets",
        "bat", "bats", "bee", "bees", "boo", "oat", "oats", "tab", "tabs", "sob", "base", "bass", "beast", "beat",
        "beats", "best", "bias", "bite", "bites", "boat", "boats", "boast", "boot", "boots", "boss", "east", "oboe",
        "oasis", "seat", "seats", "site", "sites", "test", "tests", "taste", "state", "toast", "toss", "tote",
        "tease", "obese", "asset", "assets", "assist", "assess",
    ]
)
_PURE_NUMBER_RE = re.compile(r"([\"'“‘(\[]*)([0-9]+(?:['’][0-9]+)*)([.,;:!?…\"'”’)\]]*)")


def unleet(text: str, *, digit_words: bool = False) -> str:
    """Best-effort inverse of :func:`leet`.

    Digits are mapped back to letters only inside tokens that contain at least
    one letter, so genuine numbers ("19", "$1", "97.") survive.  The price is
    that words made only of a/b/e/i/o/s/t ("a", "I", "to", "it", "is") leet to
    pure digit strings and stay digits.  With ``digit_words=True`` a pure digit
    token (surrounding punctuation allowed) is decoded when the result is a
    common English word from ``_DIGIT_WORDS``; that recovers most of them but
    also turns real numbers such as "4" or "1" into "a"/"I", so it is off by
    default for answers that may contain numbers.  Leetspeak keeps no real
    case information, so text is lower-cased and then given a capital at
    sentence starts and for the pronoun "I", which makes decoded model answers
    readable without pretending to recover the original casing.
    """

    def fix(match: re.Match[str]) -> str:
        token = match.group()
        if not any(ch.isalpha() for ch in token):
            if digit_words:
                number = _PURE_NUMBER_RE.fullmatch(token)
                if number is not None:
                    word = "".join(_UNLEET.get(ch, ch) for ch in number.group(2))
                    if word.replace("'", "").replace("’", "") in _DIGIT_WORDS:
                        return number.group(1) + word + number.group(3)
            return token
        return "".join(_UNLEET.get(ch, ch) for ch in token).lower()

    lowered = _TOKEN_RE.sub(fix, text)
    lowered = _PRONOUN_I_RE.sub("I", lowered)
    return _SENTENCE_START_RE.sub(lambda m: m.group(1) + m.group(2).upper(), lowered)


# ---------------------------------------------------------------------------
# Pig Latin
# ---------------------------------------------------------------------------

_VOWELS = frozenset("aeiou")
_APOSTROPHES = ("'", "’")
# A token is split into leading non-letters, a core, and trailing non-letters.
# Only the core is translated, so quotes and sentence punctuation stay put.
_PL_TOKEN_RE = re.compile(r"([^A-Za-z]*)(.*?)([^A-Za-z]*)", re.DOTALL)


def _pig_part(word: str) -> str:
    """Pig-Latinise one hyphen-free run of letters.

    Rules read off the reference file:

    * vowel-initial words get ``yay`` (``am`` -> ``amyay``), but words already
      ending in ``y`` only get ``ay`` (``any`` -> ``anyay``): the translator
      never writes a doubled ``yy``;
    * otherwise the leading consonant cluster moves to the end plus ``ay``.
      ``y`` is a consonant only as the first letter (``yard`` -> ``ardyay``)
      and a vowel elsewhere (``why`` -> ``ywhay``, ``sky`` -> ``yskay``);
      ``u`` is always a vowel, so ``qu`` splits (``quite`` -> ``uiteqay``);
    * a hyphen separates stem and cluster when they would otherwise double a
      letter at the seam (``that`` -> ``at-thay``, ``test`` -> ``est-tay``);
    * words without any vowel (``Mr``) are left unchanged;
    * a capital first letter moves to the new first letter
      (``Trash`` -> ``Ashtray``); all-caps words stay all-caps.
    """
    if not word:
        return word
    lower = word.lower()
    if lower[0] in _VOWELS:
        return word + ("ay" if lower[-1] == "y" else "yay")
    i = 1 if lower[0] == "y" else 0
    while i < len(lower) and lower[i] not in _VOWELS and lower[i] != "y":
        i += 1
    if i >= len(lower):
        return word
    stem, cluster = word[i:], word[:i]
    if word[0].isupper() and not word.isupper():
        stem = stem[0].upper() + stem[1:]
        cluster = cluster.lower()
    seam = "-" if stem[-1].lower() == cluster[0].lower() else ""
    suffix = "AY" if word.isupper() and len(word) > 1 else "ay"
    return stem + seam + cluster + suffix


def _pig_token(token: str) -> str:
    """Translate one whitespace token, keeping surrounding punctuation.

    Apostrophes inside the word are dropped (``didn't`` -> ``idntday``,
    including curly ones) and hyphenated compounds are translated part by
    part (``ice-cream`` -> ``iceyay-eamcray``), as in the reference data.
    """
    match = _PL_TOKEN_RE.fullmatch(token)
    assert match is not None  # the pattern matches any string
    prefix, core, suffix = match.groups()
    if not core:
        return token
    for apostrophe in _APOSTROPHES:
        core = core.replace(apostrophe, "")
    return prefix + "-".join(_pig_part(part) for part in core.split("-")) + suffix


def piglatin(text: str) -> str:
    """Translate English text to the paper's Pig Latin (see :func:`_pig_part`)."""
    return _TOKEN_RE.sub(lambda m: _pig_token(m.group()), text)


# Scoring tables for guessing where the moved consonant cluster started.
# Without a dictionary, ``unpiglatin`` must split the consonant run before the
# final "ay" into coda (end of the original word) + onset (moved cluster).
# Always taking the longest legal onset (``ashtray`` -> "trash") breaks the
# commonest words (``asway`` -> "swa", ``ishay`` -> "shi"), so each legal
# (onset, coda) split gets a rough English plausibility score instead.
# The tiers encode general phonotactics, not words from any data set.
_ONSET_SCORES: dict[str, float] = {
    **dict.fromkeys("bcdfghjklmnpqrstvwxyz", 0.0),
    **dict.fromkeys(["th", "sh", "ch", "wh"], 0.0),  # digraphs as common as one letter
    **dict.fromkeys([
        "tr", "pr", "st", "gr", "br", "cr", "fr", "dr", "pl", "cl", "bl", "fl", "sp", "sl", "sk", "sc", "sw", "sm",
        "sn",
    ], -0.5),
    **dict.fromkeys(
        ["gl", "kn", "wr", "ph", "tw", "gh", "gn", "dw", "rh", "ps", "pn", "kl", "kr", "sq", "sv", "ts"], -1.0),
    **dict.fromkeys(["str", "spr", "scr", "thr", "shr", "spl"], -0.75),
    **dict.fromkeys(["squ", "sch", "chr", "phr", "chl", "phl", "sph", "scl"], -1.5),
}
# Legal word-final consonant clusters (before an optional plural/verb "s").
_CODAS_BASE = frozenset(
    [
        "b", "c", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "w", "x", "z", "ck", "ct", "ft", "ld", "lf",
        "lk", "ll", "lm", "lp", "lt", "mb", "mn", "mp", "nd", "ng", "nk", "nt", "pt", "rb", "rc", "rd", "rf", "rg",
        "rk", "rl", "rm", "rn", "rp", "rt", "sk", "sp", "ss", "st", "sh", "ch", "th", "gh", "ph", "ff", "zz", "tt",
        "dd", "gg", "nn", "rr", "bb", "pp", "lb", "xt", "tch", "nch", "rch", "lch", "ght", "rth", "nth", "lth",
        "dth", "pth", "fth", "mpt", "nct", "rst", "rld", "ngth",
    ]
)
_RARE_CODAS = frozenset(["h"])


def _coda_score(coda: str, stem_vowel: str) -> float | None:
    """Plausibility of ``coda`` ending the original word; None if illegal.

    An empty coda means the word ended in a vowel, which is common for
    e/o/y ("the", "go", "my") but rare for a/i/u.
    """
    if not coda:
        return 0.0 if stem_vowel in "eoy" else -1.5
    if coda in _RARE_CODAS:
        return -1.0
    base = coda[:-1] if coda.endswith("s") and len(coda) > 1 and coda != "ss" else coda
    if base in _CODAS_BASE or (base != coda and base in _RARE_CODAS):
        return -0.5 * (len(base) - 1) - (0.5 if base != coda else 0.0)
    return None


# When stripping "yay" would leave an ending English words (almost) never have
# (``angryay`` -> "angr", ``onlyay`` -> "onl"), the word was more likely a
# vowel-initial word ending in "y" that only received "ay".
_Y_WORD_ENDINGS = re.compile(r"(?:[^aeiouy]r|[^aeiouyl]l|...ll|nc|wa)$")


def _unpig_part(word: str) -> str:
    """Undo :func:`_pig_part` for one hyphen-free run of letters (best effort).

    * ``yay`` ending: a vowel-initial word (so ``earyay`` gives "ear", never
      "year"), except that implausible leftovers like "angr" are read as
      "angry" + "ay".
    * otherwise the consonant run before ``ay`` is split into coda + onset by
      the best (onset, coda) plausibility score, ties going to the longer
      onset.  Splits where coda and onset meet in the same letter are
      excluded, because the forward rule would have written a hyphen there
      (``isskay`` is "kiss", not "skis").
    """
    lower = word.lower()
    if len(lower) < 3 or not lower.endswith("ay"):
        return word
    if lower.endswith("yay") and len(lower) > 3:
        base = word[:-3]
        if _Y_WORD_ENDINGS.search(base.lower()) and base[0].lower() in _VOWELS:
            return word[:-2]  # "angryay" -> "angry"
        return base
    rest = word[:-2]
    lower_rest = rest.lower()
    start = len(lower_rest)
    while start > 0 and lower_rest[start - 1] not in _VOWELS and lower_rest[start - 1] != "y":
        start -= 1
    if start == 0 or start == len(lower_rest):
        return word  # no vowel in the stem, or no consonant moved: not Pig Latin
    run = lower_rest[start:]
    best: tuple[float, int] | None = None
    for k in range(len(run)):
        onset, coda = run[k:], run[:k]
        onset_score = _ONSET_SCORES.get(onset)
        coda_score = _coda_score(coda, lower_rest[start - 1])
        if onset_score is None or coda_score is None:
            continue
        if coda and coda[-1] == onset[0]:
            continue  # the forward transform would have hyphenated this seam
        candidate = (onset_score + coda_score, len(onset))
        if best is None or candidate > best:
            best = candidate
    onset_len = best[1] if best is not None else 1
    split = len(lower_rest) - onset_len
    return _join_cluster(rest[split:], rest[:split], word)


def _join_cluster(cluster: str, stem: str, original: str) -> str:
    """Put a recovered consonant cluster back in front, restoring a leading capital."""
    if original.isupper() and len(original) > 1:
        return (cluster + stem).upper()
    if original[:1].isupper():
        return cluster[:1].upper() + cluster[1:].lower() + stem.lower()
    return cluster + stem


_CLUSTER_PIECE_RE = re.compile(r"([b-df-hj-np-tv-zB-DF-HJ-NP-TV-Z]+)(ay|AY)")


def _unpig_token(token: str) -> str:
    """Undo :func:`_pig_token` for one whitespace token.

    Hyphens are ambiguous: ``igh-hay`` is one word ("high") written with the
    seam hyphen, while ``iceyay-eamcray`` is a compound.  A piece consisting of
    consonants + ``ay`` cannot be the Pig Latin of any word on its own (that
    always contains a vowel), so it is read as the seam form and glued to the
    preceding piece; all other pieces are decoded separately.
    """
    match = _PL_TOKEN_RE.fullmatch(token)
    assert match is not None
    prefix, core, suffix = match.groups()
    if not core:
        return token
    pieces = core.split("-")
    words: list[str] = []
    i = 0
    while i < len(pieces):
        piece = pieces[i]
        nxt = pieces[i + 1] if i + 1 < len(pieces) else None
        seam = _CLUSTER_PIECE_RE.fullmatch(nxt) if nxt else None
        if seam is not None and piece and any(ch.lower() in _VOWELS for ch in piece):
            words.append(_join_cluster(seam.group(1), piece, piece))
            i += 2
        else:
            words.append(_unpig_part(piece))
            i += 1
    return prefix + "-".join(words) + suffix


def unpiglatin(text: str) -> str:
    """Best-effort inverse of :func:`piglatin`, word by word.

    Tokens that do not look like Pig Latin (numbers, ``Mr.``, words not
    ending in ``ay``) are returned unchanged; apostrophes removed by the
    forward transform cannot be restored.
    """
    return _TOKEN_RE.sub(lambda m: _unpig_token(m.group()), text)


# ---------------------------------------------------------------------------
# Evaluation helper
# ---------------------------------------------------------------------------


def agreement(
    src_lines: Sequence[str],
    ref_lines: Sequence[str],
    fn: Callable[[str], str],
) -> tuple[float, list[tuple[int, str, str]]]:
    """Share of lines where ``fn(src) == ref``, plus the mismatches.

    Returns ``(share, [(index, got, expected), ...])`` so a failing check can
    show exactly which lines differ.  Misaligned or empty inputs raise
    ``ValueError`` instead of yielding a vacuous score, because a silently
    truncated comparison would hide a broken data file.
    """
    if len(src_lines) != len(ref_lines):
        raise ValueError(f"line count mismatch: {len(src_lines)} source vs {len(ref_lines)} reference")
    if not src_lines:
        raise ValueError("agreement() needs at least one line")
    mismatches: list[tuple[int, str, str]] = []
    for index, (src, ref) in enumerate(zip(src_lines, ref_lines)):
        got = fn(src)
        if got != ref:
            mismatches.append((index, got, ref))
    return 1.0 - len(mismatches) / len(src_lines), mismatches
