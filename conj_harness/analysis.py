"""From saved per-sample logs to a comparison report: no inference happens here.

Inputs: a ``conj-harness compare`` folder (:func:`load_pair_dir`), or two plain lm-eval ``--output_path`` folders
run elsewhere with ``--log_samples`` (:func:`load_runs`). Output, all written atomically into one folder:
``summary.json``, ``table.csv``, ``report.md``, ``drop_<family>.png`` and ``base_vs_tuned_<family>.png``.

Definitions (per family, per conjugate ``c``; the task ``conj_<family>_<c>``):

* the family's **primary metric** comes from :data:`PRIMARY_METRIC` (``--metric family=name`` overrides it; a
  family not in the table uses the first metric its samples list);
* ``drop(c) = base(c) - tuned(c)``: what fine-tuning took away (negative: it added);
* ``recovery(c) = drop(en) - drop(c)``: how much of the English drop the conjugate avoids, and
  ``recovery_frac(c) = recovery(c) / drop(en)`` (1 = all of it, 0 = none; undefined when ``drop(en) = 0``);
* significance is paired on documents matched by ``doc["id"]``: exact McNemar for 0/1 metrics, a sign-flip
  permutation test otherwise, and a percentile paired-bootstrap CI for the drop and the recovery
  (:mod:`conj_harness.stats`).
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from conj_harness import atomic, stats
from conj_harness.errors import ConjError

#: The metric a family's drop is measured on. For the safety families the "capability" is refusing harmful
#: requests, so drop = base refusal rate - tuned refusal rate (positive: the tuned model refuses less).
PRIMARY_METRIC: dict[str, str] = {
    "icl": "icl_acc",
    "xnli": "acc",
    "advbench": "refusal_rate",
    "multijail": "refusal_rate",
}
BASELINE = "en"
REPORT_FILES = ("summary.json", "table.csv", "report.md")
IDENTICAL_WARNING = ("identical outputs: adapter ignored? base and tuned gave the same output on every document "
                     "of every task; check that the tuned model (or adapter) is really loaded")
COLUMNS = [
    "family", "conjugate", "task", "metric", "status", "n", "base", "tuned", "drop", "drop_ci_low", "drop_ci_high",
    "test", "p_value", "lost", "gained", "recovery", "recovery_frac", "recovery_ci_low", "recovery_ci_high",
    "identical_outputs", "unmatched_base", "unmatched_tuned",
]
_SAMPLES_RE = re.compile(r"^samples_(.+)_(\d{4}-\d{2}-\d{2}T[0-9.\-]+)\.jsonl$")
_RESULTS_RE = re.compile(r"^results_(\d{4}-\d{2}-\d{2}T[0-9.\-]+)\.json$")


# --- loading ----------------------------------------------------------------------------------------------------


@dataclass
class Side:
    """One model's completed tasks (samples + lm-eval results), failures and description."""

    label: str
    samples: dict[str, list[dict]] = field(default_factory=dict)
    results: dict[str, dict] = field(default_factory=dict)
    failed: dict[str, dict] = field(default_factory=dict)
    chat_template: bool | None = None
    model: str | None = None
    adapter: str | None = None


@dataclass
class PairData:
    name: str
    base: Side
    tuned: Side
    tasks: list[str]
    meta: dict
    tokenizers: dict | None = None
    pending: list[tuple[str, str]] = field(default_factory=list)
    source_dir: Path | None = None

    def side(self, role: str) -> Side:
        return self.base if role == "base" else self.tuned


def _read_jsonl(path: Path) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    raise ConjError(f"{path}: line {i} is not valid JSON") from None
    return rows


from conj_harness.jsonl import read_json_or_none as _read_json  # noqa: E402 - one reader for both modules


def _describe(model: str | None, adapter: str | None) -> str:
    return f"{model} + adapter {adapter}" if adapter else str(model)


