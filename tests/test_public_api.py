"""The curated public API: every name resolves, and `import conj_harness` stays light."""

from __future__ import annotations

import subprocess
import sys

import conj_harness


def test_every_public_name_resolves():
    for name in conj_harness.__all__:
        assert getattr(conj_harness, name) is not None, name
    assert conj_harness.get_conjugate("leet").transform("Trash covered") == "7r45H C0v3r3D"
    assert set(conj_harness.FAMILIES) == {"icl", "xnli", "advbench", "multijail"}


def test_importing_the_package_loads_neither_lm_eval_nor_torch():
    code = ("import sys, conj_harness\n"
            "print(sorted(m for m in ('lm_eval', 'torch', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"


def test_all_lists_exactly_the_errors_and_the_lazy_names():
    assert set(conj_harness.__all__) == {"ArgumentError", "ConjError", "DataError", "UnknownNameError", "__version__",
                                         *conj_harness._LAZY}
