"""Finding the phrase lists' entries in a response: compiled once per list, searched fast, returned as :class:`Hit`.

The lists are data (:mod:`conj_harness.judge.phrases`); this module turns them into regular expressions (a phrase
starts at a word boundary, its spaces match any whitespace; no boundary for scripts written without spaces) and
finds every hit in normalised text (:func:`conj_harness.text.normalize.normalize`). Which hit decides what is the
rules' business (:mod:`conj_harness.judge.rules`), not this module's.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache

from conj_harness.conjugates import ciphers
from conj_harness.judge.phrases import PHRASES
from conj_harness.text.normalize import normalize

__all__ = ["Hit", "cipher_hits", "find", "hits_per_segment", "matcher_density"]

#: Hit kinds: a refusal (``refuse``, with ``warn`` set for the ones that only warn), a catch-all that never decides
#: REFUSE on its own (``weak``), a compliance opening (``answer``).
KINDS = ("refuse", "weak", "answer")


@dataclass(frozen=True)
class Hit:
    """One phrase found in one text: which list and entry, where (characters, and English-equivalent ``pos``)."""

    list: str  # "en", "ja", "en(leet)", "en(unleet)", "en(back-translation)"
    kind: str  # one of KINDS
    phrase: str  # the entry as written ("re:..." entries: "re:" + the matched text)
    match: str
    offset: int
    pos: float
    warn: bool = False

    def as_evidence(self) -> dict[str, object]:
        return {"list": self.list, "kind": self.kind, "phrase": self.phrase, "pos": self.pos}


@dataclass(frozen=True)
class _Phrase:
    phrase: str  # as written in the list
    needle: str | None  # a literal the normalised text must contain for the regex to be tried (None: always try)
    regex: re.Pattern[str]


@dataclass(frozen=True)
class _Compiled:
    name: str
    density: float
    #: needle -> (kind, phrase) for every kind ("refuse", "weak", "answer", "not_refuse"): one pass over the needles
    #: finds the candidates of all kinds (most needles are absent from a text, and the scan is the judge's hot loop)
    by_needle: dict[str, list[tuple[str, _Phrase]]]
    always: tuple[tuple[str, _Phrase], ...]  # phrases without a needle (regular expressions): always tried
    warn_phrases: frozenset[str] = frozenset()  # refuse phrases (as written) that only warn
    warn_patterns: tuple[re.Pattern[str], ...] = ()  # ...and the regular expressions of those written as re:

    def kind_count(self, kind: str) -> int:
        return sum(k == kind for entries in (*self.by_needle.values(), self.always) for k, _ in entries)


def _phrase(phrase: str, spacing: str) -> _Phrase | None:
    if phrase.startswith("re:"):
        return _Phrase(phrase, None, re.compile(phrase[3:]))
    norm = normalize(phrase)
    if not norm:
        return None
    parts = norm.split(" ")
    joiner = r"\s*" if spacing == "none" else r"\s+"
    body = joiner.join(re.escape(part) for part in parts)
    if spacing != "none":
        if norm[:1].isalnum():
            # word boundary before the phrase, written after its first character so that the pattern starts
            # with a literal (re's fast prefix search; a leading look-behind makes every search scan the text)
            first = re.escape(norm[0])
            body = first + rf"(?<!\w{first})" + body[len(first):]
        if spacing == "whole" and norm[-1:].isalnum():
            body += r"(?!\w)"
    return _Phrase(phrase, max(parts, key=len), re.compile(body))


def _compile(name: str, density: float, spacing: str, lists: dict[str, Sequence[str]]) -> _Compiled:
    by_needle: dict[str, list[tuple[str, _Phrase]]] = {}
    always: list[tuple[str, _Phrase]] = []
    warn = tuple(lists.get("warn", ()))
    for kind in (*KINDS, "not_refuse"):
        for p in lists.get(kind, ()):
            compiled = _phrase(p, spacing)
            if compiled is None:
                continue
            if compiled.needle is None:
                always.append((kind, compiled))
            else:
                by_needle.setdefault(compiled.needle, []).append((kind, compiled))
    return _Compiled(name, density, by_needle, tuple(always),
                     frozenset(p for p in warn if not p.startswith("re:")),
                     tuple(re.compile(p[3:]) for p in warn if p.startswith("re:")))


def _lists_of(lang: str) -> dict[str, Sequence[str]]:
    """A language's lists as the matcher searches them: the written warnings are refusal phrases too."""
    entry = PHRASES[lang]
    warn = entry.get("warn", ())
    return {"refuse": (*entry.get("refuse", ()), *(p for p in warn if not p.startswith("re:"))), "warn": warn,
            "weak": entry.get("weak", ()), "answer": entry.get("answer", ()),
            "not_refuse": entry.get("not_refuse", ())}


