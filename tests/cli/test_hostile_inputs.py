"""Hostile or careless input to the commands (issue 20): names that would escape the folder, names that collide
with shipped tasks, relative folders written into YAMLs. Each gets one line; nothing is written where it must not be."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.cli.test_errors import _one_line_error
from tests.support.cli import run

pytestmark = pytest.mark.slow  # CLI processes: not in the fast tier (README)


def _escaping_task(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "pwned.yaml").write_text(yaml.safe_dump({
        "task": "../../../pwned_task", "dataset_path": "json", "dataset_kwargs": {"data_files": {"test": "x.jsonl"}},
        "test_split": "test", "output_type": "generate_until", "doc_to_text": "{{q}}", "doc_to_target": "{{a}}"}))
    return folder


def test_a_task_name_with_dots_and_slashes_is_refused_before_anything_is_written(tmp_path):
    include = _escaping_task(tmp_path / "inc")
    work = tmp_path / "a" / "b" / "c"
    work.mkdir(parents=True)
    proc = run(["conj-harness", "conjugate", "../../../pwned_task", "--include-path", str(include), "--to", "leet",
                "--out", str(work / "out")], check=False)
    _one_line_error(proc, "conj-harness", "task '../../../pwned_task'", str(include / "pwned.yaml"),
                    "cannot be used as a file or folder name")
    from tests.support.tiny_models import build_llama

    model = build_llama(tmp_path / "m", seed=0)
    proc = run(["conj-harness", "compare", "--base", str(model), "--tuned", str(model), "--tasks",
                "../../../pwned_task", "--include-path", str(include), "--output", str(work / "pair"),
                "--no-progress"], check=False)
    _one_line_error(proc, "conj-harness", "task '../../../pwned_task'", "cannot be used as a file or folder name")
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")
                     if not p.is_relative_to(model) and not p.is_relative_to(include) and p != model)
    assert written == ["a", "a/b", "a/b/c"], written  # no output folder, nothing beside it


def test_conjugating_a_task_whose_names_are_shipped_paper_tasks_is_refused(tmp_path):
    proc = run(["conj-harness", "conjugate", "xnli_fr", "--to", "leet", "--out", str(tmp_path / "out")],
               check=False)
    _one_line_error(proc, "conj-harness", "would write the name conj_xnli_fr", "xnli family",
                    "under another task name into an --include-path folder")
    assert not (tmp_path / "out").exists()


def test_a_relative_out_folder_is_written_as_an_absolute_data_dir(tmp_path):
    rows = [{"question": f"What is {i} plus {i}?", "answer": f"#### {2 * i}"} for i in range(3)]
    data = tmp_path / "gsm8k_test.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    run(["conj-harness", "conjugate", "gsm8k", "--to", "leet", "--out", "rel", "--limit", "3", "--data-files",
         f"test={data},train={data}"], cwd=tmp_path)
    for path in (tmp_path / "rel").rglob("*.yaml"):
        data_dir = yaml.safe_load(path.read_text().split("\n", 1)[1].replace("!function", ""))["dataset_kwargs"][
            "data_dir"]
        assert Path(data_dir).is_absolute() and Path(data_dir).is_dir(), (path, data_dir)