def load_pair_dir(folder: str | Path) -> PairData:
    """Read a ``conj-harness compare`` folder (or one written by ``report --base-run/--tuned-run``)."""
    folder = Path(folder)
    record = _read_json(folder / "pair.json")
    if record is None:
        raise ConjError(
            f"{folder} holds no pair.json: not a `conj-harness compare` folder. For two lm-eval --output_path "
            "folders use `conj-harness report --base-run A --tuned-run B`"
        )
    if record.get("kind") == "runs":
        data = load_runs(record["base_run"], record["tuned_run"])
        data.name = record.get("name") or folder.name
        data.source_dir = folder
        return data
    sides = {}
    pending = []
    tasks = list(record.get("tasks") or [])
    for role in ("base", "tuned"):
        role_dir = folder / role
        found = sorted(p.name for p in role_dir.iterdir() if p.is_dir()) if role_dir.is_dir() else []
        tasks += [t for t in found if t not in tasks]
    for role in ("base", "tuned"):
        info = record.get(role) or {}
        side = Side(label=_describe(info.get("model"), info.get("adapter")), chat_template=info.get("chat_template"),
                    model=info.get("model"), adapter=info.get("adapter"))
        for task in tasks:
            unit = folder / role / task
            done = _read_json(unit / "done.json")
            if done and (not info.get("identity") or done.get("identity") == info.get("identity")) \
                    and (unit / "samples.jsonl").is_file():
                side.samples[task] = _read_jsonl(unit / "samples.jsonl")
                side.results[task] = _read_json(unit / "results.json") or {}
            elif (unit / "failed.json").is_file():
                side.failed[task] = _read_json(unit / "failed.json") or {"error": "failed (unreadable failed.json)"}
            else:
                pending.append((role, task))
        sides[role] = side
    return PairData(name=record.get("name") or folder.name, base=sides["base"], tuned=sides["tuned"], tasks=tasks,
                    meta=record, tokenizers=_read_json(folder / "tokenizers.json"), pending=pending,
                    source_dir=folder)


def _model_from_config(config: dict) -> tuple[str | None, str | None]:
    args = config.get("model_args")
    if isinstance(args, str):
        args = dict(kv.split("=", 1) for kv in args.split(",") if "=" in kv)
    if not isinstance(args, dict):
        return None, None
    adapter = args.get("peft") or args.get("lora_local_path")
    return (str(args["pretrained"]) if args.get("pretrained") else None), (str(adapter) if adapter else None)


