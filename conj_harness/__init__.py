"""conj-harness: conjugate prompting (Kotha, Springer, Raghunathan, ICLR 2024) as lm-evaluation-harness tasks.

The API (typed; :mod:`conj_harness.api`), imported on first use so that ``import conj_harness`` stays light:

* :func:`conjugate` - put lm-eval tasks through conjugates (Leetspeak, Pig Latin, languages) -> the written tasks;
* :func:`compare` - a base model vs its fine-tune over conj_* tasks -> :class:`CompareResult` (summary, report);
* :func:`judge_responses` - REFUSE / ANSWER / AMBIGUOUS for responses to harmful requests, with the judge the
  safety tasks use (rules, a classifier, or both) -> :class:`JudgeVerdict` s;
* :func:`task_manager` - the conj_* tasks for ``lm_eval.simple_evaluate``;
* :class:`PairSpec` - what :func:`compare` runs; :class:`ConjError` (and :class:`DataError`,
  :class:`UnknownNameError`) - every error a user can fix; ``__version__``.

Lower-level pieces stay importable for existing scripts (:func:`compare_pair`, :func:`get_conjugate`,
:data:`FAMILIES`, the translation layer...), but the package's stages
(``data`` -> ``conjugates`` -> ``families`` -> ``translation`` -> ``judge`` -> ``lmeval`` -> ``pairs`` ->
``report``; ARCHITECTURE.md) are internals that may change between releases.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from conj_harness.errors import ArgumentError, ConjError, DataError, UnknownNameError

if TYPE_CHECKING:
    from conj_harness.api import (
        CompareResult,
        ConjugatedTask,
        JudgeVerdict,
        compare,
        conjugate,
        judge_responses,
        task_manager,
    )
    from conj_harness.comparison import compare_pair, compare_pairs
    from conj_harness.conjugates import Conjugate
    from conj_harness.conjugates import get as get_conjugate
    from conj_harness.conjugates import names as conjugate_names
    from conj_harness.families.registry import FAMILIES, Family
    from conj_harness.lmeval.taskgen import tasks_dir
    from conj_harness.pairs.spec import PairSpec
    from conj_harness.report.render import render_pair_dir as render_report
    from conj_harness.translation.cache import TranslationCache
    from conj_harness.translation.layer import TranslationLayer
    from conj_harness.translators import get_backend

def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("conj-harness")
    except PackageNotFoundError:  # imported from a clone that was never installed
        return "0+unknown"


__version__ = _version()

# name -> (module, attribute): resolved on first access (PEP 562)
_LAZY: dict[str, tuple[str, str]] = {
    "conjugate": ("conj_harness.api", "conjugate"),
    "compare": ("conj_harness.api", "compare"),
    "task_manager": ("conj_harness.api", "task_manager"),
    "CompareResult": ("conj_harness.api", "CompareResult"),
    "ConjugatedTask": ("conj_harness.api", "ConjugatedTask"),
    "JudgeVerdict": ("conj_harness.api", "JudgeVerdict"),
    "tasks_dir": ("conj_harness.lmeval.taskgen", "tasks_dir"),
    "Conjugate": ("conj_harness.conjugates", "Conjugate"),
    "get_conjugate": ("conj_harness.conjugates", "get"),
    "conjugate_names": ("conj_harness.conjugates", "names"),
    "FAMILIES": ("conj_harness.families.registry", "FAMILIES"),
    "Family": ("conj_harness.families.registry", "Family"),
    "PairSpec": ("conj_harness.pairs.spec", "PairSpec"),
    "compare_pair": ("conj_harness.comparison", "compare_pair"),
    "compare_pairs": ("conj_harness.comparison", "compare_pairs"),
    "render_report": ("conj_harness.report.render", "render_pair_dir"),
    "judge_responses": ("conj_harness.api", "judge_responses"),
    "TranslationLayer": ("conj_harness.translation.layer", "TranslationLayer"),
    "TranslationCache": ("conj_harness.translation.cache", "TranslationCache"),
    "get_backend": ("conj_harness.translators", "get_backend"),
}

__all__ = [
    "FAMILIES",
    "ArgumentError",
    "CompareResult",
    "ConjError",
    "Conjugate",
    "ConjugatedTask",
    "DataError",
    "Family",
    "JudgeVerdict",
    "PairSpec",
    "TranslationCache",
    "TranslationLayer",
    "UnknownNameError",
    "__version__",
    "compare",
    "compare_pair",
    "compare_pairs",
    "conjugate",
    "conjugate_names",
    "get_backend",
    "get_conjugate",
    "judge_responses",
    "render_report",
    "task_manager",
    "tasks_dir",
]


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'conj_harness' has no attribute {name!r}") from None
    value = getattr(import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
