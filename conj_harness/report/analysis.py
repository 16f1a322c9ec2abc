"""The comparison itself: per family and conjugate, base and tuned scores, drop, recovery and paired tests.

Input: a :class:`~conj_harness.report.inputs.PairData` (a compare folder, or two lm-eval output folders). Output:
the summary dict that :mod:`conj_harness.report.render` writes as ``summary.json``, ``table.csv``, ``report.md``
and the plots.

Definitions (per family, per conjugate ``c``; the task ``conj_<family>_<c>``):

* the family's **primary metric** comes from :data:`PRIMARY_METRIC` (``--metric family=name`` overrides it; a
  family not in the table uses the first metric its samples list);
* ``drop(c) = base(c) - tuned(c)``: what fine-tuning took away (negative: it added);
* ``recovery(c) = drop(en) - drop(c)``: how much of the English drop the conjugate avoids, and
  ``recovery_frac(c) = recovery(c) / drop(en)`` (1 = all of it, 0 = none; undefined when ``drop(en) = 0``);
* significance is paired on documents matched by ``doc["id"]``: exact McNemar for 0/1 metrics, a sign-flip
  permutation test otherwise, and a percentile paired-bootstrap CI for the drop and the recovery
  (:mod:`conj_harness.report.stats`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from conj_harness.errors import ConjError
from conj_harness.families.registry import FAMILIES
from conj_harness.report import stats
from conj_harness.report.inputs import PairData, task_difference

#: The metric each shipped family's drop is measured on (see :class:`conj_harness.families.registry.Family`).
PRIMARY_METRIC: dict[str, str] = {name: fam.primary_metric for name, fam in FAMILIES.items()}
BASELINE = "en"
IDENTICAL_WARNING = ("identical outputs: base and tuned gave the same raw output on every document of every task; "
                     "check that the tuned model (or adapter) is really loaded")
COLUMNS = [
    "family", "conjugate", "task", "metric", "status", "n", "base", "tuned", "drop", "drop_ci_low", "drop_ci_high",
    "test", "p_value", "lost", "gained", "recovery", "recovery_frac", "recovery_ci_low", "recovery_ci_high",
    "identical_outputs", "unmatched_base", "unmatched_tuned",
]


def parse_task(task: str) -> tuple[str, str | None]:
    """``conj_<family>_<conjugate>`` -> (family, conjugate); other ``<name>_<conjugate>`` names when the suffix
    is a registered conjugate; anything else is its own family without a conjugate."""
    from conj_harness import conjugates

    m = re.fullmatch(r"conj_(.+)_([^_]+)", task)
    if m:
        return m.group(1), m.group(2)
    if "_" in task:
        prefix, suffix = task.rsplit("_", 1)
        if suffix in conjugates.names():
            return prefix, suffix
    return task, None


def safety_judge(data: PairData) -> dict[str, Any] | None:
    """The judge that labelled the pair's safety tasks (its identity: name, model, version, translator), from the
    compare record or the tasks' own metadata; None when no task is judged. Two reports that differ only in the
    judge must say so."""
    judged = [t for t in data.tasks if (fam := FAMILIES.get(parse_task(t)[0])) is not None and fam.judged]
    if not judged:
        return None
    recorded = ((data.meta.get("base") or {}).get("identity") or {}).get("judge")
    if isinstance(recorded, dict):
        return recorded
    for side in (data.base, data.tuned):
        for task in judged:
            config = ((side.results.get(task) or {}).get("configs") or {}).get(task) or {}
            identity = (config.get("metadata") or {}).get("judge_identity")
            if isinstance(identity, dict):
                return identity
    return None


def conj_order(c: str | None) -> tuple[int, str]:
    return (0, "") if c == BASELINE else (1, c or "")


_SAMPLE_KEYS = {"doc_id", "doc", "target", "arguments", "resps", "filtered_resps", "filter", "metrics", "doc_hash",
                "prompt_hash", "target_hash"}


def check_stats_settings(n_boot: object, seed: object, alpha: object, flags: bool = False) -> None:
    """The statistics settings, checked before any model runs (``flags``: name them as command-line flags)."""
    def name(flag: str, argument: str) -> str:
        return flag if flags else argument

    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 1:
        raise ConjError(f"{name('--bootstrap', 'n_boot')} {n_boot!r}: give a whole number of resamples, 1 or more")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConjError(f"{name('--stats-seed', 'seed')} {seed!r}: give a whole number")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise ConjError(f"{name('--alpha', 'alpha')} {alpha!r}: give a number between 0 and 1 (0.05 for 95% "
                        "intervals)")


def check_metric_overrides(overrides: dict[str, str] | None) -> None:
    """``--metric FAMILY=METRIC`` for a shipped family must name one of its metrics (read from its task template):
    checked before any model runs, not found in the samples after both have. Other families' metrics are known
    only from their samples (:func:`primary_metric` checks them there)."""
    import importlib.resources

    if overrides is not None and (not isinstance(overrides, dict) or
                                  not all(isinstance(k, str) and isinstance(v, str) for k, v in overrides.items())):
        raise ConjError(f"metrics {overrides!r}: give a dict of family name -> metric name, e.g. {{'xnli': 'acc'}}")
    for family, metric in (overrides or {}).items():
        if family not in FAMILIES:
            continue
        template = importlib.resources.files("conj_harness.tasks") / family / FAMILIES[family].template
        names = re.findall(r"^\s*-\s*metric:\s*(\w+)", template.read_text(encoding="utf-8"), flags=re.M)
        if names and metric not in names:
            raise ConjError(f"--metric {family}={metric}: the {family} family's metrics are {', '.join(names)}")


def primary_metric(family: str, samples: Sequence[dict], overrides: dict[str, str] | None = None) -> str:
    """The metric a family is compared on: override, then :data:`PRIMARY_METRIC`, then the samples' first metric."""
    wanted = (overrides or {}).get(family) or PRIMARY_METRIC.get(family)
    first = samples[0] if samples else {}
    available = [k for k, v in first.items() if k not in _SAMPLE_KEYS and isinstance(v, (int, float, bool))]
    if wanted:
        if samples and wanted not in first:
            raise ConjError(f"metric {wanted!r} is not in the samples of family {family!r}; "
                            f"available: {', '.join(available) or 'none'} (use --metric {family}=NAME)")
        return wanted
    listed = first.get("metrics") or []
    for name in listed:
        if name in first:
            return name
    if available:
        return available[0]
    raise ConjError(f"no numeric metric in the samples of family {family!r}; use --metric {family}=NAME")