def load_run(folder: str | Path, role: str = "run") -> Side:
    """Read one lm-eval ``--output_path`` folder written with ``--log_samples``.

    lm-eval writes ``<folder>/<model>/results_<time>.json`` and ``samples_<task>_<time>.jsonl``; the folder may
    also be the ``<model>`` sub-folder itself. When a task was run several times, the latest run is used.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ConjError(f"--{role}-run {folder}: no such folder")
    files = [p for p in folder.rglob("samples_*.jsonl") if _SAMPLES_RE.match(p.name)]
    if not files:
        raise ConjError(f"--{role}-run {folder}: no samples_<task>_<time>.jsonl files; run lm-eval with --log_samples")
    parents = sorted({p.parent for p in files})
    if len(parents) > 1:
        raise ConjError(f"--{role}-run {folder} holds runs of several models ({', '.join(str(p.relative_to(folder)) for p in parents)}): "
                        "pass one of these sub-folders")
    latest: dict[str, tuple[str, Path]] = {}
    for p in files:
        task, stamp = _SAMPLES_RE.match(p.name).groups()  # type: ignore[union-attr]
        if task not in latest or stamp > latest[task][0]:
            latest[task] = (stamp, p)
    results_by_stamp = {}
    for p in parents[0].glob("results_*.json"):
        m = _RESULTS_RE.match(p.name)
        if m:
            results_by_stamp[m.group(1)] = _read_json(p) or {}
    side = Side(label=str(folder))
    for task, (stamp, path) in sorted(latest.items()):
        side.samples[task] = _read_jsonl(path)
        side.results[task] = results_by_stamp.get(stamp) or {}
    any_results = next((r for r in side.results.values() if r), {})
    model, adapter = _model_from_config(any_results.get("config") or {})
    side.model, side.adapter = model, adapter
    side.label = _describe(model, adapter) if model else str(folder)
    if any_results:
        side.chat_template = bool(any_results.get("chat_template"))
    return side


def load_runs(base_run: str | Path, tuned_run: str | Path) -> PairData:
    """Two lm-eval output folders as a pair (tasks that only one of them ran are reported as missing)."""
    base, tuned = load_run(base_run, "base"), load_run(tuned_run, "tuned")
    tasks = sorted(set(base.samples) | set(tuned.samples))
    for side, other in ((base, tuned), (tuned, base)):
        for task in other.samples:
            if task not in side.samples:
                side.failed[task] = {"error": "not in this run's folder", "returncode": None}
    meta = {"kind": "runs", "base_run": str(Path(base_run).resolve()), "tuned_run": str(Path(tuned_run).resolve())}
    limits = {json.dumps((r.get("config") or {}).get("limit")) for s in (base, tuned) for r in s.results.values() if r}
    if len(limits) == 1:
        meta["limit"] = json.loads(limits.pop())
    elif len(limits) > 1:
        meta["limit_mismatch"] = sorted(limits)
    return PairData(name=f"{Path(base_run).name}-vs-{Path(tuned_run).name}", base=base, tuned=tuned, tasks=tasks,
                    meta=meta)


# --- analysing --------------------------------------------------------------------------------------------------


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


def _conj_order(c: str | None) -> tuple:
    return (0, "") if c == BASELINE else (1, c or "")


_SAMPLE_KEYS = {"doc_id", "doc", "target", "arguments", "resps", "filtered_resps", "filter", "metrics", "doc_hash",
                "prompt_hash", "target_hash"}


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


def analyze(data: PairData, metrics: dict[str, str] | None = None, n_boot: int = 10_000, seed: int = 0,
            alpha: float = 0.05) -> dict:
    """Rows per (family, conjugate) with scores, drop, recovery and paired significance; warnings; failures."""
    warnings: list[str] = []
    rows: list[dict] = []
    per_doc_drop: dict[str, dict] = {}
    chosen: dict[str, str] = {}
    identical_flags: list[bool] = []
    tasks = sorted(data.tasks, key=lambda t: (parse_task(t)[0], _conj_order(parse_task(t)[1]), t))
    for task in tasks:
        family, conj = parse_task(task)
        b_samples, t_samples = data.base.samples.get(task), data.tuned.samples.get(task)
        any_samples = b_samples or t_samples or []
        if family not in chosen and any_samples:
            chosen[family] = primary_metric(family, any_samples, metrics)
        metric = chosen.get(family) or (metrics or {}).get(family) or PRIMARY_METRIC.get(family)
        row = {c: None for c in COLUMNS}
        row.update(family=family, conjugate=conj, task=task, metric=metric)
        status = []
        for role, s in (("base", b_samples), ("tuned", t_samples)):
            if s is None:
                status.append(f"{role} failed" if task in data.side(role).failed else f"{role} not run")
        row["status"] = "ok" if not status else ", ".join(status)
        if b_samples is not None:
            row["base"] = _mean(_values(b_samples, metric, task))
        if t_samples is not None:
            row["tuned"] = _mean(_values(t_samples, metric, task))
        if b_samples is not None and t_samples is not None:
            try:
                paired = stats.pair_samples(b_samples, t_samples)
            except ValueError as e:
                raise ConjError(f"{task}: {e}") from None
            row["unmatched_base"], row["unmatched_tuned"] = len(paired.base_only), len(paired.tuned_only)
            if paired.base_only or paired.tuned_only:
                warnings.append(f"{task}: {len(paired.base_only)} documents only in base, {len(paired.tuned_only)} "
                                f"only in tuned (different --limit or data?); compared on the {paired.n} in both")
            if paired.key == "doc_id":
                warnings.append(f"{task}: documents carry no unique 'id'; paired by lm-eval's doc_id")
            if paired.n == 0:
                row["status"] = "no common documents"
                rows.append(row)
                continue
            bv, tv = _values(paired.base, metric, task), _values(paired.tuned, metric, task)
            row["n"] = paired.n
            row["base"], row["tuned"] = _mean(bv), _mean(tv)
            boot = stats.paired_bootstrap(bv, tv, n=n_boot, seed=seed, alpha=alpha)
            row["drop"], row["drop_ci_low"], row["drop_ci_high"] = boot["mean_diff"], boot["ci_low"], boot["ci_high"]
            if stats.is_binary(bv) and stats.is_binary(tv):
                mc = stats.mcnemar_exact(bv, tv)
                row.update(test="mcnemar", p_value=mc["p_value"], lost=mc["b"], gained=mc["c"])
            else:
                perm = stats.paired_permutation(bv, tv, n=n_boot, seed=seed)
                row.update(test="permutation", p_value=perm["p_value"])
            same = all(b.get("filtered_resps") == t.get("filtered_resps") for b, t in zip(paired.base, paired.tuned))
            row["identical_outputs"] = same
            identical_flags.append(same)
            per_doc_drop[task] = {k: b - t for k, b, t in zip(paired.keys, bv, tv)}
        rows.append(row)

    # recovery against the family's English row
    families = sorted({r["family"] for r in rows})
    family_info: dict[str, dict] = {}
    for fam in families:
        fam_rows = [r for r in rows if r["family"] == fam]
        en = next((r for r in fam_rows if r["conjugate"] == BASELINE and r["drop"] is not None), None)
        info = {"metric": fam_rows[0]["metric"], "drop_en": en["drop"] if en else None, "conjugates": len(fam_rows)}
        others = [r for r in fam_rows if r["conjugate"] not in (None, BASELINE)]
        if en is None and others:
            warnings.append(f"family {fam}: no completed English ({BASELINE}) task, so recovery is not computed")
        elif en is not None and en["drop"] == 0 and others:
            warnings.append(f"family {fam}: the English drop is 0, so recovery fractions are undefined")
        for r in others:
            if en is None or r["drop"] is None:
                continue
            r["recovery"] = en["drop"] - r["drop"]
            r["recovery_frac"] = stats.recovery_fraction(en["drop"], r["drop"])
            d_en, d_c = per_doc_drop[en["task"]], per_doc_drop[r["task"]]
            if set(d_en) == set(d_c):
                keys = sorted(d_en, key=stats._sort_key)
                rec = stats.bootstrap_recovery([d_en[k] for k in keys], [d_c[k] for k in keys], True, n=n_boot,
                                               seed=seed, alpha=alpha)
            else:
                rec = stats.bootstrap_recovery(list(d_en.values()), list(d_c.values()), False, n=n_boot, seed=seed,
                                               alpha=alpha)
            r["recovery_ci_low"], r["recovery_ci_high"] = rec["ci_low"], rec["ci_high"]
            if r["base"] is not None and r["base"] < en["drop"]:
                warnings.append(
                    f"{fam}/{r['conjugate']}: the base model scores only {r['base']:.3f} here, below the English drop "
                    f"{en['drop']:.3f}, so at least {en['drop'] - r['base']:.3f} of the recovery reflects the base "
                    "model's weakness in this conjugate, not the conjugate restoring the capability")
        rec_rows = [r for r in others if r["recovery_frac"] is not None]
        if rec_rows:
            best = max(rec_rows, key=lambda r: r["recovery_frac"])
            info.update(best_conjugate=best["conjugate"], best_recovery_frac=best["recovery_frac"])
        family_info[fam] = info

    identical = bool(identical_flags) and all(identical_flags)
    if identical:
        warnings.insert(0, IDENTICAL_WARNING)
    b_ct, t_ct = data.base.chat_template, data.tuned.chat_template
    if b_ct is not None and t_ct is not None and b_ct != t_ct:
        warnings.append(f"chat-template settings differ: base {'on' if b_ct else 'off'}, tuned {'on' if t_ct else 'off'}")
    tok = data.tokenizers
    if tok and tok.get("same") is False:
        warnings.append(tok.get("note") or "different tokenizers")
    if data.meta.get("limit_mismatch"):
        warnings.append(f"the two runs used different --limit values: {', '.join(data.meta['limit_mismatch'])}")
    failures = []
    for role in ("base", "tuned"):
        for task, info in sorted(data.side(role).failed.items()):
            failures.append({"role": role, "task": task, "returncode": info.get("returncode"),
                             "error": info.get("error"), "log": info.get("log"), "tail": info.get("tail")})
            warnings.append(f"{role} failed on {task}: {info.get('error')}"
                            + (f" (log: {info['log']})" if info.get("log") else "")
                            + ("; the other model's result is kept" if task in data.side(
                                "tuned" if role == "base" else "base").samples else ""))
    if data.pending:
        warnings.append(f"{len(data.pending)} runs not done yet (interrupted?): "
                        + ", ".join(f"{r} {t}" for r, t in data.pending) + "; re-run the same command to finish")
    limit = data.meta.get("limit")
    if limit:
        warnings.append(f"computed with --limit {limit:g}: not the full task" if isinstance(limit, (int, float))
                        else f"computed with --limit {limit}")

    return {
        "schema": 1,
        "name": data.name,
        "base": {"label": data.base.label, "model": data.base.model, "adapter": data.base.adapter,
                 "chat_template": b_ct},
        "tuned": {"label": data.tuned.label, "model": data.tuned.model, "adapter": data.tuned.adapter,
                  "chat_template": t_ct},
        "backend": data.meta.get("backend"),
        "limit": limit,
        "metrics": {fam: info["metric"] for fam, info in family_info.items()},
        "families": family_info,
        "rows": rows,
        "identical_outputs": identical,
        "warnings": warnings,
        "failures": failures,
        "pending": [{"role": r, "task": t} for r, t in data.pending],
        "tokenizers": tok,
        "stats": {"bootstrap_resamples": n_boot, "seed": seed, "alpha": alpha,
                  "drop": "base - tuned of the family's primary metric",
                  "p_value": "exact McNemar (0/1 metrics) or sign-flip permutation, paired by doc id"},
    }


# --- rendering --------------------------------------------------------------------------------------------------


def _fmt(v, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _p(v) -> str:
    if v is None:
        return "-"
    return f"{v:.2g}" if v < 0.001 else f"{v:.3f}"


def _md_table(header: list[str], body: list[list[str]]) -> str:
    def esc(c: str) -> str:
        return str(c).replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(esc(h) for h in header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in body]
    return "\n".join(lines)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def plot_family(summary: dict, family: str) -> dict[str, bytes]:
    """``drop_<family>.png`` (bar per conjugate with CI, dashed line at the English drop) and
    ``base_vs_tuned_<family>.png`` (grouped bars). Rendered with the Agg canvas, no pyplot state."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = [r for r in summary["rows"] if r["family"] == family]
    metric = summary["metrics"].get(family) or "metric"
    out: dict[str, bytes] = {}
    labels = [r["conjugate"] or r["task"] for r in rows]

    ok = [r for r in rows if r["drop"] is not None]
    if ok:
        fig = Figure(figsize=(max(4.0, 0.8 * len(ok) + 2), 3.6))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        xs = range(len(ok))
        drops = [r["drop"] for r in ok]
        err = [[max(0.0, r["drop"] - r["drop_ci_low"]) for r in ok], [max(0.0, r["drop_ci_high"] - r["drop"]) for r in ok]]
        colors = ["#444444" if r["conjugate"] == BASELINE else "#4878d0" for r in ok]
        ax.bar(list(xs), drops, yerr=err, color=colors, capsize=3)
        en = summary["families"].get(family, {}).get("drop_en")
        if en is not None:
            ax.axhline(en, color="#444444", linestyle="--", linewidth=1, label=f"English drop ({en:.3f})")
            ax.legend(loc="best", fontsize=8)
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_xticks(list(xs), [r["conjugate"] or r["task"] for r in ok])
        ax.set_ylabel(f"drop = base - tuned ({metric})")
        ax.set_title(f"{family}: drop per conjugate ({1 - summary['stats']['alpha']:.0%} bootstrap CI)", fontsize=10)
        out[f"drop_{family}.png"] = _png(fig)

    fig = Figure(figsize=(max(4.0, 0.9 * len(rows) + 2), 3.6))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    width = 0.38
    xs = list(range(len(rows)))
    nan = float("nan")
    ax.bar([x - width / 2 for x in xs], [r["base"] if r["base"] is not None else nan for r in rows], width,
           label="base", color="#8c8c8c")
    ax.bar([x + width / 2 for x in xs], [r["tuned"] if r["tuned"] is not None else nan for r in rows], width,
           label="tuned", color="#4878d0")
    values = [v for r in rows for v in (r["base"], r["tuned"]) if v is not None]
    if values and all(0 <= v <= 1 for v in values):
        ax.set_ylim(0, 1.02)  # rates and accuracies: the full scale, so small differences look small
    ax.set_xticks(xs, labels)
    ax.set_ylabel(metric)
    ax.set_title(f"{family}: base vs tuned", fontsize=10)
    ax.legend(loc="best", fontsize=8)
    out[f"base_vs_tuned_{family}.png"] = _png(fig)
    return out


