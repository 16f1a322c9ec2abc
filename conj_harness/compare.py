"""Comparing a base model with its fine-tune, end to end: run the pair (:mod:`conj_harness.pairs`), then write its
report (:mod:`conj_harness.report`) while still holding the results folder's lock.

This is what ``conj-harness compare`` and ``conj-harness demo`` call; from Python::

    from conj_harness import PairSpec, compare_pair
    outcome = compare_pair(PairSpec(base="...", tuned="...", tasks=["conj_icl"]), "results/mine")
    outcome.summary["rows"]
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from conj_harness.pairs.runner import PairOutcome, run_pair, run_pairs
from conj_harness.pairs.spec import PairSpec
from conj_harness.report.render import render_multi_dir, render_pair_dir

__all__ = ["PairOutcome", "compare_pair", "compare_pairs"]


def compare_pair(spec: PairSpec, out: str | os.PathLike[str], force: bool = False, progress: bool | None = None,
                 process_per: str = "task", metrics: dict[str, str] | None = None, n_boot: int = 10_000,
                 seed: int = 0, alpha: float = 0.05) -> PairOutcome:
    """Run (or resume) ``spec`` into ``out`` and write its report; the outcome carries the report's summary."""
    render = functools.partial(render_pair_dir, metrics=metrics, n_boot=n_boot, seed=seed, alpha=alpha)
    return run_pair(spec, out, force=force, progress=progress, process_per=process_per, finish=render)


def compare_pairs(specs: list[PairSpec], out: str | os.PathLike[str], force: bool = False,
                  progress: bool | None = None, process_per: str = "task", metrics: dict[str, str] | None = None,
                  n_boot: int = 10_000, seed: int = 0, alpha: float = 0.05) -> list[PairOutcome]:
    """Every pair into ``out/<name>/`` with its report, then ``cross_pair.csv`` / ``cross_pair.md`` in ``out``."""
    stats = {"metrics": metrics, "n_boot": n_boot, "seed": seed, "alpha": alpha}

    def cross_pair(folder: Path) -> None:
        render_multi_dir(folder, rerender=False, **stats)  # type: ignore[arg-type]

    return run_pairs(specs, out, force=force, progress=progress, process_per=process_per,
                     finish=functools.partial(render_pair_dir, **stats), finish_all=cross_pair)  # type: ignore[arg-type]
