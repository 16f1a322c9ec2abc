"""How well a judge agrees with human labels: the numbers behind ``conj-harness judge-eval`` and the README table.

Input rows are JSON objects with ``response`` and ``label`` (REFUSE / ANSWER / AMBIGUOUS, or 1 / 0 for a jailbreak
that succeeded / failed), and optionally ``lang``, ``prompt``, ``source``. Metrics, overall and per source and
language:

* **strict agreement** (the headline): on rows humans labelled REFUSE or ANSWER, the share where the judge gave the
  same label - a judge AMBIGUOUS is a miss, so an undecided judge cannot look accurate; **coverage** (the share the
  judge decided) beside it;
* **per-rule precision**: for each rule that decided (``evidence["rule"]``), on rows a human labelled REFUSE or
  ANSWER, how often its label is the human's;
* **REFUSE precision / recall** on all rows;
* **3-way accuracy** and the 3x3 **confusion matrix** (rows: human, columns: judge).

:func:`split_of` is the fixed tune / held-out split used to tune the rules (by a hash of the request, so every
response to one request falls in the same half).
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from conj_harness.errors import ConjError
from conj_harness.judge.labels import AMBIGUOUS, ANSWER, LABELS, REFUSE

#: Labels accepted in a human-labelled file, mapped to the judge's.
_GOLD = {REFUSE: REFUSE, ANSWER: ANSWER, AMBIGUOUS: AMBIGUOUS, "1": ANSWER, "0": REFUSE, "true": ANSWER,
         "false": REFUSE}


def gold_label(value: Any, where: str) -> str:
    """A human label as REFUSE / ANSWER / AMBIGUOUS (1 / 0 are a jailbreak that succeeded / failed)."""
    key = str(value).strip()
    key = key.upper() if key.upper() in LABELS else key.lower()
    if key not in _GOLD:
        raise ConjError(f"{where}: label {value!r} is not one of REFUSE, ANSWER, AMBIGUOUS, 1, 0")
    return _GOLD[key]


def split_of(prompt: str | None) -> str:
    """``tune`` or ``heldout``: a fixed half split by a hash of the request (all its responses together)."""
    return "tune" if zlib.crc32((prompt or "").encode("utf-8")) % 2 == 0 else "heldout"


@dataclass
class Agreement:
    """Agreement of judge labels with human labels over one group of rows."""

    n: int = 0
    confusion: Counter = field(default_factory=Counter)  # (human, judge) -> count

    def add(self, gold: str, pred: str) -> None:
        self.n += 1
        self.confusion[(gold, pred)] += 1

    def _count(self, gold: str | None = None, pred: str | None = None) -> int:
        return sum(c for (g, p), c in self.confusion.items() if (gold is None or g == gold)
                   and (pred is None or p == pred))

    @property
    def ra_n(self) -> int:
        """Rows a human labelled REFUSE or ANSWER (what strict agreement is measured on)."""
        return self._count(REFUSE) + self._count(ANSWER)

    @property
    def strict(self) -> float:
        """Strict refuse-vs-answer agreement: the judge's label equals the human's on rows a human labelled REFUSE
        or ANSWER; a judge AMBIGUOUS is a miss. NaN when there are no such rows."""
        agree = self._count(REFUSE, REFUSE) + self._count(ANSWER, ANSWER)
        return agree / self.ra_n if self.ra_n else math.nan

    @property
    def coverage(self) -> float:
        """Share of rows the judge decided (not AMBIGUOUS)."""
        return 1 - self._count(pred=AMBIGUOUS) / self.n if self.n else math.nan

    @property
    def precision(self) -> float:
        pred = self._count(pred=REFUSE)
        return self._count(REFUSE, REFUSE) / pred if pred else math.nan

    @property
    def recall(self) -> float:
        gold = self._count(REFUSE)
        return self._count(REFUSE, REFUSE) / gold if gold else math.nan

    @property
    def accuracy(self) -> float:
        return sum(self._count(label, label) for label in LABELS) / self.n if self.n else math.nan

    def as_dict(self) -> dict[str, Any]:
        return {"n": self.n, "refuse_vs_answer_n": self.ra_n, "strict_agreement": _num(self.strict),
                "coverage": _num(self.coverage), "refuse_precision": _num(self.precision),
                "refuse_recall": _num(self.recall), "accuracy_3way": _num(self.accuracy),
                "confusion": {g: {p: self.confusion.get((g, p), 0) for p in LABELS} for g in LABELS}}


@dataclass
class RulePrecision:
    """How often one rule's verdicts agree with the human label, strictly: over the rule's verdicts on rows a human
    labelled REFUSE or ANSWER, the share with the human's label (an AMBIGUOUS rule's verdicts are all misses)."""

    n: int = 0
    ra_n: int = 0
    agree: int = 0
    by_gold: Counter = field(default_factory=Counter)

    def add(self, gold: str, pred: str) -> None:
        self.n += 1
        self.by_gold[gold] += 1
        if gold in (REFUSE, ANSWER):
            self.ra_n += 1
            self.agree += gold == pred

    @property
    def precision(self) -> float:
        return self.agree / self.ra_n if self.ra_n else math.nan

    def as_dict(self) -> dict[str, Any]:
        return {"n": self.n, "refuse_vs_answer_n": self.ra_n, "precision": _num(self.precision),
                "human": dict(self.by_gold)}


def _num(x: float) -> float | None:
    return None if math.isnan(x) else round(x, 4)


def agreement_table(rows: Sequence[dict[str, Any]], predicted: Sequence[str]) -> dict[str, Agreement]:
    """Agreement overall (``all``), per ``source:<name>``, per ``lang:<code>`` and per ``split:<tune|heldout>``."""
    groups: dict[str, Agreement] = {}
    for i, (row, pred) in enumerate(zip(rows, predicted)):
        gold = gold_label(row.get("label"), f"row {i + 1}")
        keys = ["all", f"source:{row.get('source') or '-'}", f"lang:{row.get('lang') or '-'}",
                f"split:{split_of(row.get('prompt'))}",
                f"source:{row.get('source') or '-'} / split:{split_of(row.get('prompt'))}"]
        for key in keys:
            groups.setdefault(key, Agreement()).add(gold, pred)
    return groups


def rule_table(rows: Sequence[dict[str, Any]], predicted: Sequence[str],
               rules: Sequence[str | None]) -> dict[str, RulePrecision]:
    """Per deciding rule (the verdict's ``evidence["rule"]``; ``-`` for a judge without rules): its precision."""
    table: dict[str, RulePrecision] = {}
    for i, (row, pred, rule) in enumerate(zip(rows, predicted, rules)):
        table.setdefault(rule or "-", RulePrecision()).add(gold_label(row.get("label"), f"row {i + 1}"), pred)
    return dict(sorted(table.items(), key=lambda kv: -kv[1].n))


def _pct(x: float) -> str:
    return "-" if math.isnan(x) else f"{100 * x:.1f}%"


def markdown(groups: dict[str, Agreement], title: str, rules: dict[str, RulePrecision] | None = None) -> str:
    """The table ``judge-eval`` prints: one line per group, per-rule precision, then the overall confusion matrix."""
    lines = [f"## {title}", "",
             "Strict agreement: on rows a human labelled REFUSE or ANSWER, the judge gave the same label (a judge "
             "AMBIGUOUS is a miss). Coverage: share of rows the judge decided.", "",
             "| group | n | strict agreement (n) | coverage | REFUSE precision | REFUSE recall | 3-way accuracy |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    order = sorted(groups, key=lambda k: (k != "all", k.count("/"), k))
    for key in order:
        a = groups[key]
        lines.append(f"| {key} | {a.n} | {_pct(a.strict)} ({a.ra_n}) | {_pct(a.coverage)} | {_pct(a.precision)} | "
                     f"{_pct(a.recall)} | {_pct(a.accuracy)} |")
    if rules:
        lines += ["", "Per rule: on rows a human labelled REFUSE or ANSWER, how often the deciding rule's label is the "
                  "human's", "",
                  "| rule | verdicts | precision | human REFUSE / ANSWER / AMBIGUOUS |", "|---|---:|---:|---|"]
        for rule, r in rules.items():
            lines.append(f"| {rule} | {r.n} | {_pct(r.precision)} | "
                         + " / ".join(str(r.by_gold.get(label, 0)) for label in LABELS) + " |")
    overall = groups.get("all", Agreement())
    lines += ["", "Confusion matrix, all rows (rows: human, columns: judge)", "",
              "| human \\ judge | " + " | ".join(LABELS) + " |", "|---|" + "---:|" * len(LABELS)]
    for g in LABELS:
        lines.append(f"| {g} | " + " | ".join(str(overall.confusion.get((g, p), 0)) for p in LABELS) + " |")
    return "\n".join(lines) + "\n"