@cache
def _matcher(name: str) -> _Compiled:
    """Compiled lists: a language code, or 'en(leet)' / 'en(piglatin)' for the ciphered English phrases."""
    if name in PHRASES:
        entry = PHRASES[name]
        spacing = entry.get("spacing", "whole" if name == "en" else "words")
        return _compile(name, float(entry.get("density", 1.0)), spacing, _lists_of(name))
    cipher = name[len("en("):-1]
    encode = ciphers.leet if cipher == "leet" else ciphers.piglatin
    lists: dict[str, Sequence[str]] = {
        kind: [encode(p) for p in phrases if not p.startswith("re:")] for kind, phrases in _lists_of("en").items()}
    return _compile(name, 1.0, "whole", lists)


def matcher_density(lang: str) -> float:
    """English-equivalent characters per character of ``lang`` (1.0 for a language without a list)."""
    return _matcher(lang).density if lang in PHRASES else 1.0


def _spans(compiled: _Compiled, text: str) -> dict[str, list[tuple[int, int, str]]]:
    """kind -> (start, end, phrase) of every match; the literal needle check keeps this fast."""
    out: dict[str, list[tuple[int, int, str]]] = {kind: [] for kind in (*KINDS, "not_refuse")}
    present = [entries for needle, entries in compiled.by_needle.items() if needle in text]
    for entries in (*present, compiled.always):
        for kind, ph in entries:
            for m in ph.regex.finditer(text):  # a plain loop: most phrases match nothing, and a generator per
                # phrase cost a fifth of the judge's time
                regex = ph.needle is None and ph.phrase.startswith("re:")
                out[kind].append((m.start(), m.end(), f"re:{m.group()}" if regex else ph.phrase))
    return out


def _warns(compiled: _Compiled, phrase: str, match: str) -> bool:
    if phrase.startswith("re:"):
        return any(p.fullmatch(match) for p in compiled.warn_patterns)
    return phrase in compiled.warn_phrases


def find(name: str, text: str) -> list[Hit]:
    """Hits of list ``name`` in normalised ``text`` by position, the longest phrase per start and kind; refusal
    hits inside a look-alike (``not_refuse``: "I'm sorry to hear") dropped."""
    compiled = _matcher(name)
    spans = _spans(compiled, text)
    blocked = [(s, e) for s, e, _ in spans["not_refuse"]]
    hits = []
    for kind in KINDS:
        best: dict[int, tuple[int, str]] = {}
        for start, end, phrase in spans[kind]:
            if kind != "answer" and any(s <= start < e for s, e in blocked):
                continue
            if start not in best or end - start > best[start][0]:
                best[start] = (end - start, phrase)
        for start in sorted(best):
            length, phrase = best[start]
            match = text[start:start + length]
            hits.append(Hit(compiled.name, kind, phrase, match, start, round(start * compiled.density, 1),
                            warn=kind == "refuse" and _warns(compiled, phrase, match)))
    return hits


def hits_per_segment(norms: list[str], codes: Sequence[str]) -> list[list[Hit]]:
    """Hits of every list in ``codes`` (languages without a list are skipped), per segment, from one search over
    all segments (joined by NUL, which no phrase pattern crosses); offsets count from each segment's start."""
    joined = "\x00".join(norms)
    starts, at = [], 0
    for norm in norms:
        starts.append(at)
        at += len(norm) + 1
    per: list[list[Hit]] = [[] for _ in norms]
    for code in codes:
        if code not in PHRASES:
            continue
        density = _matcher(code).density
        for h in find(code, joined):
            k = bisect.bisect_right(starts, h.offset) - 1  # log time per hit: responses may hold 10k segments
            if k:
                offset = h.offset - starts[k]
                h = replace(h, offset=offset, pos=round(offset * density, 1))
            per[k].append(h)
    return per


def cipher_hits(cipher: str, text: str, norm: str) -> tuple[list[Hit], str, str]:
    """Hits in a Leetspeak / Pig Latin text: decoded and matched in English, and the English phrases encoded and
    matched on the text. Returns the hits, the decoded English and its normal form (which the shape checks read)."""
    decoded = ciphers.unleet(text, digit_words=True) if cipher == "leet" else ciphers.unpiglatin(text)
    decoded_norm = normalize(decoded)
    label = "en(unleet)" if cipher == "leet" else "en(unpiglatin)"
    hits = [replace(h, list=label) for h in find("en", decoded_norm)]
    return hits + find(f"en({cipher})", norm), decoded, decoded_norm


def relabel(hits: Sequence[Hit], name: str) -> list[Hit]:
    """The same hits under another list name (a back-translation's hits are ``en(back-translation)``)."""
    return [replace(h, list=name) for h in hits]