def _values(samples: Sequence[dict], metric: str, task: str) -> list[float]:
    out = []
    for s in samples:
        v = s.get(metric)
        if isinstance(v, list) and len(v) == 1:
            v = v[0]
        if not isinstance(v, (int, float, bool)) or (isinstance(v, float) and math.isnan(v)):
            raise ConjError(f"{task}: sample {s.get('doc_id')} has no numeric {metric!r} value ({v!r})")
        out.append(float(v))
    return out


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


class _Settings:
    """The statistics settings of one analysis (resamples, seed, alpha) and its accumulated warnings."""

    def __init__(self, n_boot: int, seed: int, alpha: float) -> None:
        self.n_boot, self.seed, self.alpha = n_boot, seed, alpha
        self.warnings: list[str] = []


def _task_row(task: str, data: PairData, metric: str | None, cfg: _Settings) -> tuple[dict, dict | None]:
    """One task's row (scores, drop, test) and its per-document drops (None unless both models completed it)."""
    family, conj = parse_task(task)
    b_samples, t_samples = data.base.samples.get(task), data.tuned.samples.get(task)
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update(family=family, conjugate=conj, task=task, metric=metric)
    status = [f"{role} failed" if task in data.side(role).failed else f"{role} not run"
              for role, s in (("base", b_samples), ("tuned", t_samples)) if s is None]
    row["status"] = "ok" if not status else ", ".join(status)
    if metric is None:
        return row, None
    if b_samples is not None:
        row["base"] = _mean(_values(b_samples, metric, task))
    if t_samples is not None:
        row["tuned"] = _mean(_values(t_samples, metric, task))
    if b_samples is None or t_samples is None:
        return row, None
    differs = task_difference(data.base.fingerprints.get(task), data.tuned.fingerprints.get(task))
    if differs is not None:  # results of two different tasks under one name: not a comparison
        row["status"] = f"task differs between the models: {differs}"
        row["base"] = row["tuned"] = None
        cfg.warnings.append(f"{task}: the two models ran different versions of it ({differs}); not compared - "
                            "re-run the stale side (conj-harness compare re-runs it)")
        return row, None
    try:
        paired = stats.pair_samples(b_samples, t_samples)
    except ValueError as e:
        raise ConjError(f"{task}: {e}") from None
    row["unmatched_base"], row["unmatched_tuned"] = len(paired.base_only), len(paired.tuned_only)
    if paired.base_only or paired.tuned_only:
        cfg.warnings.append(f"{task}: {len(paired.base_only)} documents only in base, {len(paired.tuned_only)} "
                            f"only in tuned (different --limit or data?); compared on the {paired.n} in both")
    if paired.key == "doc_id":
        cfg.warnings.append(f"{task}: documents carry no unique 'id'; paired by lm-eval's doc_id")
    if paired.n == 0:
        row["status"] = "no common documents"
        return row, None
    changed = [k for k, b, t in zip(paired.keys, paired.base, paired.tuned) if _document(b) != _document(t)]
    if changed:  # the same id, another document or target: two versions of the task's data
        row["status"] = "task differs between the models: its documents"
        row["base"] = row["tuned"] = None
        cfg.warnings.append(f"{task}: {len(changed)} of the {paired.n} paired documents differ between the models "
                            f"(first: {changed[0]}); not compared - re-run the stale side")
        return row, None
    bv, tv = _values(paired.base, metric, task), _values(paired.tuned, metric, task)
    row["n"] = paired.n
    row["base"], row["tuned"] = _mean(bv), _mean(tv)
    boot = stats.paired_bootstrap(bv, tv, n=cfg.n_boot, seed=cfg.seed, alpha=cfg.alpha)
    row["drop"], row["drop_ci_low"], row["drop_ci_high"] = boot["mean_diff"], boot["ci_low"], boot["ci_high"]
    if stats.is_binary(bv) and stats.is_binary(tv):
        mc = stats.mcnemar_exact(bv, tv)
        row.update(test="mcnemar", p_value=mc["p_value"], lost=mc["b"], gained=mc["c"])
    else:
        perm = stats.paired_permutation(bv, tv, n=cfg.n_boot, seed=cfg.seed)
        row.update(test="permutation", p_value=perm["p_value"])
    # the raw outputs: filtered answers agree whenever both models fail a filter the same way (gsm8k's "[invalid]")
    row["identical_outputs"] = all(_raw(b) == _raw(t) for b, t in zip(paired.base, paired.tuned))
    return row, {k: b - t for k, b, t in zip(paired.keys, bv, tv)}


