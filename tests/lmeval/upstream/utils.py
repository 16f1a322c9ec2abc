"""Stand-in for lm-eval's ``tests/utils.py`` (not in its sdist), used by its ``test_tasks.py``.

lm-eval's ``new_tasks()`` lists the tasks a pull request changed; here it lists every shipped ``conj_*`` task, so
lm-eval's own ``BaseTasks`` contract checks run over all of them.
"""

from __future__ import annotations

from conj_harness.families.registry import FAMILIES


def new_tasks() -> list[str]:
    return [fam.task_name(c) for fam in FAMILIES.values() for c in fam.conjugates()]
