"""Writing and reading files safely: atomic writes, JSON Lines with line-numbered errors, per-user folders.

Shared by every stage; depends on nothing else in the package but :mod:`conj_harness.errors`.
"""
