"""Errors that the command-line tools print as one clear line instead of a stack trace.

Every error a user can fix (a misspelt name, a missing data file, no network) derives from
:class:`ConjError`; the CLIs catch it, print the message and exit with status 2.
"""

from __future__ import annotations

from collections.abc import Iterable


class ConjError(Exception):
    """A problem the user can fix; the message says how."""


class UnknownNameError(ConjError, KeyError):
    """A task, conjugate or language name that is not registered.

    The message always lists the valid names, so a typo is fixed without reading the docs.
    """

    def __init__(self, kind: str, name: str, valid: Iterable[str]):
        self.kind, self.name, self.valid = kind, name, sorted(valid)
        super().__init__(f"unknown {kind} {name!r}. Available: {', '.join(self.valid)}")

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class ArgumentError(ConjError, ValueError):
    """A Python API call's argument of the wrong type or out of range (the message names the argument)."""


class DataError(ConjError):
    """A dataset that cannot be found, downloaded or parsed."""
