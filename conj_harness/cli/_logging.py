"""What the terminal shows of the library's notes: the ``conj_harness`` logger's records, one plain line each.

Library code logs (``logging.getLogger(__name__)``) and never prints; the command-line tools call :func:`setup`
once, so their users see the same lines as before on stderr, and a script using the API sees nothing unless it
configures logging itself.
"""

from __future__ import annotations

import logging
import sys


def setup(level: int = logging.INFO) -> None:
    """Send ``conj_harness`` records at ``level`` and above to stderr as bare messages (once per process)."""
    root = logging.getLogger("conj_harness")
    if any(getattr(h, "_conj_cli", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler._conj_cli = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
