"""How every command ends on an expected failure: one line on stderr, never a traceback."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from conj_harness.errors import ConjError

#: Exit status for a user error (bad name, missing file, ...), as argparse uses for bad flags.
USER_ERROR = 2
#: Exit status after Ctrl-C, as shells report a process ended by SIGINT.
INTERRUPTED = 130


@contextlib.contextmanager
def one_line_errors(prog: str, interrupted: str = "interrupted") -> Iterator[None]:
    """Turn :class:`ConjError` and Ctrl-C into one line on stderr and an exit status."""
    try:
        yield
    except ConjError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        raise SystemExit(USER_ERROR) from None
    except KeyboardInterrupt:
        print(f"\n{prog}: {interrupted}", file=sys.stderr)
        raise SystemExit(INTERRUPTED) from None
