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

from conj_harness.pairs.ray_executor import RaySettings, check_executor
from conj_harness.pairs.runner import PairOutcome, run_pair, run_pairs, run_study_on_ray
from conj_harness.pairs.spec import PairSpec
from conj_harness.report.analysis import check_metric_overrides, check_stats_settings
from conj_harness.report.render import render_multi_dir, render_pair_dir, warm_up

__all__ = ["PairOutcome", "compare_pair", "compare_pairs", "rejudge_pair"]


def compare_pair(spec: PairSpec, out: str | os.PathLike[str], force: bool = False, progress: bool | None = None,
                 process_per: str = "model", metrics: dict[str, str] | None = None, n_boot: int = 10_000,
                 seed: int = 0, alpha: float = 0.05, executor: str = "local",
                 ray: RaySettings | None = None) -> PairOutcome:
    """Run (or resume) ``spec`` into ``out`` and write its report; the outcome carries the report's summary.
    ``executor="ray"``: its model runs are Ray actors (:mod:`conj_harness.pairs.ray_executor`; ``ray`` says
    where)."""
    check_metric_overrides(metrics)  # before any model runs
    check_stats_settings(n_boot, seed, alpha)
    render = functools.partial(render_pair_dir, metrics=metrics, n_boot=n_boot, seed=seed, alpha=alpha)
    if _on_ray(executor, process_per):
        return run_study_on_ray([spec], out, False, ray or RaySettings(), force=force, finish=render)[0]
    return run_pair(spec, out, force=force, progress=progress, process_per=process_per, finish=render,
                    warm=warm_up)


def compare_pairs(specs: list[PairSpec], out: str | os.PathLike[str], force: bool = False,
                  progress: bool | None = None, process_per: str = "model", metrics: dict[str, str] | None = None,
                  n_boot: int = 10_000, seed: int = 0, alpha: float = 0.05, executor: str = "local",
                  ray: RaySettings | None = None) -> list[PairOutcome]:
    """Every pair into ``out/<name>/`` with its report, then ``cross_pair.csv`` / ``cross_pair.md`` in ``out``.
    A run two pairs share (the same base, same settings) runs once; ``executor="ray"``: on Ray."""
    check_metric_overrides(metrics)  # before any model runs
    check_stats_settings(n_boot, seed, alpha)
    stats = {"metrics": metrics, "n_boot": n_boot, "seed": seed, "alpha": alpha}

    def cross_pair(folder: Path) -> None:
        render_multi_dir(folder, rerender=False, **stats)  # type: ignore[arg-type]

    if _on_ray(executor, process_per):
        return run_study_on_ray(specs, out, True, ray or RaySettings(), force=force,
                                finish=functools.partial(render_pair_dir, **stats),  # type: ignore[arg-type]
                                finish_all=cross_pair)
    return run_pairs(specs, out, force=force, progress=progress, process_per=process_per,
                     finish=functools.partial(render_pair_dir, **stats), finish_all=cross_pair,  # type: ignore[arg-type]
                     warm=warm_up)


def _on_ray(executor: str, process_per: str) -> bool:
    if check_executor(executor) == "ray" and process_per != "model":
        from conj_harness.errors import ConjError

        raise ConjError("--process-per task is for the local executor; on Ray each model run is one actor")
    return executor == "ray"


def rejudge_pair(out: str | os.PathLike[str], judge: str, judge_model: str | None = None,
                 judge_translator: str | None = None, metrics: dict[str, str] | None = None, n_boot: int = 10_000,
                 seed: int = 0, alpha: float = 0.05) -> dict:
    """Relabel a compare folder's safety tasks with another judge from the saved generations; re-render its report.

    No model is loaded for generation. The folder's pair identity then names the new judge, so a later
    ``compare`` into it resumes with that judge.
    """
    from dataclasses import fields

    from conj_harness.errors import ConjError
    from conj_harness.pairs.rejudge import rejudge_store
    from conj_harness.pairs.store import PairStore

    store = PairStore(out)
    record = store.record()
    if record is None or record.get("kind") == "runs" or not isinstance(record.get("spec"), dict):
        raise ConjError(f"{store.root} holds no compare pair.json: rejudge takes a `conj-harness compare` folder "
                        "(or, with --output, an lm-eval --output_path folder)")
    known = {f.name for f in fields(PairSpec)}
    saved = {k: v for k, v in record["spec"].items() if k in known}
    spec = PairSpec(**{**saved, "judge": judge, "judge_model": judge_model, "judge_translator": judge_translator})
    with store.lock():
        store.prepare(spec, list(record.get("tasks") or []), force=False)
        rejudge_store(store, spec.judge_spec(), {r: spec.identity(r) for r in ("base", "tuned")})
        return render_pair_dir(store.root, metrics=metrics, n_boot=n_boot, seed=seed, alpha=alpha)