def _document(sample: dict) -> tuple[Any, Any]:
    """What lm-eval hashed of a sample's document and target (None, None when it did not log them)."""
    return sample.get("doc_hash"), sample.get("target_hash")


def _raw(sample: dict) -> Any:
    return sample.get("resps") if sample.get("resps") is not None else sample.get("filtered_resps")


def _family_recovery(fam: str, fam_rows: list[dict], per_doc_drop: dict[str, dict], cfg: _Settings) -> dict:
    """Fill each conjugate row's recovery against the family's English row; the family's summary."""
    en = next((r for r in fam_rows if r["conjugate"] == BASELINE and r["drop"] is not None), None)
    info: dict[str, Any] = {"metric": fam_rows[0]["metric"], "drop_en": en["drop"] if en else None,
                            "conjugates": len(fam_rows)}
    others = [r for r in fam_rows if r["conjugate"] not in (None, BASELINE)]
    if en is None and others:
        cfg.warnings.append(f"family {fam}: no completed English ({BASELINE}) task, so recovery is not computed")
    elif en is not None and en["drop"] == 0 and others:
        cfg.warnings.append(f"family {fam}: the English drop is 0, so recovery fractions are undefined")
    scored = [r["base"] for r in fam_rows if r["base"] is not None]
    if scored and all(b == 0 for b in scored):
        cfg.warnings.append(f"family {fam}: the base model scores 0 on every task ({fam_rows[0]['metric']}): there is "
                            "no capability to lose or recover - check the task's answer format and the model")
    for r in others:
        if en is None or r["drop"] is None:
            continue
        r["recovery"] = en["drop"] - r["drop"]
        r["recovery_frac"] = stats.recovery_fraction(en["drop"], r["drop"])
        d_en, d_c = per_doc_drop[en["task"]], per_doc_drop[r["task"]]
        same_docs = set(d_en) == set(d_c)
        keys = sorted(d_en, key=stats._sort_key) if same_docs else []
        rec = stats.bootstrap_recovery([d_en[k] for k in keys] if same_docs else list(d_en.values()),
                                       [d_c[k] for k in keys] if same_docs else list(d_c.values()), same_docs,
                                       n=cfg.n_boot, seed=cfg.seed, alpha=cfg.alpha)
        r["recovery_ci_low"], r["recovery_ci_high"] = rec["ci_low"], rec["ci_high"]
        if r["base"] is not None and r["base"] < en["drop"]:
            cfg.warnings.append(
                f"{fam}/{r['conjugate']}: the base model scores only {r['base']:.3f} here, below the English drop "
                f"{en['drop']:.3f}, so at least {en['drop'] - r['base']:.3f} of the recovery reflects the base "
                "model's weakness in this conjugate, not the conjugate restoring the capability")
    rec_rows = [r for r in others if r["recovery_frac"] is not None]
    if rec_rows:
        best = max(rec_rows, key=lambda r: r["recovery_frac"])
        info.update(best_conjugate=best["conjugate"], best_recovery_frac=best["recovery_frac"])
    return info


