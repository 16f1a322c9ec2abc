"""Writing a report: ``summary.json``, ``table.csv``, ``report.md`` and the PNGs, atomically, into a pair's folder.

* :func:`render_pair_dir` - (re-)render a compare folder from its saved samples;
* :func:`render_runs` - compare two lm-eval ``--output_path`` folders made elsewhere;
* :func:`render_multi_dir` - ``cross_pair.csv`` / ``cross_pair.md`` over a ``compare --pairs`` folder.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from conj_harness.files import atomic
from conj_harness.files.jsonl import read_json_or_none
from conj_harness.pairs.store import MultiPairStore, PairStore
from conj_harness.pairs.tokenizers import compare_tokenizers, tokenizer_info
from conj_harness.report.analysis import COLUMNS, CROSS_COLUMNS, analyze, cross_pair_rows
from conj_harness.report.inputs import load_pair_dir, load_runs
from conj_harness.report.markdown import render_cross_pair, render_markdown
from conj_harness.report.plots import plot_family

REPORT_FILES = ("summary.json", "table.csv", "report.md")


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, float) and (math.isnan(obj) or math.isinf(obj)):
        return None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


def _csv(rows: list[dict], columns: list[str]) -> bytes:
    import pandas as pd

    return pd.DataFrame(rows, columns=columns).to_csv(index=False).encode("utf-8")


def warm_up() -> None:
    """Import what a report needs (pandas, matplotlib: ~2 s on a slow machine) ahead of time: a compare calls it in
    a background thread while a model runs, so the report after the last task does not pay for it."""
    import pandas  # noqa: F401
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
    from matplotlib.figure import Figure  # noqa: F401


def write_report(summary: dict, out_dir: str | Path) -> list[Path]:
    """Write summary.json, table.csv, report.md and the PNGs into ``out_dir`` (atomically; stale PNGs removed)."""
    out_dir = Path(out_dir)
    images: dict[str, bytes] = {}
    for fam in summary["families"]:
        images.update(plot_family(summary, fam))
    written = [atomic.write_json(out_dir / "summary.json", _json_safe(summary)),
               atomic.write_bytes(out_dir / "table.csv", _csv(summary["rows"], COLUMNS))]
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
    summary = analyze(load_pair_dir(folder), metrics=metrics, n_boot=n_boot, seed=seed, alpha=alpha)
    write_report(summary, folder)
    return summary


def render_runs(base_run: str | Path, tuned_run: str | Path, out_dir: str | Path, force: bool = False,
                metrics: dict[str, str] | None = None, n_boot: int = 10_000, seed: int = 0,
                alpha: float = 0.05) -> dict:
    """Compare two lm-eval output folders; ``out_dir`` gets a pair.json pointing at them (re-renderable)."""
    data = load_runs(base_run, tuned_run)
    store = PairStore(out_dir)
    store.prepare_runs(data.meta["base_run"], data.meta["tuned_run"], force)
    data.name = store.root.name
    data.tokenizers = compare_tokenizers(
        tokenizer_info(data.base.model) if data.base.model else {"checked": False},
        tokenizer_info(data.tuned.model, data.tuned.adapter) if data.tuned.model else {"checked": False})
    store.write_tokenizers(data.tokenizers)
    summary = analyze(data, metrics=metrics, n_boot=n_boot, seed=seed, alpha=alpha)
    write_report(summary, store.root)
    return summary


def write_cross_pair(summaries: dict[str, dict], out_dir: str | Path) -> list[Path]:
    """``cross_pair.csv`` (one row per pair, family, conjugate) and ``cross_pair.md`` (drop and recovery grids)."""
    out_dir = Path(out_dir)
    rows = cross_pair_rows(summaries)
    return [atomic.write_bytes(out_dir / "cross_pair.csv", _csv(rows, CROSS_COLUMNS)),
            atomic.write_text(out_dir / "cross_pair.md", render_cross_pair(summaries, rows))]


def render_multi_dir(folder: str | Path, metrics: dict[str, str] | None = None, n_boot: int = 10_000, seed: int = 0,
                     alpha: float = 0.05, rerender: bool = True) -> dict[str, dict]:
    """Cross-pair summary of a ``compare --pairs`` folder; ``rerender`` re-renders each pair's report first."""
    from conj_harness.errors import ConjError

    multi = MultiPairStore(folder)
    if multi.record() is None:
        raise ConjError(f"{multi.root} holds no pairs.json: not a `conj-harness compare --pairs` folder")
    summaries = {}
    for name in multi.pair_names():
        store = multi.pair(name)
        if store.record() is None:
            continue
        old = None if rerender else read_json_or_none(store.root / "summary.json")
        summaries[name] = old or render_pair_dir(store.root, metrics=metrics, n_boot=n_boot, seed=seed, alpha=alpha)
    write_cross_pair(summaries, multi.root)
    return summaries
