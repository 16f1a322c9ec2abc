"""``report.md`` and ``cross_pair.md``: the summary as Markdown tables, warnings first, definitions last."""

from __future__ import annotations

import math
from collections.abc import Sequence

from conj_harness.report.analysis import BASELINE, IDENTICAL_WARNING, conj_order


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


def table(header: list[str], body: list[list[str]]) -> str:
    def esc(c: str) -> str:
        return str(c).replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(esc(h) for h in header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in body]
    return "\n".join(lines)


def _header(summary: dict) -> list[str]:
    lines = [f"# Base vs tuned: {summary['name']}", ""]
    for role in ("base", "tuned"):
        s = summary[role]
        ct = {True: "on", False: "off", None: "unknown"}[s.get("chat_template")]
        lines.append(f"- **{role}**: `{s['label']}` (chat template: {ct})")
    if summary.get("backend"):
        lines.append(f"- backend: {summary['backend']}")
    judge = summary.get("judge")
    if judge:
        extra = ", ".join(f"{k} {judge[k]}" for k in ("model", "translator") if judge.get(k) not in (None, "none"))
        lines.append(f"- safety judge: {judge.get('name')} ({judge.get('version')}{', ' + extra if extra else ''})")
    tok = summary.get("tokenizers")
    if tok:
        lines.append(f"- tokenizers: {tok.get('note')}")
    lines.append("")
    if summary["warnings"]:
        lines += ["## Warnings", ""]
        lines += [f"- **{w}**" if w == IDENTICAL_WARNING else f"- {w}" for w in summary["warnings"]]
        lines.append("")
    return lines


def _family_table(rows: list[dict], conf: str) -> str:
    body = []
    for r in rows:
        ci = "" if r["drop"] is None else f" [{_fmt(r['drop_ci_low'])}, {_fmt(r['drop_ci_high'])}]"
        rec_ci = "" if r["recovery"] is None else f" [{_fmt(r['recovery_ci_low'])}, {_fmt(r['recovery_ci_high'])}]"
        frac = "baseline" if r["conjugate"] == BASELINE else (
            f"{r['recovery_frac']:.0%}" if r["recovery_frac"] is not None else "-")
        body.append([r["conjugate"] or r["task"], _fmt(r["n"]), _fmt(r["base"]), _fmt(r["tuned"]),
                     _fmt(r["drop"]) + ci, _p(r["p_value"]),
                     "-" if r["lost"] is None else f"{r['lost']}/{r['gained']}",
                     _fmt(r["recovery"]) + rec_ci, frac, r["status"]])
    return table(["conjugate", "n", "base", "tuned", f"drop [{conf} CI]", "p", "lost/gained",
                  f"recovery [{conf} CI]", "recovery %", "status"], body)


def _failures(summary: dict) -> list[str]:
    if not summary["failures"]:
        return []
    lines = ["## Failures", ""]
    for f in summary["failures"]:
        lines.append(f"### {f['role']} / {f['task']}: {f.get('error')}")
        if f.get("log"):
            lines.append(f"log: `{f['log']}`")
        if f.get("tail"):
            lines += ["", "```", f["tail"][-3000:], "```"]
        lines.append("")
    return lines


def render_markdown(summary: dict, images: Sequence[str]) -> str:
    """``report.md``: the models, warnings, one table (and plots) per family, failures, definitions."""
    conf = f"{1 - summary['stats']['alpha']:.0%}"
    lines = _header(summary)
    for fam, info in summary["families"].items():
        lines += [f"## {fam} (metric `{info['metric']}`)", ""]
        lines.append(_family_table([r for r in summary["rows"] if r["family"] == fam], conf))
        lines.append("")
        lines += [f"![{img}]({img})" for img in (f"drop_{fam}.png", f"base_vs_tuned_{fam}.png") if img in images]
        lines.append("")
    lines += _failures(summary)
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


def render_cross_pair(summaries: dict[str, dict], rows: list[dict]) -> str:
    """``cross_pair.md``: one line per pair, then a drop (recovery %) grid per family, then each pair's warnings."""
    lines = ["# Cross-pair summary", ""]
    lines.append(table(["pair", "base", "tuned", "warnings", "report"],
                       [[p, f"`{s['base']['label']}`", f"`{s['tuned']['label']}`", str(len(s["warnings"])),
                         f"[{p}/report.md]({p}/report.md)"] for p, s in summaries.items()]))
    lines.append("")
    for fam in sorted({r["family"] for r in rows}):
        fam_rows = [r for r in rows if r["family"] == fam]
        conjs = sorted({r["conjugate"] for r in fam_rows}, key=conj_order)
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
        lines.append(table(["pair", *[c or "-" for c in conjs]], body))
        lines.append("")
    for pair, s in summaries.items():
        if s["warnings"]:
            lines += [f"### warnings: {pair}", ""] + [f"- {w}" for w in s["warnings"]] + [""]
    return "\n".join(lines)
