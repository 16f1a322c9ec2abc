"""conj_harness.report.stats against hand-computed cases."""

from __future__ import annotations

import pytest

from conj_harness.report import stats

# --- McNemar ------------------------------------------------------------------------------------------------------


def test_mcnemar_one_against_nine():
    # b = 1 doc lost, c = 9 docs gained: P(X <= 1 | n=10, p=1/2) = (1 + 10) / 1024, two-sided doubles it
    base = [1] + [0] * 9 + [1, 1, 0]
    tuned = [0] + [1] * 9 + [1, 1, 0]
    r = stats.mcnemar_exact(base, tuned)
    assert (r["n"], r["b"], r["c"], r["both"], r["neither"]) == (13, 1, 9, 2, 1)
    assert r["p_value"] == pytest.approx(22 / 1024) == pytest.approx(0.021484375)


def test_mcnemar_identical_outcomes_give_p_one():
    r = stats.mcnemar_exact([1, 0, 1, 1], [1, 0, 1, 1])
    assert (r["b"], r["c"], r["p_value"]) == (0, 0, 1.0)


@pytest.mark.parametrize("b,c,p", [
    (5, 0, 2 / 32),            # all five discordant docs lost: 2 * 0.5**5
    (3, 3, 1.0),               # balanced
    (0, 1, 1.0),               # a single discordant doc proves nothing
    (6, 1, 2 * 8 / 128),       # P(X <= 1 | 7) = (1 + 7) / 128, doubled
])
def test_mcnemar_small_tables(b, c, p):
    base, tuned = [1] * b + [0] * c, [0] * b + [1] * c
    assert stats.mcnemar_exact(base, tuned)["p_value"] == pytest.approx(p)