def render_markdown(summary: dict, images: Sequence[str]) -> str:
    alpha = summary["stats"]["alpha"]
    conf = f"{1 - alpha:.0%}"
    lines = [f"# Base vs tuned: {summary['name']}", ""]
    for role in ("base", "tuned"):
        s = summary[role]
        ct = {True: "on", False: "off", None: "unknown"}[s.get("chat_template")]
        lines.append(f"- **{role}**: `{s['label']}` (chat template: {ct})")
    if summary.get("backend"):
        lines.append(f"- backend: {summary['backend']}")
    tok = summary.get("tokenizers")
    if tok:
        lines.append(f"- tokenizers: {tok.get('note')}")
    lines.append("")
    if summary["warnings"]:
        lines += ["## Warnings", ""]
        for w in summary["warnings"]:
            lines.append(f"- **{w}**" if w == IDENTICAL_WARNING else f"- {w}")
        lines.append("")
    for fam, info in summary["families"].items():
        rows = [r for r in summary["rows"] if r["family"] == fam]
        lines += [f"## {fam} (metric `{info['metric']}`)", ""]
        body = []
        for r in rows:
            ci = f" [{_fmt(r['drop_ci_low'])}, {_fmt(r['drop_ci_high'])}]" if r["drop"] is not None else ""
            rec_ci = f" [{_fmt(r['recovery_ci_low'])}, {_fmt(r['recovery_ci_high'])}]" if r["recovery"] is not None else ""
            frac = "baseline" if r["conjugate"] == BASELINE else (
                f"{r['recovery_frac']:.0%}" if r["recovery_frac"] is not None else "-")
            body.append([r["conjugate"] or r["task"], _fmt(r["n"]), _fmt(r["base"]), _fmt(r["tuned"]),
                         _fmt(r["drop"]) + ci, _p(r["p_value"]),
                         "-" if r["lost"] is None else f"{r['lost']}/{r['gained']}",
                         _fmt(r["recovery"]) + rec_ci, frac, r["status"]])
        lines.append(_md_table(
            ["conjugate", "n", "base", "tuned", f"drop [{conf} CI]", "p", "lost/gained", f"recovery [{conf} CI]",
             "recovery %", "status"], body))
        lines.append("")
        for img in (f"drop_{fam}.png", f"base_vs_tuned_{fam}.png"):
            if img in images:
                lines.append(f"![{img}]({img})")
        lines.append("")
    if summary["failures"]:
        lines += ["## Failures", ""]
        for f in summary["failures"]:
            lines.append(f"### {f['role']} / {f['task']}: {f.get('error')}")
            if f.get("log"):
                lines.append(f"log: `{f['log']}`")
            if f.get("tail"):
                lines += ["", "```", f["tail"][-3000:], "```"]
            lines.append("")
    lines += [
        "## Definitions", "",
        "- **drop** = base - tuned, of the family's primary metric (positive: fine-tuning took it away).",
        "- **recovery** = drop(en) - drop(conjugate): how much of the English drop the conjugate avoids; "
        "**recovery %** = recovery / drop(en) (100%: all of it comes back; undefined when drop(en) = 0).",
        "- **p**: exact McNemar test on the discordant documents (lost = base right, tuned wrong; gained = the "
        "reverse) for 0/1 metrics, a sign-flip permutation test otherwise; documents paired by their `id`.",
        f"- **CI**: {conf} percentile paired bootstrap over documents "
        f"({summary['stats']['bootstrap_resamples']} resamples, seed {summary['stats']['seed']}).",
        "",
    ]
    return "\n".join(lines)


