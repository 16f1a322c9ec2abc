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


def test_inputs_that_would_fail_after_the_other_model_ran_are_refused_before_any_model_loads(tmp_path):
    from tests.support.tiny_models import build_llama

    model = build_llama(tmp_path / "m", seed=0)
    base = ["conj-harness", "compare", "--base", str(model), "--tasks", "conj_icl_en", "--limit", "2", "--no-progress"]
    cases = [(["--tuned", "models/x"], "--tuned models/x: no such folder here, not in the Hugging Face cache"),
             (["--tuned", str(model), "--tuned-adapter", "adapters/none"], "--tuned-adapter adapters/none: no such"),
             (["--tuned", str(model), "--metric", "icl=nosuch"], "--metric icl=nosuch: the icl family's metrics are "
                                                                 "icl_acc, if_rate")]
    for i, (extra, message) in enumerate(cases):
        out = tmp_path / f"out{i}"
        proc = run([*base, *extra, "--output", str(out)], env={"HF_HUB_OFFLINE": "1"}, check=False)
        _one_line_error(proc, "conj-harness", message)
        assert not (out / "launches.jsonl").exists(), extra  # no worker was started


def test_conjugate_settings_that_cannot_work_are_one_line_before_any_document_loads(tmp_path):
    cases = [(["--to", "leet", "--min-chrf", "200"], "--min-chrf 200: chrF runs from 0 to 100"),
             (["--to", "fr", "--backend", "cipher"], "the cipher backend only does the ciphers")]
    for extra, message in cases:
        proc = run(["conj-harness", "conjugate", "gsm8k", "--out", str(tmp_path / "out"), *extra], check=False)
        _one_line_error(proc, "conj-harness", message)
    assert not (tmp_path / "out").exists()


def test_a_newcomers_demo_without_the_data_mirror_or_network_stops_with_one_line_before_any_worker(tmp_path):
    env = {"CONJ_DATA_DIR": "", "XDG_CACHE_HOME": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1",
           "HF_DATASETS_OFFLINE": "1", "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"}
    proc = run(["conj-harness", "demo", "--limit", "2", "--output", str(tmp_path / "demo")], env=env, check=False)
    line = _one_line_error(proc, "conj-harness", "could not download", "CONJ_DATA_DIR",
                           "README ('Data and offline mode')")
    assert proc.stderr.count("could not download") == 1, proc.stderr
    assert not (tmp_path / "demo" / "launches.jsonl").exists() and line


def test_a_task_yaml_with_a_syntax_error_is_named_with_its_line_not_called_an_unknown_typo(tmp_path):
    include = tmp_path / "inc"
    include.mkdir()
    (include / "broken.yaml").write_text('task: broken\ndataset_path: json\n  bad: : indent\ndoc_to_text: "{{q}}"\n')
    for cmd in (["conj-harness", "conjugate", "broken", "--to", "leet", "--out", str(tmp_path / "out")],
                ["conj-harness", "compare", "--base", str(tmp_path), "--tuned", str(tmp_path), "--tasks", "broken",
                 "--output", str(tmp_path / "pair")]):
        proc = run([*cmd, "--include-path", str(include)], check=False)
        _one_line_error(proc, "conj-harness", "unknown task 'broken': the YAML file that mentions it is not valid",
                        f"{include / 'broken.yaml'}: line 3: mapping values are not allowed here")


def _gsm8k(tmp_path: Path, name: str, content: bytes) -> list[str]:
    path = tmp_path / name
    path.write_bytes(content)
    return ["conj-harness", "conjugate", "gsm8k", "--to", "leet", "--limit", "3", "--out", str(tmp_path / "out"),
            "--data-files", f"test={path},train={path}"]


def test_bad_data_files_and_rows_are_named_with_file_and_line(tmp_path):
    good = json.dumps({"question": "What is 1 plus 1?", "answer": "#### 2"}) + "\n"
    cases = [("latin1.jsonl", good.encode() + '{"question": "caf\xe9", "answer": "#### 1"}\n'.encode("latin-1"),
              ["latin1.jsonl line 2", "UTF-8"]),
             ("badjson.jsonl", (good + '{"question": "x", \n').encode(), ["badjson.jsonl line 2 is not valid JSON"]),
             ("empty.jsonl", b"", ["empty.jsonl: the file holds no rows"]),
             ("missing.jsonl", (good + json.dumps({"answer": "#### 3"}) + "\n").encode(),
              ["gsm8k: test row 2 has no value for question (None), and its prompt reads 'None'"])]
    for name, content, needles in cases:
        proc = run(_gsm8k(tmp_path, name, content), check=False)
        _one_line_error(proc, "conj-harness", *needles)
        assert "Mirror it" not in proc.stderr and "StopIteration" not in proc.stderr
    assert not list((tmp_path / "out").rglob("*.yaml"))  # nothing written