def test_exact_binomial_matches_scipy():
    from scipy.stats import binomtest

    for n in (1, 2, 7, 10, 31, 200, 2490):
        for k in sorted({0, 1, n // 3, n // 2, n - 1, n}):
            assert stats.binom_two_sided_half(k, n) == pytest.approx(binomtest(k, n, 0.5).pvalue, rel=1e-9, abs=1e-300)
    assert stats.binom_two_sided_half(0, 0) == 1.0


def test_mcnemar_rejects_non_binary_and_unequal_lengths():
    with pytest.raises(ValueError, match="0/1"):
        stats.mcnemar_exact([0.5, 1], [1, 1])
    with pytest.raises(ValueError, match="length"):
        stats.mcnemar_exact([1, 0], [1])
    with pytest.raises(ValueError, match="no paired"):
        stats.mcnemar_exact([], [])


# --- bootstrap ------------------------------------------------------------------------------------------------


def test_bootstrap_mean_is_the_drop_and_the_ci_contains_it():
    base = [1, 1, 1, 0, 1, 0, 1, 1, 0, 1] * 5   # mean 0.7
    tuned = [1, 0, 0, 0, 1, 0, 0, 1, 0, 1] * 5  # mean 0.4
    r = stats.paired_bootstrap(base, tuned, n=2000, seed=0)
    assert r["n"] == 50 and r["mean_diff"] == pytest.approx(0.3)
    assert r["ci_low"] < 0.3 < r["ci_high"]
    assert r["ci_low"] > 0.0 and r["ci_high"] < 0.6   # a 0.3 drop on 50 docs is clearly above 0


def test_bootstrap_is_deterministic_with_a_seed_and_moves_with_it():
    base, tuned = [1, 0, 1, 1, 0, 1, 0, 1], [0, 0, 1, 0, 0, 1, 1, 0]
    a = stats.paired_bootstrap(base, tuned, n=1000, seed=0)
    assert a == stats.paired_bootstrap(base, tuned, n=1000, seed=0)
    assert a["ci_low"] <= a["mean_diff"] <= a["ci_high"]


def test_bootstrap_chunking_does_not_change_the_draws(monkeypatch):
    import numpy as np

    base, tuned = np.arange(50) % 2, np.arange(50) % 3 == 0
    whole = stats.paired_bootstrap(base, tuned, n=300, seed=4)
    monkeypatch.setattr(stats, "_CHUNK_CELLS", 50 * 7)  # 7 resamples per chunk
    assert stats.paired_bootstrap(base, tuned, n=300, seed=4) == whole


def test_bootstrap_of_a_constant_difference_is_that_constant():
    r = stats.paired_bootstrap([1, 1, 1, 1], [0, 0, 0, 0], n=500)
    assert (r["mean_diff"], r["ci_low"], r["ci_high"]) == (1.0, 1.0, 1.0)
    r = stats.paired_bootstrap([0.2, 0.5], [0.2, 0.5], n=500)
    assert (r["mean_diff"], r["ci_low"], r["ci_high"]) == (0.0, 0.0, 0.0)


def test_bootstrap_hand_computed_two_docs():
    # d = (1, 0): a resample of 2 has mean 1 (p 1/4), 0.5 (p 1/2) or 0 (p 1/4); the 95% interval is [0, 1]
    r = stats.paired_bootstrap([1, 0], [0, 0], n=20_000, seed=0)
    assert r["mean_diff"] == 0.5 and (r["ci_low"], r["ci_high"]) == (0.0, 1.0)
    # alpha = 0.6 keeps the middle 40%: only the 0.5 resamples
    r = stats.paired_bootstrap([1, 0], [0, 0], n=20_000, seed=0, alpha=0.6)
    assert (r["ci_low"], r["ci_high"]) == (0.5, 0.5)


def test_bootstrap_rejects_bad_input():
    with pytest.raises(ValueError):
        stats.paired_bootstrap([1, 0], [1], n=10)
    with pytest.raises(ValueError):
        stats.paired_bootstrap([1], [1], n=0)
    with pytest.raises(ValueError):
        stats.paired_bootstrap([1], [1], alpha=1.5)


def test_permutation_test_for_rates():
    assert stats.paired_permutation([0.5, 0.25], [0.5, 0.25])["p_value"] == 1.0
    # 3 docs, all differences +0.5: of the 8 sign patterns only +++ and --- reach |mean| 0.5 -> p ~ 2/8
    r = stats.paired_permutation([1.0, 0.75, 0.5], [0.5, 0.25, 0.0], n=20_000, seed=0)
    assert r["mean_diff"] == pytest.approx(0.5)
    assert r["p_value"] == pytest.approx(0.25, abs=0.02)


def test_recovery_bootstrap():
    en_drop = [1, 1, 0, 1, 0, 1, 1, 0, 1, 1]     # 0.7
    c_drop = [0, 1, 0, 0, 0, 0, 1, 0, 0, 0]      # 0.2
    r = stats.bootstrap_recovery(en_drop, c_drop, paired=True, n=2000)
    assert r["recovery"] == pytest.approx(0.5) and r["ci_low"] < 0.5 < r["ci_high"]
    u = stats.bootstrap_recovery(en_drop, c_drop[:7], paired=False, n=2000)
    assert u["recovery"] == pytest.approx(0.7 - 2 / 7) and not u["paired"]
    with pytest.raises(ValueError):
        stats.bootstrap_recovery(en_drop, c_drop[:7], paired=True)
    assert stats.recovery_fraction(0.4, 0.1) == pytest.approx(0.75)
    assert stats.recovery_fraction(0.4, 0.4) == 0.0
    assert stats.recovery_fraction(0.0, 0.1) is None and stats.recovery_fraction(None, 0.1) is None


# --- pairing ----------------------------------------------------------------------------------------------------


def _s(doc_id, id_=None, **metrics):
    doc = {"id": id_} if id_ is not None else {"text": "x"}
    return {"doc_id": doc_id, "doc": doc, **metrics}


def test_pairing_by_doc_id_field_reports_unmatched():
    base = [_s(0, "a", acc=1), _s(1, "b", acc=0), _s(2, "c", acc=1)]
    tuned = [_s(5, "c", acc=0), _s(6, "a", acc=1), _s(7, "z", acc=1)]  # lm-eval doc_ids differ: ids decide
    p = stats.pair_samples(base, tuned)
    assert p.key == "id" and p.keys == ["a", "c"] and p.n == 2
    assert [s["acc"] for s in p.base] == [1, 1] and [s["acc"] for s in p.tuned] == [1, 0]
    assert p.base_only == ["b"] and p.tuned_only == ["z"]


def test_pairing_falls_back_to_lm_eval_doc_id():
    base = [_s(0, acc=1), _s(1, acc=0)]
    tuned = [_s(1, acc=1), _s(0, acc=1), _s(2, acc=0)]
    p = stats.pair_samples(base, tuned)
    assert p.key == "doc_id" and p.keys == [0, 1] and p.tuned_only == [2]
    # repeated ids are not trusted either
    p = stats.pair_samples([_s(0, "a"), _s(1, "a")], [_s(0, "a"), _s(1, "a")])
    assert p.key == "doc_id" and p.n == 2
    assert stats.doc_key(_s(3, "q")) == "q" and stats.doc_key(_s(3)) == 3


def test_is_binary():
    assert stats.is_binary([0, 1, 1.0, 0.0]) and not stats.is_binary([0, 0.5]) and not stats.is_binary([])