def _json_safe(obj):
    if isinstance(obj, float) and (math.isnan(obj) or math.isinf(obj)):
        return None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


def write_report(summary: dict, out_dir: str | Path) -> list[Path]:
    """Write summary.json, table.csv, report.md and the PNGs into ``out_dir`` (atomically; stale PNGs removed)."""
    import pandas as pd

    out_dir = Path(out_dir)
    images: dict[str, bytes] = {}
    for fam in summary["families"]:
        images.update(plot_family(summary, fam))
    written = [atomic.write_json(out_dir / "summary.json", _json_safe(summary))]
    table = pd.DataFrame(summary["rows"], columns=COLUMNS)
    written.append(atomic.write_bytes(out_dir / "table.csv", table.to_csv(index=False).encode("utf-8")))
    for name, data in images.items():
        written.append(atomic.write_bytes(out_dir / name, data))
    for old in list(out_dir.glob("drop_*.png")) + list(out_dir.glob("base_vs_tuned_*.png")):
        if old.name not in images:
            old.unlink(missing_ok=True)
    written.append(atomic.write_text(out_dir / "report.md", render_markdown(summary, list(images))))
    return written


def render_pair_dir(folder: str | Path, metrics: dict[str, str] | None = None, n_boot: int = 10_000, seed: int = 0,
                    alpha: float = 0.05) -> dict:
    """Re-render a compare folder's report from its saved samples (no inference); returns the summary."""
    data = load_pair_dir(folder)
    summary = analyze(data, metrics=metrics, n_boot=n_boot, seed=seed, alpha=alpha)
    write_report(summary, folder)
    return summary


