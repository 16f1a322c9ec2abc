"""The report's warnings on hand-made samples: what they claim must be what the samples show."""

from __future__ import annotations

from conj_harness.report import analysis
from conj_harness.report.inputs import PairData, Side


def _samples(scores: list[int], raw: list[str], filtered: list[str]) -> list[dict]:
    return [{"doc_id": i, "doc": {"id": f"d{i}"}, "resps": [[r]], "filtered_resps": [f], "exact_match": s}
            for i, (s, r, f) in enumerate(zip(scores, raw, filtered))]


def _pair(base: dict[str, list[dict]], tuned: dict[str, list[dict]]) -> PairData:
    return PairData("p", Side("b", samples=base), Side("t", samples=tuned), list(base), {"limit": None})


def test_equal_filtered_answers_with_different_raw_outputs_are_not_identical_outputs():
    invalid = ["[invalid]"] * 3
    pair = _pair({"conj_gsm8k_en": _samples([0, 0, 0], ["a", "b", "c"], invalid)},
                 {"conj_gsm8k_en": _samples([0, 0, 0], ["x", "y", "z"], invalid)})
    summary = analysis.analyze(pair, n_boot=10)
    assert summary["identical_outputs"] is False and analysis.IDENTICAL_WARNING not in summary["warnings"]
    same = _pair({"conj_gsm8k_en": _samples([0, 1, 0], ["a", "b", "c"], invalid)},
                 {"conj_gsm8k_en": _samples([0, 1, 0], ["a", "b", "c"], invalid)})
    assert analysis.analyze(same, n_boot=10)["warnings"][0] == analysis.IDENTICAL_WARNING


def test_a_base_that_scores_zero_everywhere_is_warned_about():
    pair = _pair({"conj_gsm8k_en": _samples([0, 0], ["a", "b"], ["1", "2"]),
                  "conj_gsm8k_leet": _samples([0, 0], ["c", "d"], ["3", "4"])},
                 {"conj_gsm8k_en": _samples([0, 0], ["e", "f"], ["5", "6"]),
                  "conj_gsm8k_leet": _samples([0, 0], ["g", "h"], ["7", "8"])})
    warnings = analysis.analyze(pair, n_boot=10)["warnings"]
    assert any(w.startswith("family gsm8k: the base model scores 0 on every task (exact_match)") for w in warnings)
    scored = _pair({"conj_gsm8k_en": _samples([1, 0], ["a", "b"], ["1", "2"])},
                   {"conj_gsm8k_en": _samples([0, 0], ["e", "f"], ["5", "6"])})
    assert not any("scores 0 on every task" in w for w in analysis.analyze(scored, n_boot=10)["warnings"])
