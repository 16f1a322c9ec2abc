"""Stand-in for lm-eval's ``tests/utils.py`` (not in its sdist), used by its ``test_tasks.py``.

lm-eval's ``new_tasks()`` lists the tasks a pull request changed; here it lists every shipped ``conj_*`` task, so
lm-eval's own ``BaseTasks`` contract checks run over all of them - plus the tasks named in ``CONJ_CONTRACT_TASKS``
(comma-separated: the conjugated lm-eval tasks ``.ci/lmeval_task_tests.sh`` writes into ``CONJ_USER_TASKS``).
"""

from __future__ import annotations

import os

from conj_harness.families.registry import FAMILIES


def new_tasks() -> list[str]:
    extra = [t for t in os.environ.get("CONJ_CONTRACT_TASKS", "").split(",") if t]
    return [fam.task_name(c) for fam in FAMILIES.values() for c in fam.conjugates()] + extra