def test_a_task_whose_python_helpers_cannot_import_names_the_module_not_the_data(tmp_path):
    include = tmp_path / "inc"
    include.mkdir()
    (include / "helpers.py").write_text("import nosuchmodule_xyz\n\n\ndef process(dataset):\n    return dataset\n")
    data = tmp_path / "rows.jsonl"
    data.write_text(json.dumps({"q": "Say hi", "a": "hi"}) + "\n")
    (include / "mytask.yaml").write_text(yaml.safe_dump({
        "task": "mytask", "dataset_path": "json", "dataset_kwargs": {"data_files": {"test": str(data)}},
        "test_split": "test", "output_type": "generate_until", "doc_to_text": "{{q}}", "doc_to_target": "{{a}}"})
        + "process_docs: !function helpers.process\n")
    proc = run(["conj-harness", "conjugate", "mytask", "--include-path", str(include), "--to", "leet", "--out",
                str(tmp_path / "out")], check=False)
    _one_line_error(proc, "conj-harness", "cannot build mytask: its Python code needs the module 'nosuchmodule_xyz'")
    assert "Mirror it" not in proc.stderr


def test_an_unsafe_code_task_without_confirmation_is_one_line_before_the_model_loads(tmp_path):
    include = tmp_path / "inc"
    include.mkdir()
    data = tmp_path / "rows.jsonl"
    data.write_text(json.dumps({"q": "Say hi", "a": "hi"}) + "\n")
    (include / "codetask.yaml").write_text(yaml.safe_dump({
        "task": "codetask", "dataset_path": "json", "dataset_kwargs": {"data_files": {"test": str(data)}},
        "test_split": "test", "output_type": "generate_until", "doc_to_text": "{{q}}", "doc_to_target": "{{a}}",
        "unsafe_code": True}))
    from tests.support.tiny_models import build_llama

    model = build_llama(tmp_path / "m", seed=0)
    proc = run(["conj-eval", "--model", "hf", "--model_args", f"pretrained={model}",
                "--tasks", "codetask", "--include_path", str(include)], check=False)
    _one_line_error(proc, "conj-eval", "codetask runs code the model writes", "--confirm_run_unsafe_code")


def test_a_filter_that_cannot_read_a_conjugated_right_answer_is_measured_and_warned_about(tmp_path, data_dir):
    """gsm8k_cot's strict-match reads "The answer is N."; Leetspeak's "is" -> "15" survives the inverse, so a
    perfect leet answer is never read - although every reference survives the inverse intact."""
    gsm8k = data_dir / "gsm8k"
    proc = run(["conj-harness", "conjugate", "gsm8k_cot", "--to", "leet,piglatin", "--limit", "4", "--out",
                str(tmp_path / "out"), "--data-files", f"test={gsm8k / 'test.jsonl'},train={gsm8k / 'train.jsonl'}"])
    assert "warning: conj_gsm8k_cot_leet: the strict-match filter reads only 0% of the few-shot" in proc.stderr
    assert "conj_gsm8k_cot_piglatin: the strict-match" not in proc.stderr
    folder = tmp_path / "out" / "conjugated" / "gsm8k_cot"

    class Loader(yaml.SafeLoader):  # the YAMLs carry !function tags
        pass

    Loader.add_multi_constructor("!", lambda _loader, _suffix, _node: None)

    def agreement(conjugate: str) -> dict:
        config = yaml.load((folder / f"conj_gsm8k_cot_{conjugate}.yaml").read_text(), Loader=Loader)
        return config["metadata"]["conjugation"]["answer_filter_agreement"]

    assert agreement("leet") == {"strict-match": 0.0, "flexible-extract": 1.0}
    assert agreement("piglatin") == {"strict-match": 1.0, "flexible-extract": 1.0}


def test_a_task_scored_by_running_the_models_code_is_not_conjugated(tmp_path):
    proc = run(["conj-harness", "conjugate", "humaneval", "--to", "leet", "--out", str(tmp_path / "out")],
               check=False)
    _one_line_error(proc, "conj-harness", "humaneval scores the model's program by running it",
                    "Conjugate natural-language tasks")
    assert not (tmp_path / "out").exists()


def test_an_output_that_is_a_file_below_a_file_or_read_only_is_one_line(tmp_path):
    from tests.support.cli import read_only
    from tests.support.tiny_models import build_llama

    model = build_llama(tmp_path / "m", seed=0)
    blocker = tmp_path / "a-file"
    blocker.write_text("mine")
    (tmp_path / "ro").mkdir()
    compare = ["conj-harness", "compare", "--base", str(model), "--tuned", str(model), "--tasks", "conj_icl_en",
               "--limit", "2", "--no-progress", "--output"]
    for output, needle in ((blocker, f"{blocker} is a file, not a folder"),
                           (blocker / "sub", f"{blocker} is a file, not a folder")):
        for cmd in ([*compare, str(output)], ["conj-harness", "demo", "--limit", "2", "--output", str(output)]):
            _one_line_error(run(cmd, check=False), "conj-harness", needle)
    proc = read_only(tmp_path / "ro", [*compare, str(tmp_path / "ro" / "pair")], check=False)
    _one_line_error(proc, "conj-harness", f"cannot write {tmp_path / 'ro' / 'pair'}")
    assert blocker.read_text() == "mine" and list((tmp_path / "ro").iterdir()) == []
