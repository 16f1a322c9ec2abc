"""Runs lm-eval's own task contract tests (``tests/test_tasks.py`` of its sdist) over the conj_* tasks.

``.ci/lmeval_task_tests.sh`` downloads lm-eval's sdist and puts its ``test_tasks.py`` next to this file; it builds
the tasks when it is imported, so the environment is prepared here, before collection: offline, and lm-eval's
``TaskManager`` replaced by ours (through :mod:`conj_harness.lmeval.compat`, as ``conj-eval`` does). Only its
``BaseTasks`` checks run: the file's other test builds lm-eval's own FDA/SWDE/SQuAD tasks from the hub.
"""

from __future__ import annotations

import os

import pytest

for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ.setdefault(var, "1")

from conj_harness.lmeval import compat  # noqa: E402 - after the environment is set
from conj_harness.lmeval.registration import ConjTaskManager  # noqa: E402

# the conj tasks only: lm-eval's 14,700 built-ins are not under test
compat.install_task_manager(ConjTaskManager.without_builtins())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    other = [i for i in items if str(i.path).startswith(here) and "TestNewTasksElseDefault" not in i.nodeid]
    if other:
        config.hook.pytest_deselected(items=other)
        items[:] = [i for i in items if i not in other]
