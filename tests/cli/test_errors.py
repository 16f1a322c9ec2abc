"""Expected failures end with one line and lose nothing: the faults found when the tool was tried as a new user.

Every case runs the installed command in a subprocess and checks three things: the exit status, one clear line
on stderr (never a traceback), and that nothing already on disk was lost or altered.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.cli import BIN, read_only, run

pytestmark = pytest.mark.slow  # model runs / CLI processes: not in the fast tier (README)


def _one_line_error(proc: subprocess.CompletedProcess, prog: str, *needles: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    errors = [line for line in proc.stderr.splitlines() if line.startswith(f"{prog}: error: ")]
    assert len(errors) == 1, proc.stderr[-2000:]
    for needle in needles:
        assert needle in errors[0], (needle, errors[0])
    return errors[0]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _stdin_bytes(cmd: list[str], data: bytes, env: dict | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(BIN / cmd[0]), *cmd[1:]], input=data, capture_output=True, check=False,
                          env={**os.environ, **(env or {})}, timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode("utf-8", "replace"),
                                       proc.stderr.decode("utf-8", "replace"))


# --- conj-eval ----------------------------------------------------------------------------------------------------


def test_unknown_builtin_task_names_close_ones(tiny_llama):
    proc = run(["conj-eval", "--model", "hf", "--model_args", f"pretrained={tiny_llama}", "--tasks",
                "conj_icl_*,hellaswagx", "--limit", "2"], check=False)
    _one_line_error(proc, "conj-eval", "unknown task 'hellaswagx'", "hellaswag")


def test_missing_local_model_folder_is_one_line(tmp_path):
    proc = run(["conj-eval", "--model", "hf", "--model_args", f"pretrained={tmp_path / 'no-such-model'}",
                "--tasks", "conj_icl_en", "--limit", "2"], check=False)
    _one_line_error(proc, "conj-eval", f"pretrained={tmp_path / 'no-such-model'}", "no such folder")
    proc = run(["conj-eval", "--model", "hf", "--model_args", "pretrained=no-such-org/no-such-model",
                "--tasks", "conj_icl_en", "--limit", "2"], check=False)
    _one_line_error(proc, "conj-eval", "no-such-org/no-such-model", "local Hugging Face cache")


def test_bad_data_file_is_reported_by_line_before_the_model_loads(tmp_path, data_dir):
    mirror = tmp_path / "mirror"
    (mirror / "icl_sentences").mkdir(parents=True)
    for f in (data_dir / "icl_sentences").iterdir():
        (mirror / "icl_sentences" / f.name).write_bytes(f.read_bytes())
    lines = (mirror / "icl_sentences" / "fr.txt").read_bytes().split(b"\n")
    lines[41] = "caf\xe9".encode("latin-1")  # line 42: not UTF-8
    (mirror / "icl_sentences" / "fr.txt").write_bytes(b"\n".join(lines))
    # a "model" that would crash transformers if it were loaded first: the data check must come before it
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text("{ not json")
    proc = run(["conj-eval", "--model", "hf", "--model_args", f"pretrained={broken}", "--tasks", "conj_icl_fr",
                "--limit", "2", "--output_path", str(tmp_path / "out")], env={"CONJ_DATA_DIR": str(mirror)},
               check=False)
    _one_line_error(proc, "conj-eval", "fr.txt line 42 is not UTF-8 text")
    assert not (tmp_path / "out").exists()


def test_lm_eval_of_another_version_stops_before_anything_loads(tmp_path, tiny_llama):
    fake = tmp_path / "fake_site"
    (fake / "lm_eval-0.4.99.dist-info").mkdir(parents=True)
    (fake / "lm_eval-0.4.99.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: lm_eval\n"
                                                                 "Version: 0.4.99\n")
    env = {"PYTHONPATH": str(fake)}
    proc = run(["conj-eval", "--model", "hf", "--model_args", f"pretrained={tiny_llama}", "--tasks", "conj_icl_en",
                "--limit", "1", "--output_path", str(tmp_path / "out")], env=env, check=False)
    _one_line_error(proc, "conj-eval", "needs lm-eval 0.4.13, but 0.4.99 is installed")
    assert not (tmp_path / "out").exists()
    proc = run(["python", "-c", "import conj_harness\ntry:\n    conj_harness.task_manager()\n"
                "except conj_harness.ConjError as e:\n    print(e)"], env=env)
    assert "needs lm-eval 0.4.13, but 0.4.99 is installed" in proc.stdout


# --- compare ------------------------------------------------------------------------------------------------------


def test_ctrl_c_on_compare_is_one_line_and_keeps_finished_work(tmp_path, tiny_llama):
    """The run is held inside its second task (it waits for a file this test never writes before the signal), so
    Ctrl-C lands there however fast this machine is."""
    from tests.support.user_tasks import gate_tasks

    gate, out = gate_tasks(tmp_path / "inc"), tmp_path / "pair"
    cmd = [str(BIN / "conj-harness"), "compare", "--base", str(tiny_llama), "--tuned", str(tiny_llama),
           "--tasks", "gate_first", "gate_hold", "--include-path", str(gate.folder), "--limit", "2", "--output",
           str(out), "--no-progress"]
    # its own process group, as a terminal's foreground job: Ctrl-C reaches compare and its lm-eval child alike
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 600
    while not gate.reached.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert gate.reached.exists(), proc.communicate()[1][-2000:]
    os.killpg(proc.pid, signal.SIGINT)
    _stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr[-3000:]
    assert stderr.rstrip().splitlines()[-1] == ("conj-harness: interrupted; finished work is kept: run the same "
                                                "command again to resume")
    finished = {(p.parent.parent.name, p.parent.name) for p in out.glob("*/*/done.json")}
    assert finished == {("base", "gate_first")} and (out / "pair.json").is_file()
    assert not list(out.glob("*/*/failed.json"))  # the task in progress is pending, not failed
    # the same command again runs only what was not finished
    gate.release.write_text("go")
    before = len((out / "launches.jsonl").read_text().splitlines())
    run(cmd)
    launched = [json.loads(x) for x in (out / "launches.jsonl").read_text().splitlines()[before:]]
    rerun = {(x["role"], t) for x in launched for t in x["tasks"]}
    assert rerun == {("base", "gate_hold"), ("tuned", "gate_first"), ("tuned", "gate_hold")}
    assert (out / "summary.json").is_file()


# --- the translation cache ----------------------------------------------------------------------------------------


def _cache_with_one_entry(path: Path) -> None:
    assert run(["conj-harness", "translate", "--to", "leet", "--cache", str(path)], stdin="Trash covered\n").stdout \
        == "7r45H C0v3r3D\n"


def test_cache_in_an_uncreatable_place_is_one_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    proc = run(["conj-harness", "cache", "stats", "--cache", str(blocker / "sub" / "cache.sqlite")], check=False)
    _one_line_error(proc, "conj-harness", "cannot create the translation cache folder", "CONJ_TRANSLATION_CACHE")
    folder = tmp_path / "ro"
    folder.mkdir()
    proc = read_only(folder, ["conj-harness", "cache", "stats", "--cache", str(folder / "cache.sqlite")],
                     check=False)
    _one_line_error(proc, "conj-harness", "cannot create the translation cache")
    assert list(folder.iterdir()) == []


def test_a_read_only_cache_can_still_be_read(tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir()
    cache = folder / "cache.sqlite"
    _cache_with_one_entry(cache)
    before = {p.name: _sha(p) for p in folder.iterdir()}
    proc = read_only(folder, ["conj-harness", "cache", "stats", "--cache", str(cache)])
    assert "1 translations" in proc.stdout
    proc = read_only(folder, ["conj-harness", "translate", "--to", "leet", "--cache", str(cache)],
                     stdin="Trash covered\n")
    assert proc.stdout == "7r45H C0v3r3D\n" and "1 from cache" in proc.stderr
    proc = read_only(folder, ["conj-harness", "translate", "--to", "leet", "--cache", str(cache)],
                     stdin="Something new\n", check=False)
    _one_line_error(proc, "conj-harness", "is read-only")
    assert proc.stdout == ""
    assert {p.name: _sha(p) for p in folder.iterdir()} == before


def test_cache_import_and_export_errors_are_one_line(tmp_path):
    cache = tmp_path / "cache.sqlite"
    _cache_with_one_entry(cache)
    proc = run(["conj-harness", "cache", "import", str(tmp_path / "missing.jsonl"), "--cache", str(cache)],
               check=False)
    _one_line_error(proc, "conj-harness", "missing.jsonl", "No such file")
    bad = tmp_path / "latin1.jsonl"
    row = {"backend": "cipher", "model": "rules", "source": "en", "target": "leet", "text": "x", "translation": "y"}
    bad.write_bytes((json.dumps(row) + "\n").encode() + '{"text": "caf\xe9"}\n'.encode("latin-1"))
    proc = run(["conj-harness", "cache", "import", str(bad), "--cache", str(cache)], check=False)
    _one_line_error(proc, "conj-harness", "latin1.jsonl line 2 is not UTF-8 text")
    folder = tmp_path / "ro"
    folder.mkdir()
    proc = read_only(folder, ["conj-harness", "cache", "export", str(folder / "out.jsonl"), "--cache", str(cache)],
                     check=False)
    _one_line_error(proc, "conj-harness", f"cannot write {folder / 'out.jsonl'}")
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("schema", [
    ["CREATE TABLE foo (x)"],
    ["CREATE TABLE translations (a, b)", "CREATE TABLE meta (k, v)"],
])
def test_an_sqlite_file_of_another_program_is_left_untouched(tmp_path, schema):
    path = tmp_path / "theirs.sqlite"
    db = sqlite3.connect(path)
    for statement in schema:
        db.execute(statement)
    db.commit()
    db.close()
    before = _sha(path)
    for action in (["stats"], ["export", str(tmp_path / "x.jsonl")]):
        proc = run(["conj-harness", "cache", *action, "--cache", str(path)], check=False)
        _one_line_error(proc, "conj-harness", "not a conj-harness cache", "left untouched")
    assert _sha(path) == before and sorted(p.name for p in tmp_path.iterdir()) == ["theirs.sqlite"]
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone() == ("delete",)


# --- stdin --------------------------------------------------------------------------------------------------------


def test_judge_names_the_line_of_a_lone_surrogate_or_bad_bytes():
    proc = run(["conj-harness", "judge"], stdin='{"response": "no"}\n{"response": "\\ud800"}\n', check=False)
    _one_line_error(proc, "conj-harness", "stdin line 2", "lone surrogate")
    assert proc.stdout == ""
    proc = _stdin_bytes(["conj-harness", "judge"], b'{"response": "no"}\n\n{"response": "caf\xe9"}\n')
    _one_line_error(proc, "conj-harness", "stdin line 3 is not UTF-8 text")


def test_translate_refuses_bytes_that_are_not_utf8_instead_of_altering_them():
    proc = _stdin_bytes(["conj-harness", "translate", "--to", "leet"], b"Trash covered\ncaf\xe9 au lait\n")
    _one_line_error(proc, "conj-harness", "stdin line 2 is not UTF-8 text")
    assert proc.stdout == ""
