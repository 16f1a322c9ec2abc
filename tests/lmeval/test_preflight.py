"""The task check every command runs before a model loads, and the fingerprint a compare records with each unit
(issue 25): stable across processes and folders, changed by anything that changes what the model sees or how it is
scored, and one line for a task that cannot run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from conj_harness.errors import ConjError
from conj_harness.lmeval.preflight import check_tasks
from tests.support.user_tasks import qa_task


def _print(name: str, include: Path):
    return check_tasks([name], str(include)).fingerprints[name]


def test_the_same_task_in_another_folder_has_the_same_fingerprint(tmp_path):
    qa_task(tmp_path / "a" / "inc")
    qa_task(tmp_path / "b" / "deeper" / "inc")  # another checkout, another node, the data moved with it
    assert _print("tinyqa", tmp_path / "a" / "inc") == _print("tinyqa", tmp_path / "b" / "deeper" / "inc")


def test_a_few_shot_pool_drawn_from_the_validation_split_is_part_of_the_fingerprint(tmp_path):
    include = tmp_path / "inc"
    path = qa_task(include, "fsqa", num_fewshot=1)
    val = include / "val.jsonl"
    val.write_text(json.dumps({"q": "What is 9 plus 9?", "a": "18"}) + "\n")
    config = yaml.safe_load(path.read_text())
    config["dataset_kwargs"]["data_files"]["validation"] = str(val)
    config["validation_split"] = "validation"
    path.write_text(yaml.safe_dump(config))
    before = _print("fsqa", include)
    val.write_text(json.dumps({"q": "What is 8 plus 8?", "a": "16"}) + "\n")
    after = _print("fsqa", include)
    assert after.changes(before.record()) == "its documents"


def test_an_edited_helper_module_changes_the_fingerprint_in_the_same_process(tmp_path):
    include = tmp_path / "inc"
    path = qa_task(include, "helperqa")
    (include / "helper_utils.py").write_text("def score(doc, results):\n    return {'exact_match': 0.0}\n")
    path.write_text(path.read_text() + "process_results: !function helper_utils.score\n")
    before = _print("helperqa", include)
    (include / "helper_utils.py").write_text("def score(doc, results):\n    return {'exact_match': 1.0}\n\n\n")
    after = _print("helperqa", include)
    assert after.changes(before.record()) == "its config (process_results)"


def test_tasks_that_cannot_run_are_one_line_naming_what_to_fix(tmp_path):
    include = tmp_path / "inc"
    qa_task(include, "emptyqa", rows=[])
    qa_task(include, "noprompt", rows=[{"question": "What is 1 plus 1?", "a": "2"}])
    qa_task(include, "nosplit", test_split="validation")
    cases = {"emptyqa": "emptyqa has no documents to evaluate", "noprompt": "cannot build noprompt: its prompt "
             "template fails", "nosplit": "cannot build nosplit: its data has no split 'validation'"}
    for name, message in cases.items():
        with pytest.raises(ConjError, match=message) as error:
            check_tasks([name], str(include))
        assert str(include / f"{name}.yaml") in str(error.value) and "\n" not in str(error.value)


def test_no_tasks_to_check_costs_nothing():
    assert check_tasks([], builtins=True).fingerprints == {}


def test_a_copied_folder_keeps_its_tasks_fingerprints_but_not_after_an_edit(tmp_path):
    qa_task(tmp_path / "inc")
    shutil.copytree(tmp_path / "inc", tmp_path / "copy")
    data = tmp_path / "copy" / "tinyqa.jsonl"
    config = tmp_path / "copy" / "tinyqa.yaml"
    config.write_text(config.read_text().replace(str(tmp_path / "inc" / "tinyqa.jsonl"), str(data)))
    assert _print("tinyqa", tmp_path / "copy") == _print("tinyqa", tmp_path / "inc")
    data.write_text(data.read_text().replace('"a": "0"', '"a": "zero"'))
    assert _print("tinyqa", tmp_path / "copy").changes(_print("tinyqa", tmp_path / "inc").record()) == \
        "its documents"


def test_a_results_files_config_digest_ignores_memory_addresses_and_locations():
    from conj_harness.lmeval.outputs import task_digest

    def results(address: str, folder: str) -> dict:
        return {"configs": {"t": {"fewshot_config": {"doc_to_text": f"<function doc_to_text at {address}>"},
                                  "metadata": {"pretrained": folder}, "doc_to_text": "{{q}}"}}}

    assert task_digest(results("0x7fd8037eb560", "/m/base"), "t") == task_digest(results("0x7fb12e7cf560", "/m/t"), "t")
    assert task_digest(results("0x1", "/m"), "t") != task_digest({"configs": {"t": {"doc_to_text": "{{x}}"}}}, "t")
