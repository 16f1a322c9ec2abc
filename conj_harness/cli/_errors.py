"""How every command ends on an expected failure: one line on stderr, never a traceback."""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator

from conj_harness.errors import ConjError
from conj_harness.files.signals import sigterm_as_exit

#: Exit status for a user error (bad name, missing file, ...), as argparse uses for bad flags.
USER_ERROR = 2
#: Exit status after Ctrl-C, as shells report a process ended by SIGINT.
INTERRUPTED = 130
#: Exit status after SIGTERM (a job scheduler's cancel, ``kill``), as shells report it.
TERMINATED = 128 + signal.SIGTERM


@contextlib.contextmanager
def one_line_errors(prog: str, interrupted: str = "interrupted") -> Iterator[None]:
    """Turn :class:`ConjError`, Ctrl-C and SIGTERM into one line on stderr and an exit status.

    SIGTERM unwinds like Ctrl-C (``finally`` blocks run, a running child is stopped), then says so in one line.
    """
    with sigterm_as_exit():
        try:
            yield
        except ConjError as e:
            print(f"{prog}: error: {e}", file=sys.stderr)
            raise SystemExit(USER_ERROR) from None
        except KeyboardInterrupt:
            print(f"\n{prog}: {interrupted}", file=sys.stderr)
            raise SystemExit(INTERRUPTED) from None
        except SystemExit as e:
            if e.code == TERMINATED:
                rest = interrupted.removeprefix("interrupted").lstrip("; ")
                print(f"\n{prog}: terminated (SIGTERM)" + (f"; {rest}" if rest else ""), file=sys.stderr)
            raise
