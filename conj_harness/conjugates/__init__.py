"""Stage 2 of the pipeline, the conjugates: the transforms a prompt goes through (identity, ciphers, languages).

* :mod:`.registry` - every conjugate by name (``en``, ``leet``, ``piglatin``, each ISO 639-1 code), with its
  transform and inverse;
* :mod:`.ciphers` - the paper's Leetspeak and Pig Latin rules and their best-effort inverses;
* :mod:`.languages` - the ISO 639-1 table, the only language codes accepted anywhere.

Languages are translated by :mod:`conj_harness.translation`, not here: a conjugate only names them.
"""

from conj_harness.conjugates.registry import Conjugate, get, names

__all__ = ["Conjugate", "get", "names"]
