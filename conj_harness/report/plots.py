"""The report's plots, rendered to PNG bytes with matplotlib's Agg canvas (no pyplot state, no display)."""

from __future__ import annotations

import io

from conj_harness.report.analysis import BASELINE


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
        xs = list(range(len(ok)))
        drops = [r["drop"] for r in ok]
        err = [[max(0.0, r["drop"] - r["drop_ci_low"]) for r in ok],
               [max(0.0, r["drop_ci_high"] - r["drop"]) for r in ok]]
        colors = ["#444444" if r["conjugate"] == BASELINE else "#4878d0" for r in ok]
        ax.bar(list(xs), drops, yerr=err, color=colors, capsize=3)
        en = summary["families"].get(family, {}).get("drop_en")
        if en is not None:
            ax.axhline(en, color="#444444", linestyle="--", linewidth=1, label=f"English drop ({en:.3f})")
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)  # off the bars
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
    # outside the axes, to the right: inside, "best" still lands on a bar when every bar is tall
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    out[f"base_vs_tuned_{family}.png"] = _png(fig)
    return out


