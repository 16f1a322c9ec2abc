"""Command-line entry points: ``conj-harness`` (:mod:`.main`) and ``conj-eval`` (:mod:`.conj_eval`).

Each command parses its flags and calls the stage that does the work; a :class:`~conj_harness.errors.ConjError`
becomes one line on stderr and exit status 2.
"""
