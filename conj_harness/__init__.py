"""conj-harness: conjugate prompting (Kotha, Springer, Raghunathan, ICLR 2024) as lm-evaluation-harness tasks.

Public API:

* :func:`task_manager` - a ``lm_eval`` TaskManager that knows the ``conj_*`` tasks (for ``simple_evaluate``);
* :func:`tasks_dir` - the folder to pass to ``lm_eval --include_path``;
* :func:`get_conjugate` / :func:`conjugate_names` - the conjugate registry (``en``, ``leet``, ``piglatin``, languages);
* :class:`ConjError` - the base of every error a user can fix.

Heavy imports (lm-eval, torch) happen only when a function that needs them is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conj_harness.conjugates import Conjugate
from conj_harness.conjugates import get as get_conjugate
from conj_harness.conjugates import names as conjugate_names
from conj_harness.errors import ConjError, DataError, UnknownNameError

if TYPE_CHECKING:
    from lm_eval.tasks import TaskManager

__version__ = "0.1.0"

__all__ = [
    "ConjError",
    "Conjugate",
    "DataError",
    "UnknownNameError",
    "conjugate_names",
    "get_conjugate",
    "task_manager",
    "tasks_dir",
]


def task_manager(include_path: Any = None, include_defaults: bool = False, metadata: dict | None = None) -> TaskManager:
    """A TaskManager with the conj_* tasks; see :func:`conj_harness.lmeval.registration.task_manager`."""
    from conj_harness.lmeval.registration import task_manager as _tm

    return _tm(include_path=include_path, include_defaults=include_defaults, metadata=metadata)


def tasks_dir():
    """The folder of the shipped task families (for ``lm_eval --include_path``)."""
    from conj_harness.lmeval.taskgen import tasks_dir as _td

    return _td()
