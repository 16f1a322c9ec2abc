"""``conj-eval``: lm-eval's own command line with the conj_* tasks registered (see :mod:`conj_harness.lmeval.eval_cli`).

``python -m conj_harness.cli.conj_eval`` is the same command; ``conj-harness compare`` starts it that way, so a
child process always runs the interpreter (and package) of its parent.
"""

from __future__ import annotations

import sys

from conj_harness.cli._errors import one_line_errors


def main(argv: list[str] | None = None) -> None:
    """Run ``conj-eval`` with ``argv`` (default: the command line); user errors end with one line and status 2."""
    console = argv is None
    from conj_harness.files.redact import redact_output

    redact_output(sys.argv[1:] if argv is None else argv)  # no credential from the command line reaches a terminal
    with one_line_errors("conj-eval", "interrupted; nothing was written for the run in progress"):
        from conj_harness.lmeval.eval_cli import run

        run(sys.argv[1:] if argv is None else list(argv))
    if console:
        from conj_harness.lmeval.backend_checks import exit_now

        exit_now(0)  # results are written: skip the 5-8 s interpreter teardown (see backend_checks.exit_now)


if __name__ == "__main__":
    main()
