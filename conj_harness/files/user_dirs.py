"""Per-user folders (overridable by environment variables, documented in the README)."""

from __future__ import annotations

import os
from pathlib import Path


def _xdg(var: str, default: str) -> Path:
    return Path(os.environ.get(var) or Path.home() / default)


def user_tasks_dir() -> Path:
    """Where ``conj-harness add-language`` writes task files.

    ``$CONJ_USER_TASKS``, else ``$XDG_DATA_HOME/conj_harness/tasks`` (``~/.local/share/conj_harness/tasks``).
    """
    return Path(os.environ.get("CONJ_USER_TASKS") or _xdg("XDG_DATA_HOME", ".local/share") / "conj_harness" / "tasks")