def _pair_warnings(data: PairData, cfg: _Settings) -> list[dict]:
    """Warnings about the pair as a whole (chat templates, tokenizers, limits, pending units); the failures."""
    b_ct, t_ct = data.base.chat_template, data.tuned.chat_template
    if b_ct is not None and t_ct is not None and b_ct != t_ct:
        cfg.warnings.append(f"chat-template settings differ: base {'on' if b_ct else 'off'}, "
                            f"tuned {'on' if t_ct else 'off'}")
    tok = data.tokenizers
    if tok and tok.get("same") is False:
        cfg.warnings.append(tok.get("note") or "different tokenizers")
    if data.unverified:
        cfg.warnings.append(f"{len(data.unverified)} runs were committed by an older conj-harness without file "
                            f"digests and are read as they are (first: {data.unverified[0]}); a compare into this "
                            "folder runs them again")
    if data.meta.get("limit_mismatch"):
        cfg.warnings.append(f"the two runs used different --limit values: {', '.join(data.meta['limit_mismatch'])}")
    failures = []
    for role, other in (("base", "tuned"), ("tuned", "base")):
        for task, info in sorted(data.side(role).failed.items()):
            failures.append({"role": role, "task": task, "returncode": info.get("returncode"),
                             "error": info.get("error"), "log": info.get("log"), "tail": info.get("tail")})
            cfg.warnings.append(f"{role} failed on {task}: {info.get('error')}"
                                + (f" (log: {info['log']})" if info.get("log") else "")
                                + ("; the other model's result is kept" if task in data.side(other).samples else ""))
    if data.pending:
        cfg.warnings.append(f"{len(data.pending)} runs not done yet (interrupted?): "
                            + ", ".join(f"{r} {t}" for r, t in data.pending) + "; re-run the same command to finish")
    limit = data.meta.get("limit")
    if limit:
        cfg.warnings.append(f"computed with --limit {limit:g}: not the full task" if isinstance(limit, (int, float))
                            else f"computed with --limit {limit}")
    return failures


