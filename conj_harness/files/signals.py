"""SIGTERM unwinds like Ctrl-C: ``finally`` blocks run, and a running child process is stopped by its owner."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def sigterm_as_exit() -> Iterator[None]:
    """Within the block, SIGTERM (a job scheduler's cancel, ``kill``) raises ``SystemExit(143)`` in the main
    thread instead of ending the process on the spot; outside the main thread it changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)
