"""lm-eval task folders shipped with conj-harness (installed as ``conj_harness.tasks``).

Each family is one folder: a shared ``_<family>_template_yaml`` (not ``.yaml``, so lm-eval does not index it as a
task), one short generated YAML per conjugate, and a ``utils.py`` of hooks that call into ``conj_harness``.
"""