def analyze(data: PairData, metrics: dict[str, str] | None = None, n_boot: int = 10_000, seed: int = 0,
            alpha: float = 0.05) -> dict:
    """Rows per (family, conjugate) with scores, drop, recovery and paired significance; warnings; failures."""
    cfg = _Settings(n_boot, seed, alpha)
    rows: list[dict] = []
    per_doc_drop: dict[str, dict] = {}
    chosen: dict[str, str] = {}
    for task in sorted(data.tasks, key=lambda t: (parse_task(t)[0], conj_order(parse_task(t)[1]), t)):
        family = parse_task(task)[0]
        any_samples = data.base.samples.get(task) or data.tuned.samples.get(task) or []
        if family not in chosen and any_samples:
            chosen[family] = primary_metric(family, any_samples, metrics)
        metric = chosen.get(family) or (metrics or {}).get(family) or PRIMARY_METRIC.get(family)
        row, drops = _task_row(task, data, metric, cfg)
        rows.append(row)
        if drops is not None:
            per_doc_drop[task] = drops
    family_info = {fam: _family_recovery(fam, [r for r in rows if r["family"] == fam], per_doc_drop, cfg)
                   for fam in sorted({r["family"] for r in rows})}
    flags = [r["identical_outputs"] for r in rows if r["identical_outputs"] is not None]
    identical = bool(flags) and all(flags)
    if identical:
        cfg.warnings.insert(0, IDENTICAL_WARNING)
    failures = _pair_warnings(data, cfg)
    return {
        "schema": 1,
        "name": data.name,
        **{role: {"label": data.side(role).label, "model": data.side(role).model,
                  "adapter": data.side(role).adapter, "chat_template": data.side(role).chat_template}
           for role in ("base", "tuned")},
        "backend": data.meta.get("backend"),
        "limit": data.meta.get("limit"),
        "judge": safety_judge(data),
        "metrics": {fam: info["metric"] for fam, info in family_info.items()},
        "families": family_info,
        "rows": rows,
        "identical_outputs": identical,
        "warnings": cfg.warnings,
        "failures": failures,
        "pending": [{"role": r, "task": t} for r, t in data.pending],
        "tokenizers": data.tokenizers,
        "stats": {"bootstrap_resamples": n_boot, "seed": seed, "alpha": alpha,
                  "drop": "base - tuned of the family's primary metric",
                  "p_value": "exact McNemar (0/1 metrics) or sign-flip permutation, paired by doc id"},
    }


# --- several pairs ----------------------------------------------------------------------------------------------

CROSS_COLUMNS = ["pair", "base", "tuned", "family", "conjugate", "metric", "status", "n", "base_score", "tuned_score",
                 "drop", "drop_ci_low", "drop_ci_high", "p_value", "recovery", "recovery_frac"]


def cross_pair_rows(summaries: dict[str, dict]) -> list[dict]:
    rows = []
    for pair, s in summaries.items():
        for r in s["rows"]:
            rows.append({"pair": pair, "base": s["base"]["label"], "tuned": s["tuned"]["label"], "family": r["family"],
                         "conjugate": r["conjugate"], "metric": r["metric"], "status": r["status"], "n": r["n"],
                         "base_score": r["base"], "tuned_score": r["tuned"], "drop": r["drop"],
                         "drop_ci_low": r["drop_ci_low"], "drop_ci_high": r["drop_ci_high"], "p_value": r["p_value"],
                         "recovery": r["recovery"], "recovery_frac": r["recovery_frac"]})
    return rows