def render_runs(base_run: str | Path, tuned_run: str | Path, out_dir: str | Path, force: bool = False,
                metrics: dict[str, str] | None = None, n_boot: int = 10_000, seed: int = 0,
                alpha: float = 0.05) -> dict:
    """Compare two lm-eval output folders; ``out_dir`` gets a pair.json pointing at them (re-renderable)."""
    from conj_harness.compare import compare_tokenizers, tokenizer_info

    out_dir = Path(out_dir)
    data = load_runs(base_run, tuned_run)
    record = {"kind": "runs", "name": out_dir.name, "base_run": data.meta["base_run"], "tuned_run": data.meta["tuned_run"]}
    old = _read_json(out_dir / "pair.json") if out_dir.is_dir() else None
    entries = [p for p in out_dir.iterdir() if not p.name.startswith(".")] if out_dir.is_dir() else []
    if not force:
        if old is not None and (old.get("kind"), old.get("base_run"), old.get("tuned_run")) != \
                ("runs", record["base_run"], record["tuned_run"]):
            raise ConjError(f"{out_dir} holds another pair's report: choose another --output, or pass --force")
        if old is None and entries:
            raise ConjError(f"{out_dir} is not empty: choose another --output, or pass --force")
    data.name = out_dir.name
    data.tokenizers = compare_tokenizers(tokenizer_info(data.base.model) if data.base.model else {"checked": False},
                                         tokenizer_info(data.tuned.model, data.tuned.adapter) if data.tuned.model
                                         else {"checked": False})
    atomic.write_json(out_dir / "pair.json", record)
    atomic.write_json(out_dir / "tokenizers.json", data.tokenizers)
    summary = analyze(data, metrics=metrics, n_boot=n_boot, seed=seed, alpha=alpha)
    write_report(summary, out_dir)
    return summary


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


