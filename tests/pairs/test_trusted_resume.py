"""Results a resumed compare can trust (issue 25): a changed task or data is run again, never reused; a committed
unit whose files were emptied, cut or edited runs again; the report never pairs two different tasks; nothing is
written through a link that leaves the folder; a full disk is one line; inputs that would fail after a model load
are one line before any.

Each test runs the installed ``conj-harness`` on a tiny random Llama and a task an ``--include-path`` user writes.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from tests.cli.test_errors import _one_line_error
from tests.support.cli import BIN, run
from tests.support.user_tasks import qa_task

pytestmark = pytest.mark.slow  # model runs / CLI processes: not in the fast tier (README)


def _compare(model: Path, out: Path, include: Path, *tasks: str, check: bool = True, **kwargs):
    return run(["conj-harness", "compare", "--base", str(model), "--tuned", str(model), "--tasks", *tasks,
                "--include-path", str(include), "--limit", "2", "--output", str(out), "--no-progress"],
               check=check, **kwargs)


def _launched(out: Path) -> list[tuple[str, str]]:
    rows = [json.loads(x) for x in (out / "launches.jsonl").read_text().splitlines()]
    return [(x["role"], t) for x in rows for t in x["tasks"]]


def _prompts(out: Path, role: str = "base", task: str = "tinyqa") -> list[str]:
    rows = [json.loads(x) for x in (out / role / task / "samples.jsonl").read_text().splitlines()]
    return [r["arguments"]["gen_args_0"]["arg_0"] for r in rows]


def test_a_changed_task_or_data_is_run_again_and_says_why(tiny_llama, tmp_path):
    include, out = tmp_path / "inc", tmp_path / "pair"
    qa_task(include)
    _compare(tiny_llama, out, include, "tinyqa")
    first = len(_launched(out))
    assert _prompts(out)[0].startswith("Question: What is 0 plus 0?")
    done = json.loads((out / "base" / "tinyqa" / "done.json").read_text())
    assert done["n_samples"] == 2 and set(done["files"]) == {"samples.jsonl", "results.json"}
    assert done["task_fingerprint"]["documents"] == 4

    # the same command, nothing changed: nothing runs
    _compare(tiny_llama, out, include, "tinyqa")
    assert len(_launched(out)) == first

    # the prompt template edited: both units run again, with the new prompts
    path = include / "tinyqa.yaml"
    path.write_text(path.read_text().replace("Question:", "Q:"))
    proc = _compare(tiny_llama, out, include, "tinyqa")
    assert "base tinyqa runs again: its task changed since it ran: its config (doc_to_text" in proc.stderr
    assert "tuned tinyqa runs again" in proc.stderr
    assert len(_launched(out)) > first and _prompts(out)[0].startswith("Q: What is 0 plus 0?")
    assert _prompts(out, "tuned")[0].startswith("Q: What is 0 plus 0?")

    # the data file behind it changed (one document's text): run again
    second = len(_launched(out))
    data = include / "tinyqa.jsonl"
    data.write_text(data.read_text().replace("What is 0 plus 0?", "What is zero plus zero?"))
    proc = _compare(tiny_llama, out, include, "tinyqa")
    assert "base tinyqa runs again: its task changed since it ran: its documents" in proc.stderr
    assert len(_launched(out)) > second and _prompts(out)[0].startswith("Q: What is zero plus zero?")


def test_a_committed_unit_that_was_emptied_cut_or_edited_runs_again(tiny_llama, tmp_path):
    include, out = tmp_path / "inc", tmp_path / "pair"
    qa_task(include)
    _compare(tiny_llama, out, include, "tinyqa")
    unit = out / "base" / "tinyqa"
    good = {name: (unit / name).read_bytes() for name in ("samples.jsonl", "results.json")}
    damage = [("samples.jsonl", b"", "its samples.jsonl is empty"),
              ("samples.jsonl", good["samples.jsonl"].split(b"\n")[0] + b"\n",
               "its samples.jsonl holds 1 sample, not the 2 committed"),
              ("samples.jsonl", good["samples.jsonl"][:-40], "its samples.jsonl is not the file that was committed"),
              ("samples.jsonl", good["samples.jsonl"].replace(b'"doc_id": 1', b'"doc_id": 7'),
               "its samples.jsonl is not the file that was committed"),
              ("results.json", b'{"results": ', "its results.json is not the file that was committed"),
              ("done.json", b"{not json", "its done.json cannot be read")]
    for name, content, reason in damage:
        before = len(_launched(out))
        (unit / name).write_bytes(content)
        proc = _compare(tiny_llama, out, include, "tinyqa")
        assert f"base tinyqa runs again: {reason}" in proc.stderr, (name, proc.stderr[-1500:])
        assert _launched(out)[before:] == [("base", "tinyqa")]  # that unit alone
        summary = json.loads((out / "summary.json").read_text())
        assert summary["rows"][0]["status"] == "ok" and summary["rows"][0]["n"] == 2


def test_the_report_refuses_to_pair_two_different_versions_of_a_task(tiny_llama, tmp_path):
    include, out = tmp_path / "inc", tmp_path / "pair"
    qa_task(include)
    _compare(tiny_llama, out, include, "tinyqa")
    done = out / "tuned" / "tinyqa" / "done.json"  # as if the tuned model had run an older version of the task
    record = json.loads(done.read_text())
    record["task_fingerprint"]["config"] = "0" * 64
    record["task_fingerprint"]["keys"]["doc_to_text"] = "0" * 12
    record["task_fingerprint"]["sha256"] = "1" * 64
    done.write_text(json.dumps(record))
    run(["conj-harness", "report", str(out)])
    row = json.loads((out / "summary.json").read_text())["rows"][0]
    assert row["status"] == "task differs between the models: its config (doc_to_text)"
    assert row["drop"] is None and row["n"] is None
    assert "tinyqa: the two models ran different versions of it" in (out / "report.md").read_text()


def test_a_link_that_leads_out_of_the_folder_is_refused_and_nothing_is_written_through_it(tiny_llama, tmp_path):
    include, out, elsewhere = tmp_path / "inc", tmp_path / "pair", tmp_path / "elsewhere"
    qa_task(include)
    qa_task(include, "tinyqa2")
    elsewhere.mkdir()
    _compare(tiny_llama, out, include, "tinyqa")
    for link in (out / "cache" / "base", out / ".tmp", out / "tuned"):
        if link.exists():
            shutil.rmtree(link)
        link.symlink_to(elsewhere)
        proc = _compare(tiny_llama, out, include, "tinyqa", "tinyqa2", check=False)
        _one_line_error(proc, "conj-harness", f"refusing to write through {link}: it is a link to {elsewhere}",
                        "remove it, then run again")
        assert list(elsewhere.iterdir()) == [], link
        link.unlink()


def test_a_full_disk_during_compare_is_one_line_that_says_what_is_kept(tiny_llama, tmp_path):
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("a small disk is mounted with `unshare -m` + tmpfs, which needs root")
    include, disk = tmp_path / "inc", tmp_path / "disk"
    qa_task(include)
    qa_task(include, "tinyqa2")
    disk.mkdir()
    cmd = [str(BIN / "conj-harness"), "compare", "--base", str(tiny_llama), "--tuned", str(tiny_llama), "--tasks",
           "tinyqa", "tinyqa2", "--include-path", str(include), "--limit", "2", "--output", str(disk / "pair"),
           "--no-progress"]
    for size in ("40k", "100k", "160k"):  # full before anything finished, and after some units
        script = f'mount -t tmpfs -o size={size} tmpfs "$0" && exec "$@"'
        proc = run(["unshare", "-m", "sh", "-c", script, str(disk), *cmd], check=False)
        line = _one_line_error(proc, "conj-harness", f"the disk holding {disk / 'pair'} is full",
                               "run the same command again to resume")
        assert "kept" in line or "no run had finished yet" in line


def test_inputs_that_fail_only_after_a_model_load_are_one_line_before_any(tiny_llama, tmp_path):
    include = tmp_path / "inc"
    qa_task(include, "emptyqa", rows=[])
    qa_task(include, "noprompt", rows=[{"question": "What is 1 plus 1?", "a": "2"}])  # the template reads {{q}}
    model_file = tmp_path / "weights.bin"
    model_file.write_bytes(b"not a model")
    base = ["conj-harness", "compare", "--base", str(tiny_llama), "--tuned", str(tiny_llama), "--no-progress",
            "--include-path", str(include), "--limit", "2"]
    cases = [(["--tasks", "emptyqa"], "emptyqa"),
             (["--tasks", "noprompt"], "cannot build noprompt: its prompt template fails"),
             (["--tasks", "conj_icl_en", "--seed", "abc"], "--seed 'abc': give a whole number"),
             (["--tasks", "conj_icl_en", "--gen-kwargs", "max_gen_toks=abc"], "max_gen_toks takes a whole number"),
             (["--tasks", "conj_icl_en", "--alpha", "5"], "--alpha 5.0: give a number between 0 and 1")]
    for i, (extra, message) in enumerate(cases):
        out = tmp_path / f"out{i}"
        _one_line_error(run([*base, *extra, "--output", str(out)], check=False), "conj-harness", message)
        assert not (out / "launches.jsonl").exists(), extra  # no worker, no model load
    proc = run(["conj-harness", "compare", "--base", str(model_file), "--tuned", str(tiny_llama), "--tasks",
                "conj_icl_en", "--output", str(tmp_path / "outf")], check=False)
    _one_line_error(proc, "conj-harness", f"--base {model_file} is a file, not a model folder")


def test_a_deleted_conjugated_data_folder_is_one_line_before_any_model_loads(tiny_llama, tmp_path):
    include = tmp_path / "inc"
    qa_task(include)
    run(["conj-harness", "conjugate", "tinyqa", "--include-path", str(include), "--to", "leet", "--out",
         str(tmp_path / "conj")])
    shutil.rmtree(tmp_path / "conj" / "conjugated" / "tinyqa" / "data" / "leet")
    both = f"{include}{os.pathsep}{tmp_path / 'conj'}"
    proc = run(["conj-harness", "compare", "--base", str(tiny_llama), "--tuned", str(tiny_llama), "--tasks",
                "conj_tinyqa_leet", "--include-path", both, "--output", str(tmp_path / "pair"), "--no-progress"],
               check=False)
    _one_line_error(proc, "conj-harness", "conj_tinyqa_leet: conjugated task data folder",
                    "run `conj-harness conjugate` again")
    assert not (tmp_path / "pair" / "launches.jsonl").exists()
    proc = run(["conj-eval", "--model", "hf", "--model_args", f"pretrained={tiny_llama}", "--tasks",
                "conj_tinyqa_leet", "--include_path", both], check=False)
    _one_line_error(proc, "conj-eval", "conj_tinyqa_leet: conjugated task data folder")


def test_a_user_task_that_shadows_a_shipped_one_is_refused_in_compare_and_conj_eval(tiny_llama, tmp_path):
    include = tmp_path / "inc"
    mine = qa_task(include, "conj_icl_en")
    shipped = "tasks/icl/conj_icl_en.yaml"
    proc = run(["conj-harness", "compare", "--base", str(tiny_llama), "--tuned", str(tiny_llama), "--tasks",
                "conj_icl_en", "--include-path", str(include), "--output", str(tmp_path / "pair")], check=False)
    _one_line_error(proc, "conj-harness", f"{mine} defines the task 'conj_icl_en'", shipped)
    proc = run(["conj-eval", "--model", "hf", "--model_args", f"pretrained={tiny_llama}", "--tasks", "conj_icl_en",
                "--include_path", str(include)], check=False)
    _one_line_error(proc, "conj-eval", f"{mine} defines the task 'conj_icl_en'", shipped)
    assert not (tmp_path / "pair" / "launches.jsonl").exists()


def test_conj_eval_gives_the_same_one_line_errors_as_compare(tiny_llama, tmp_path):
    include = tmp_path / "inc"
    qa_task(include, "noprompt", rows=[{"question": "What is 1 plus 1?", "a": "2"}])
    (include / "badyaml.yaml").write_text("task: badyaml\ndataset_path: json\n  bad: : indent\n")
    conj_eval = ["conj-eval", "--model", "hf", "--model_args", f"pretrained={tiny_llama}", "--include_path",
                 str(include), "--limit", "2", "--tasks"]
    _one_line_error(run([*conj_eval, "noprompt"], check=False), "conj-eval",
                    "cannot build noprompt: its prompt template fails", f"{include / 'noprompt.yaml'}")
    _one_line_error(run([*conj_eval, "badyaml"], check=False), "conj-eval",
                    "unknown task 'badyaml': the YAML file that mentions it is not valid YAML",
                    f"{include / 'badyaml.yaml'}: line 3")


def test_a_glob_over_a_family_lists_each_task_once_in_the_pair_and_the_report(tiny_llama, tmp_path):
    out = tmp_path / "pair"
    run(["conj-harness", "compare", "--base", str(tiny_llama), "--tuned", str(tiny_llama), "--tasks", "conj_icl*",
         "--limit", "1", "--output", str(out), "--no-progress"])
    tasks = json.loads((out / "pair.json").read_text())["tasks"]
    assert len(tasks) == len(set(tasks)) == 7
    rows = [r["task"] for r in json.loads((out / "summary.json").read_text())["rows"]]
    assert sorted(rows) == sorted(tasks)
    assert len((out / "table.csv").read_text().splitlines()) == 1 + 7


@pytest.mark.mirror
def test_the_readmes_offline_gsm8k_conjugation_evaluates(tiny_llama, tmp_path, data_dir):
    """gsm8k's train split holds a U+2028: the conjugated tasks' data reads back and the task runs."""
    gsm8k = data_dir / "gsm8k"
    run(["conj-harness", "conjugate", "gsm8k", "--to", "leet,piglatin", "--limit", "5", "--out",
         str(tmp_path / "conj"), "--data-files", f"test={gsm8k / 'test.jsonl'},train={gsm8k / 'train.jsonl'}"])
    run(["conj-eval", "--model", "hf", "--model_args", f"pretrained={tiny_llama}", "--tasks", "conj_gsm8k_leet",
         "--include_path", str(tmp_path / "conj"), "--limit", "2", "--gen_kwargs", "max_gen_toks=4"])
    config = yaml.safe_load((tmp_path / "conj" / "conjugated" / "gsm8k" / "conj_gsm8k_leet.yaml").read_text()
                            .split("\n", 1)[1].replace("!function", ""))
    assert config["task"] == "conj_gsm8k_leet"


def test_two_lm_eval_folders_with_other_documents_under_one_name_are_not_compared(tiny_llama, tmp_path):
    """``report --base-run/--tuned-run``: the same task name, one document changed in between - that task's row says
    so instead of comparing; a prompt difference alone (a chat template on one side) is not a different task."""
    include = tmp_path / "inc"
    qa_task(include)
    runs = {}
    for role in ("base", "tuned"):
        if role == "tuned":
            data = include / "tinyqa.jsonl"
            data.write_text(data.read_text().replace('"a": "0"', '"a": "zero"'))
        runs[role] = tmp_path / role
        run(["conj-eval", "--model", "hf", "--model_args", f"pretrained={tiny_llama}", "--tasks", "tinyqa",
             "--include_path", str(include), "--limit", "2", "--output_path", str(runs[role]), "--log_samples"])
    out = tmp_path / "report"
    run(["conj-harness", "report", "--base-run", str(runs["base"]), "--tuned-run", str(runs["tuned"]), "--output",
         str(out)])
    row = json.loads((out / "summary.json").read_text())["rows"][0]
    assert row["status"] == "task differs between the models: its documents" and row["drop"] is None
