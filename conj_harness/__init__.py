"""conj-harness: conjugate prompting (Kotha, Springer, Raghunathan, ICLR 2024) as lm-evaluation-harness tasks.

The package follows the pipeline, one subpackage per stage (see ARCHITECTURE.md): ``data`` -> ``conjugates`` ->
``families`` -> ``translation`` / ``translators`` -> ``judge`` -> ``lmeval`` (the only one that imports lm-eval)
-> ``pairs`` -> ``report``, with ``demo`` and ``cli`` on top.

Public API (imported on first use, so ``import conj_harness`` stays light):

* :func:`task_manager`, :func:`tasks_dir` - the conj_* tasks for ``lm_eval.simple_evaluate`` / ``--include_path``;
* :func:`get_conjugate`, :func:`conjugate_names`, :class:`Conjugate` - the conjugate registry;
* :data:`FAMILIES`, :class:`Family` - the task families (ICL, XNLI, AdvBench, MultiJail);
* :class:`PairSpec`, :func:`compare_pair`, :func:`compare_pairs` - base vs fine-tuned runs with their report;
* :func:`render_report` - re-render a compare folder's report from its saved samples;
* :func:`judge_responses` - the refusal judge over a batch of responses (REFUSE / ANSWER / AMBIGUOUS);
* :class:`TranslationLayer`, :class:`TranslationCache`, :func:`get_backend` - the translator layer;
* :class:`ConjError` (and :class:`DataError`, :class:`UnknownNameError`) - every error a user can fix.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from conj_harness.errors import ConjError, DataError, UnknownNameError

if TYPE_CHECKING:
    from conj_harness.compare import compare_pair, compare_pairs
    from conj_harness.conjugates import Conjugate
    from conj_harness.conjugates import get as get_conjugate
    from conj_harness.conjugates import names as conjugate_names
    from conj_harness.families.registry import FAMILIES, Family
    from conj_harness.judge.refusal import judge_many as judge_responses
    from conj_harness.lmeval.registration import task_manager
    from conj_harness.lmeval.taskgen import tasks_dir
    from conj_harness.pairs.spec import PairSpec
    from conj_harness.report.render import render_pair_dir as render_report
    from conj_harness.translation.cache import TranslationCache
    from conj_harness.translation.layer import TranslationLayer
    from conj_harness.translators import get_backend

__version__ = "0.1.0"

# name -> (module, attribute): resolved on first access (PEP 562)
_LAZY: dict[str, tuple[str, str]] = {
    "task_manager": ("conj_harness.lmeval.registration", "task_manager"),
    "tasks_dir": ("conj_harness.lmeval.taskgen", "tasks_dir"),
    "Conjugate": ("conj_harness.conjugates", "Conjugate"),
    "get_conjugate": ("conj_harness.conjugates", "get"),
    "conjugate_names": ("conj_harness.conjugates", "names"),
    "FAMILIES": ("conj_harness.families.registry", "FAMILIES"),
    "Family": ("conj_harness.families.registry", "Family"),
    "PairSpec": ("conj_harness.pairs.spec", "PairSpec"),
    "compare_pair": ("conj_harness.compare", "compare_pair"),
    "compare_pairs": ("conj_harness.compare", "compare_pairs"),
    "render_report": ("conj_harness.report.render", "render_pair_dir"),
    "judge_responses": ("conj_harness.judge.refusal", "judge_many"),
    "TranslationLayer": ("conj_harness.translation.layer", "TranslationLayer"),
    "TranslationCache": ("conj_harness.translation.cache", "TranslationCache"),
    "get_backend": ("conj_harness.translators", "get_backend"),
}

__all__ = [
    "FAMILIES",
    "ConjError",
    "Conjugate",
    "DataError",
    "Family",
    "PairSpec",
    "TranslationCache",
    "TranslationLayer",
    "UnknownNameError",
    "__version__",
    "compare_pair",
    "compare_pairs",
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
