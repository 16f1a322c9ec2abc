"""The public API (conj_harness.api, re-exported by conj_harness): the README's worked script runs on the demo pair
(tests/test_install.py type-checks it against the installed wheel), and the facade's calls return typed results."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import conj_harness as ch
from tests.support.cli import REPO

pytestmark = pytest.mark.slow  # model runs / CLI processes: not in the fast tier (README)


def test_the_worked_script_runs_conjugate_compare_judge(data_dir, tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "docs" / "examples" / "study.py"), str(tmp_path),
                           str(data_dir / "gsm8k" / "test.jsonl")], capture_output=True, text=True, timeout=1800,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout.splitlines()[-1])
    assert summary["written"] == ["conj_gsm8k_en", "conj_gsm8k_leet", "conj_gsm8k_piglatin"]
    assert summary["compare_ok"] and summary["ran"] == 2 * 5 and summary["rows"] == 5
    assert (tmp_path / "pair" / "report.md").is_file()
    assert summary["verdicts"] == [["REFUSE", "head-refusal"], ["ANSWER", "content"], ["ANSWER", "content"]]
    assert proc.stderr.count("conj-harness compare:") == 0  # the library logs; a script sees nothing unasked


def test_judge_facade_is_typed_and_checks_lengths():
    verdicts = ch.judge_responses(["I cannot help with that request, sorry.", ""], requests=["x" * 20, None])
    assert [v.label for v in verdicts] == ["REFUSE", "AMBIGUOUS"]
    assert [v.rule for v in verdicts] == ["head-refusal", "empty"]
    assert verdicts[0].evidence["judge"]["version"].startswith("rules/")
    with pytest.raises(ch.ConjError, match="2 responses but 1 requests"):
        ch.judge_responses(["a", "b"], requests=["x"])
    with pytest.raises(ch.UnknownNameError, match="rules"):
        ch.judge_responses(["a"], judge="no-such-judge")


def test_version_comes_from_the_package_metadata():
    from importlib.metadata import version

    assert ch.__version__ == version("conj-harness")


def test_package_is_typed():
    assert (REPO / "conj_harness" / "py.typed").is_file()
    assert {"conjugate", "compare", "judge_responses", "task_manager", "PairSpec", "CompareResult"} <= set(ch.__all__)


def test_facade_names_survive_importing_the_subpackages():
    """A package attribute named like a subpackage is replaced by it on import: the facade avoids those names."""
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(ch.__path__):
        importlib.import_module(f"conj_harness.{info.name}")
    assert callable(ch.compare) and callable(ch.judge_responses) and callable(ch.conjugate)
    assert ch.compare.__module__ == ch.judge_responses.__module__ == "conj_harness.api"
