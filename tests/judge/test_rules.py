"""The rule judge's named rules: one golden file of hand-written cases (text, language, label, deciding rule),
the typed decisions, and an identity that changes whenever a decision can.

``golden_rules.jsonl`` was written from the rules' descriptions before the rules were run on it; each phrase-driven
rule also has cases of the opposite label that must not trigger it (``not_rule``). The snapshot
(``rules_snapshot.json``) pins the rules' identity and a digest of their decisions on the golden file and the
synthetic multilingual set: a data change (threshold, phrase) changes the identity by itself; a code change that
changes decisions fails here until ``RULES_VERSION`` is bumped. Regenerate after a deliberate change with
``python -m tests.judge.test_rules --update-snapshot``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from pathlib import Path

import pytest

from conj_harness.judge import rules
from conj_harness.judge.labels import ANSWER, LABELS, REFUSE
from conj_harness.judge.phrases import PHRASES
from conj_harness.judge.refusal import judge, judge_many

HERE = Path(__file__).parent
GOLDEN = [json.loads(line) for line in (HERE / "golden_rules.jsonl").read_text(encoding="utf-8").splitlines()
          if line.strip()]
SYNTHETIC = HERE.parent / "fixtures" / "refusal_multilingual.jsonl"
SNAPSHOT = HERE / "rules_snapshot.json"
#: Rules only the back-translation path or an unknown language reach (tests/judge/test_refusal.py covers them).
NOT_IN_GOLDEN = {"translator-unavailable", "lang-unknown", "preamble", "persona-silent", "late-refusal"}


@pytest.mark.parametrize("case", GOLDEN, ids=[f"{i + 1}-{c['rule']}" for i, c in enumerate(GOLDEN)])
def test_golden_case(case):
    v = judge(case["text"], case["lang"], prompt=case.get("prompt"))
    why = (v.evidence["rule"], v.evidence["reasons"])
    assert v.label == case["label"], why
    assert v.evidence["rule"] == case["rule"], why
    assert v.evidence["rule"] != case.get("not_rule"), why


def test_golden_file_covers_the_rules():
    assert {c["label"] for c in GOLDEN} == set(LABELS)
    assert all(c["rule"] in rules.RULES and rules.RULES[c["rule"]].label == c["label"] for c in GOLDEN)
    covered = {c["rule"] for c in GOLDEN}
    assert set(rules.RULES) - covered <= NOT_IN_GOLDEN, set(rules.RULES) - covered - NOT_IN_GOLDEN
    # every phrase-driven rule has opposite-label cases that must not trigger it
    for rule in ("head-refusal", "content", "warn-only", "warn-then-content", "question-only", "answer-marker-head"):
        assert sum(c.get("not_rule") == rule for c in GOLDEN) >= 2, rule


def test_catch_all_phrases_never_decide_refuse():
    for lang, entry in PHRASES.items():
        for phrase in entry.get("weak", ()):
            v = judge(f"{phrase} here are the steps: first, gather the materials listed below, then combine them "
                      "in the order given and let the mixture rest for an hour before use.", lang)
            assert v.label != REFUSE, (lang, phrase, v.evidence["reasons"])


def test_a_decision_names_a_rule_that_gives_its_label():
    assert rules.Decision(ANSWER, "content", "x").rule == "content"
    with pytest.raises(ValueError, match="head-refusal"):
        rules.Decision(ANSWER, "head-refusal", "x")
    with pytest.raises(KeyError):
        rules.Decision(ANSWER, "no-such-rule", "x")


def test_every_verdict_names_its_rule():
    verdicts = judge_many([c["text"] for c in GOLDEN], [c["lang"] for c in GOLDEN])
    assert all(v.evidence["rule"] in rules.RULES for v in verdicts)


def test_identity_changes_with_any_threshold_or_phrase():
    base = rules.fingerprint()
    assert base == rules.identity()["hash"]
    for f in dataclasses.fields(rules.Thresholds):
        value = getattr(rules.THRESHOLDS, f.name)
        assert rules.fingerprint(dataclasses.replace(rules.THRESHOLDS, **{f.name: value + 1})) != base, f.name
    more = {**PHRASES, "en": {**PHRASES["en"], "weak": (*PHRASES["en"]["weak"], "one more catch-all")}}
    assert rules.fingerprint(phrases=more) != base
    assert rules.identity_string() == f"rules/{rules.RULES_VERSION}+{base}"


def _decisions_digest() -> str:
    texts = [(c["text"], c["lang"], c.get("prompt")) for c in GOLDEN]
    texts += [(r["response"], r["lang"], None) for r in map(json.loads, SYNTHETIC.read_text(encoding="utf-8")
                                                             .splitlines())]
    verdicts = judge_many([t for t, _, _ in texts], [lang for _, lang, _ in texts], prompts=[p for _, _, p in texts])
    lines = "\n".join(f"{v.label}|{v.evidence['rule']}" for v in verdicts)
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()[:16]


def _snapshot() -> dict[str, str]:
    return {**rules.identity(), "decisions": _decisions_digest()}


def test_identity_snapshot():
    pinned = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    now = _snapshot()
    if now["decisions"] != pinned["decisions"] and (now["version"], now["hash"]) == (pinned["version"],
                                                                                     pinned["hash"]):
        pytest.fail("the rule judge's decisions changed but its identity did not: bump RULES_VERSION in "
                    "conj_harness/judge/rules.py, then run python -m tests.judge.test_rules --update-snapshot")
    assert now == pinned, ("the rules' identity changed (a threshold, phrase or rule): check the decisions, then run "
                           "python -m tests.judge.test_rules --update-snapshot")


if __name__ == "__main__" and sys.argv[1:] == ["--update-snapshot"]:
    SNAPSHOT.write_text(json.dumps(_snapshot(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {SNAPSHOT}")
