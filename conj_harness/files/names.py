"""Names that become paths (a task, a pair, a role, a conjugate): checked where they enter, and every path built
from them checked to stay inside its folder.

A task's name comes from a YAML file anyone can write (``task: ../../../x`` in an ``--include-path`` folder), a
pair's from a pairs file, a unit's from a ``pair.json`` that may have been edited: each becomes a folder or file
name under the user's ``--output`` / ``--out``, and nothing may be written outside that folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from conj_harness.errors import ConjError

#: Every name lm-eval 0.4.13 ships (tasks, groups, tags) fits this; so do the project's own.
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+\-]{0,199}")
RULE = "letters, digits and . _ + - only, starting with a letter or digit, no '..'"


def is_safe(name: object) -> bool:
    return isinstance(name, str) and _SAFE.fullmatch(name) is not None and ".." not in name


def check(name: object, what: str, where: str = "") -> str:
    """``name`` if it can be a file or folder name; else one line naming ``what`` it is and ``where`` it came from."""
    if not is_safe(name):
        origin = f" (in {where})" if where else ""
        raise ConjError(f"{what} {name!r}{origin} cannot be used as a file or folder name: {RULE}")
    return str(name)


def inside(root: str | os.PathLike[str], path: str | os.PathLike[str]) -> Path:
    """``path`` if it lies inside ``root`` once resolved (links included); else a one-line error naming the link
    that leads out, when one does."""
    base = Path(root).resolve()
    full = Path(path).resolve()
    if full == base or base in full.parents:
        return Path(path)
    link = _link_leading_out(Path(root), Path(path), base)
    if link is not None:
        raise ConjError(f"refusing to write through {link}: it is a link to {os.path.realpath(link)}, outside {root} "
                        "(conj-harness never makes links there): remove it, then run again")
    raise ConjError(f"refusing to write {path}: it lies outside {root}")


def _link_leading_out(root: Path, path: Path, base: Path) -> Path | None:
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return None
    current = root
    for part in parts:
        current = current / part
        if current.is_symlink():
            target = current.resolve()
            if target != base and base not in target.parents:
                return current
    return None
