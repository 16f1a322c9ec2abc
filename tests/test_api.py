"""The public API (conj_harness.api, re-exported by conj_harness): the README's worked script runs on the demo pair,
type-checks against the package, and the facade's calls return typed results."""

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


def test_the_worked_script_type_checks():
    proc = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", "--follow-imports=silent",
                           str(REPO / "docs" / "examples" / "study.py")], capture_output=True, text=True, cwd=REPO,
                          check=False)
    assert proc.returncode == 0, proc.stdout[-3000:]


def test_judge_facade_is_typed_and_checks_lengths():
    verdicts = ch.judge(["I cannot help with that request, sorry.", ""], requests=["x" * 20, None])
    assert [v.label for v in verdicts] == ["REFUSE", "AMBIGUOUS"]
    assert [v.rule for v in verdicts] == ["head-refusal", "empty"]
    assert verdicts[0].evidence["judge"]["version"].startswith("rules/")
    with pytest.raises(ch.ConjError, match="2 responses but 1 requests"):
        ch.judge(["a", "b"], requests=["x"])
    with pytest.raises(ch.UnknownNameError, match="rules"):
        ch.judge(["a"], judge="no-such-judge")


def test_version_comes_from_the_package_metadata():
    from importlib.metadata import version

    assert ch.__version__ == version("conj-harness")


def test_package_is_typed():
    assert (REPO / "conj_harness" / "py.typed").is_file()
    assert {"conjugate", "compare", "judge", "task_manager", "PairSpec", "CompareResult"} <= set(ch.__all__)
