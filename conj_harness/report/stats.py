"""Paired statistics for base-vs-tuned comparisons: small pure functions, tested against hand-computed cases.

Every comparison is *paired*: both models answer the same documents, matched by the document's stable ``id``
(:func:`pair_samples`), and the per-document outcomes are compared.

* :func:`mcnemar_exact` - the exact McNemar test for 0/1 outcomes: under "no difference" each discordant
  document (right for one model, wrong for the other) is a fair coin, so the two-sided p-value is the binomial
  test of ``b`` successes in ``b + c`` trials with p = 1/2 (computed exactly with integers; equal to
  ``scipy.stats.binomtest``, checked in the tests, without scipy's import time).
* :func:`paired_bootstrap` - a percentile confidence interval for the mean per-document difference
  ``base - tuned`` (the drop), resampling documents with replacement (fixed seed, so reruns agree).
* :func:`paired_permutation` - a sign-flip randomisation p-value for non-binary outcomes.
* :func:`bootstrap_recovery` - a percentile interval for ``drop(en) - drop(c)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

_CHUNK_CELLS = 4_000_000  # resample matrices are built in chunks of about this many cells (32 MB of int64)


def _as_array(values: Sequence[float], name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a flat sequence of numbers")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: values must be finite numbers")
    return arr


def _paired(base: Sequence[float], tuned: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    b, t = _as_array(base, "base"), _as_array(tuned, "tuned")
    if b.shape != t.shape:
        raise ValueError(f"paired outcomes differ in length: base {b.size}, tuned {t.size}")
    if b.size == 0:
        raise ValueError("no paired outcomes")
    return b, t


def is_binary(values: Sequence[float] | np.ndarray) -> bool:
    """True when every value is 0 or 1 (so McNemar applies)."""
    arr = np.asarray(values, dtype=float)
    return bool(arr.size) and bool(np.all((arr == 0) | (arr == 1)))


def binom_two_sided_half(k: int, n: int) -> float:
    """Two-sided exact binomial p-value of ``k`` successes in ``n`` trials with p = 1/2.

    The same number as ``scipy.stats.binomtest(k, n, 0.5).pvalue`` (the distribution is symmetric, so the
    two-sided p is twice the smaller tail, capped at 1), computed exactly with integers.
    """
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(k, n - k) + 1))
    return min(1.0, 2 * tail / 2 ** n)


def mcnemar_exact(base: Sequence[float], tuned: Sequence[float]) -> dict:
    """Exact two-sided McNemar test on paired 0/1 outcomes.

    Returns ``n``, ``b`` (base 1, tuned 0: documents the tuned model lost), ``c`` (base 0, tuned 1: documents it
    gained), ``both`` (1 for both), ``neither`` and ``p_value`` (1.0 when there is no discordant pair).
    """
    b_arr, t_arr = _paired(base, tuned)
    if not (is_binary(b_arr) and is_binary(t_arr)):
        raise ValueError("mcnemar_exact needs 0/1 outcomes; use paired_permutation for other values")
    b = int(np.sum((b_arr == 1) & (t_arr == 0)))
    c = int(np.sum((b_arr == 0) & (t_arr == 1)))
    p = binom_two_sided_half(b, b + c)
    return {
        "n": int(b_arr.size), "b": b, "c": c,
        "both": int(np.sum((b_arr == 1) & (t_arr == 1))), "neither": int(np.sum((b_arr == 0) & (t_arr == 0))),
        "p_value": min(1.0, p),
    }


def _bootstrap_means(d: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Means of ``n`` resamples (with replacement) of ``d``, drawn chunk by chunk from ``rng``."""
    m = d.size
    rows = max(1, _CHUNK_CELLS // m)
    out = np.empty(n, dtype=float)
    for start in range(0, n, rows):
        k = min(rows, n - start)
        idx = rng.integers(0, m, size=(k, m))
        out[start:start + k] = d[idx].mean(axis=1)
    return out


def _percentile_ci(means: np.ndarray, alpha: float) -> tuple[float, float]:
    lo, hi = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def _check(n: int, alpha: float) -> None:
    if n < 1:
        raise ValueError("n (resamples) must be at least 1")
    if not 0 < alpha < 1:
        raise ValueError("alpha must be between 0 and 1")


def paired_bootstrap(base: Sequence[float], tuned: Sequence[float], n: int = 10_000, seed: int = 0,
                     alpha: float = 0.05) -> dict:
    """Percentile bootstrap CI for the mean paired difference ``base - tuned``.

    Documents are resampled with replacement ``n`` times (NumPy ``default_rng(seed)``, so the result is
    deterministic). Returns ``n`` (documents), ``mean_diff``, ``ci_low``, ``ci_high``, ``alpha``, ``resamples``.
    """
    _check(n, alpha)
    b, t = _paired(base, tuned)
    d = b - t
    lo, hi = _percentile_ci(_bootstrap_means(d, n, np.random.default_rng(seed)), alpha)
    mean = float(d.mean())
    if np.all(d == d[0]):  # every resample of a constant has that mean; avoid float noise
        lo = hi = mean
    return {"n": int(d.size), "mean_diff": mean, "ci_low": lo, "ci_high": hi, "alpha": alpha, "resamples": n}


def paired_permutation(base: Sequence[float], tuned: Sequence[float], n: int = 10_000, seed: int = 0) -> dict:
    """Two-sided sign-flip randomisation test of "mean(base - tuned) = 0" for paired non-binary outcomes.

    p = (1 + #{resamples with |mean| >= |observed|}) / (n + 1); 1.0 when every difference is zero.
    """
    _check(n, 0.5)
    b, t = _paired(base, tuned)
    d = b - t
    observed = abs(float(d.mean()))
    if not np.any(d):
        return {"n": int(d.size), "mean_diff": 0.0, "p_value": 1.0, "resamples": n}
    rng = np.random.default_rng(seed)
    rows = max(1, _CHUNK_CELLS // d.size)
    hits = 0
    for start in range(0, n, rows):
        k = min(rows, n - start)
        signs = rng.integers(0, 2, size=(k, d.size)) * 2 - 1
        hits += int(np.sum(np.abs((signs * d).mean(axis=1)) >= observed - 1e-12))
    return {"n": int(d.size), "mean_diff": float(d.mean()), "p_value": (1 + hits) / (n + 1), "resamples": n}


def bootstrap_recovery(drop_en: Sequence[float], drop_c: Sequence[float], paired: bool, n: int = 10_000,
                       seed: int = 0, alpha: float = 0.05) -> dict:
    """Percentile CI for ``recovery = mean(drop_en) - mean(drop_c)``.

    ``drop_en`` / ``drop_c`` are per-document drops (base - tuned) in English and in the conjugate. ``paired``:
    the two arrays are aligned on the same underlying documents (the conjugate is a translation of the English
    doc), so documents are resampled jointly; otherwise each array is resampled independently.
    """
    _check(n, alpha)
    en, c = _as_array(drop_en, "drop_en"), _as_array(drop_c, "drop_c")
    if en.size == 0 or c.size == 0:
        raise ValueError("no documents")
    rng = np.random.default_rng(seed)
    if paired:
        if en.shape != c.shape:
            raise ValueError("paired recovery needs aligned arrays of equal length")
        means = _bootstrap_means(en - c, n, rng)
    else:
        means = _bootstrap_means(en, n, rng) - _bootstrap_means(c, n, rng)
    lo, hi = _percentile_ci(means, alpha)
    return {"recovery": float(en.mean() - c.mean()), "ci_low": lo, "ci_high": hi, "paired": paired, "alpha": alpha,
            "resamples": n}


def recovery_fraction(drop_en: float | None, drop_c: float | None) -> float | None:
    """``(drop_en - drop_c) / drop_en``: 1 = the conjugate gives everything back, 0 = nothing.

    None when there is no English drop to recover.
    """
    if drop_en is None or drop_c is None or drop_en == 0 or math.isnan(drop_en):
        return None
    return (drop_en - drop_c) / drop_en


# --- pairing two sample lists by document id ------------------------------------------------------------------


def stable_id(doc: object):
    """A document's stable id: its ``id``, or ``_conj_id`` (the source document of a conjugated lm-eval task,
    the same in every conjugate of it); None when it has neither."""
    if not isinstance(doc, dict):
        return None
    return doc["id"] if doc.get("id") is not None else doc.get("_conj_id")


def doc_key(sample: dict):
    """A sample's pairing key: the doc's stable id when it has one, else lm-eval's ``doc_id``."""
    found = stable_id(sample.get("doc"))
    return found if found is not None else sample.get("doc_id")


@dataclass
class Paired:
    """Two sample lists matched by document: ``base[i]`` and ``tuned[i]`` are the same document ``keys[i]``."""

    keys: list
    base: list[dict]
    tuned: list[dict]
    base_only: list = field(default_factory=list)
    tuned_only: list = field(default_factory=list)
    key: str = "id"  # "id" (doc["id"]) or "doc_id" (fallback)

    @property
    def n(self) -> int:
        return len(self.keys)


def _index(samples: Sequence[dict], by) -> dict | None:
    out: dict = {}
    for s in samples:
        k = by(s)
        if k is None or k in out:
            return None
        out[k] = s
    return out


def _sort_key(k):
    return (0, k, "") if isinstance(k, (int, float)) else (1, 0, str(k))


def pair_samples(base: Sequence[dict], tuned: Sequence[dict]) -> Paired:
    """Match two lm-eval sample lists by ``doc["id"]`` (fallback ``doc_id`` when ids are missing or repeated).

    Unmatched documents are listed in ``base_only`` / ``tuned_only``; matched ones come sorted by key.
    """
    def has_id(s: dict) -> bool:
        return stable_id(s.get("doc")) is not None

    key = "id"
    b_idx = t_idx = None
    if all(has_id(s) for s in (*base, *tuned)):
        b_idx, t_idx = _index(base, doc_key), _index(tuned, doc_key)
    if b_idx is None or t_idx is None:
        key = "doc_id"
        b_idx, t_idx = _index(base, lambda s: s.get("doc_id")), _index(tuned, lambda s: s.get("doc_id"))
        if b_idx is None or t_idx is None:
            raise ValueError("samples cannot be paired: document ids are missing or repeated")
    common = sorted(set(b_idx) & set(t_idx), key=_sort_key)
    return Paired(
        keys=common, base=[b_idx[k] for k in common], tuned=[t_idx[k] for k in common],
        base_only=sorted(set(b_idx) - set(t_idx), key=_sort_key),
        tuned_only=sorted(set(t_idx) - set(b_idx), key=_sort_key), key=key,
    )