def write_cross_pair(summaries: dict[str, dict], out_dir: str | Path) -> list[Path]:
    """``cross_pair.csv`` (one row per pair, family, conjugate) and ``cross_pair.md`` (drop and recovery grids)."""
    import pandas as pd

    out_dir = Path(out_dir)
    rows = cross_pair_rows(summaries)
    written = [atomic.write_bytes(out_dir / "cross_pair.csv",
                                  pd.DataFrame(rows, columns=CROSS_COLUMNS).to_csv(index=False).encode("utf-8"))]
    lines = ["# Cross-pair summary", ""]
    lines.append(_md_table(["pair", "base", "tuned", "warnings", "report"],
                           [[p, f"`{s['base']['label']}`", f"`{s['tuned']['label']}`", str(len(s["warnings"])),
                             f"[{p}/report.md]({p}/report.md)"] for p, s in summaries.items()]))
    lines.append("")
    families = sorted({r["family"] for r in rows})
    for fam in families:
        fam_rows = [r for r in rows if r["family"] == fam]
        conjs = sorted({r["conjugate"] for r in fam_rows}, key=_conj_order)
        metric = next((r["metric"] for r in fam_rows if r["metric"]), "?")
        cell = {(r["pair"], r["conjugate"]): r for r in fam_rows}
        lines += [f"## {fam} (metric `{metric}`): drop = base - tuned (recovery %)", ""]
        body = []
        for pair in summaries:
            line = [pair]
            for c in conjs:
                r = cell.get((pair, c))
                if r is None or r["drop"] is None:
                    line.append("-" if r is None else r["status"])
                else:
                    frac = f" ({r['recovery_frac']:.0%})" if r["recovery_frac"] is not None else ""
                    line.append(f"{r['drop']:.3f}{frac}")
            body.append(line)
        lines.append(_md_table(["pair", *[c or "-" for c in conjs]], body))
        lines.append("")
    for pair, s in summaries.items():
        if s["warnings"]:
            lines += [f"### warnings: {pair}", ""] + [f"- {w}" for w in s["warnings"]] + [""]
    written.append(atomic.write_text(out_dir / "cross_pair.md", "\n".join(lines)))
    return written


def render_multi_dir(folder: str | Path, metrics: dict[str, str] | None = None, n_boot: int = 10_000, seed: int = 0,
                     alpha: float = 0.05, rerender: bool = True) -> dict[str, dict]:
    """Cross-pair summary of a ``compare --pairs`` folder; ``rerender`` re-renders each pair's report first."""
    folder = Path(folder)
    record = _read_json(folder / "pairs.json")
    if record is None:
        raise ConjError(f"{folder} holds no pairs.json: not a `conj-harness compare --pairs` folder")
    summaries = {}
    for name in record.get("pairs") or []:
        sub = folder / name
        if not (sub / "pair.json").is_file():
            continue
        if rerender or not (sub / "summary.json").is_file():
            summaries[name] = render_pair_dir(sub, metrics=metrics, n_boot=n_boot, seed=seed, alpha=alpha)
        else:
            summaries[name] = _read_json(sub / "summary.json") or render_pair_dir(sub, metrics=metrics, n_boot=n_boot,
                                                                                  seed=seed, alpha=alpha)
    write_cross_pair(summaries, folder)
    return summaries
