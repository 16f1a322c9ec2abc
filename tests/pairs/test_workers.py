"""`compare` at scale: one model load per model, base + adapter on one load, served models over HTTP, crashes,
Ctrl-C and several compares writing into one folder - all with real lm-eval, real tiny models and real processes.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conj_harness.errors import ConjError
from conj_harness.pairs.spec import PairSpec
from conj_harness.pairs.store import PairStore
from tests.pairs.test_compare import conj, launches, true_sayer
from tests.support.cli import run, wait_for
from tests.support.fake_openai import FakeOpenAIServer
from tests.support.tiny_models import build_llama, build_lora

pytestmark = pytest.mark.slow  # model runs / CLI processes: not in the fast tier (README)

TASKS = ["conj_xnli_en", "conj_icl_en"]


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("scale_models")
    base = true_sayer(root / "base")
    return {"base": base, "tuned": build_llama(root / "tuned", seed=1),
            "lora": build_lora(base, root / "lora", seed=3),
            "other": build_llama(root / "other", seed=2, hidden=32)}


def _argv(out: Path, *extra) -> list:
    return ["compare", "--tasks", *TASKS, "--limit", "3", "--output", out, "--no-progress", *extra]


def _responses(out: Path, role: str, task: str) -> list:
    lines = (out / role / task / "samples.jsonl").read_text().splitlines()
    return [(s["doc_id"], s["filtered_resps"]) for s in map(json.loads, lines)]


def _loads(out: Path) -> list[list[str]]:
    return [x["roles"] for x in PairStore(out).loads()]


# --- base + adapter on one load -----------------------------------------------------------------------------------


def test_adapter_attached_and_detached_on_one_load_matches_two_loads(models, tmp_path):
    """hf: one base load serves the base, then (peft attached) the tuned role; outputs as with two separate loads."""
    one, two = tmp_path / "one", tmp_path / "two"
    conj(*_argv(one, "--base", models["base"], "--tuned-adapter", models["lora"]))
    conj(*_argv(two, "--base", models["base"], "--tuned-adapter", models["lora"], "--process-per", "task"))
    assert _loads(one) == [["base", "tuned"]]
    assert len(launches(two)) == 4 and not (two / "loads.jsonl").exists()  # conj-eval per unit: a load each
    differ = 0
    for task in TASKS:
        for role in ("base", "tuned"):
            assert _responses(one, role, task) == _responses(two, role, task), (role, task)
        differ += _responses(one, "base", task) != _responses(one, "tuned", task)
    assert differ  # the adapter really changes the answers: the comparison above is not vacuous


def test_an_adapter_for_another_model_is_refused_before_loading(models, tmp_path):
    wrong = build_lora(models["other"], tmp_path / "wrong_lora")
    out = tmp_path / "pair"
    with pytest.raises(ConjError, match=r"does not fit .*base \(it was trained on .*other\): "
                       r"model\.layers\.0\.mlp\.down_proj takes 128 inputs and gives 64 outputs in the model, 64 "
                       r"and 32 in the adapter") as e:
        conj(*_argv(out, "--base", models["base"], "--tuned-adapter", wrong))
    assert "\n" not in str(e.value) and not out.exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConjError, match=r"no adapter_config\.json: not a PEFT adapter folder"):
        conj(*_argv(out, "--base", models["base"], "--tuned-adapter", tmp_path / "empty"))


# --- served models ------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_served_models_over_http_give_the_local_results(models, tmp_path):
    """lm-eval's local-completions client against an OpenAI-compatible server: the same answers as loading the
    models here (hf, one prompt at a time), request by request over HTTP."""
    served, local = tmp_path / "served", tmp_path / "local"
    with FakeOpenAIServer([models["base"], models["tuned"]]) as server:
        conj(*_argv(served, "--backend", "local-completions", "--base", models["base"], "--base-url", server.url,
                    "--tuned", models["tuned"], "--tuned-url", server.url, "--model-args",
                    f"num_concurrent=2,auth_token={SECRET}"))
        direct = tmp_path / "direct"  # conj-eval alone: lm-eval's own results file holds the model args too
        run(["conj-eval", "--model", "local-completions", "--model_args",
             f"model={models['base']},base_url={server.url},auth_token={SECRET}", "--tasks", "conj_icl_en",
             "--limit", "2", "--output_path", str(direct), "--log_samples"])
        assert list(direct.rglob("results_*.json")) and "auth_token" in next(direct.rglob("results_*.json")).read_text()
        assert_no_secret(direct)
    conj(*_argv(local, "--base", models["base"], "--tuned", models["tuned"], "--batch-size", "1"))
    assert {r["model"] for r in server.requests} == {str(models["base"]), str(models["tuned"])}
    assert len(server.requests) >= 2 * 3 * len(TASKS)
    for task in TASKS:
        for role in ("base", "tuned"):
            assert _responses(served, role, task) == _responses(local, role, task), (role, task)
    summary = json.loads((served / "summary.json").read_text())
    assert summary["failures"] == [] and {r["base"] for r in summary["rows"]} != {None}
    pair = json.loads((served / "pair.json").read_text())
    assert pair["base"]["model_args"] == \
        f"model={models['base']},base_url={server.url},timeout=60,num_concurrent=2,auth_token=***"
    assert "base_url" not in pair["base"]["identity"]["model_args"]  # a moved server keeps the results
    assert_no_secret(served)


SECRET = "sk-test-9f8e7d6c5b4a"


def assert_no_secret(folder: Path) -> None:
    """No file under ``folder`` holds the credential (results, pair.json, logs, launches, job files)."""
    leaks = [str(f) for f in folder.rglob("*") if f.is_file() and SECRET.encode() in f.read_bytes()]
    assert not leaks, leaks


def test_a_served_endpoint_that_is_down_hung_or_unset_is_one_line_before_anything_runs(models, tmp_path):
    down = f"http://127.0.0.1:{_free_port()}/v1/completions"
    with socket.socket() as hung, FakeOpenAIServer([models["base"]]) as good:
        hung.bind(("127.0.0.1", 0))
        hung.listen()  # accepts connections, never answers
        hung_url = f"http://127.0.0.1:{hung.getsockname()[1]}/v1/completions"
        cases = ((["--tuned-url", down], "the tuned model's server at .* does not answer"),
                 (["--tuned-url", hung_url], "the tuned model's server at .* does not answer .*timed out"),
                 ([], "the tuned model needs its server's address for the local-completions backend: --tuned-url"),
                 (["--tuned-url", good.url, "--tuned", "nosuch"], "serves .*, not 'nosuch': give one of those"))
        for i, (extra, message) in enumerate(cases):
            out = tmp_path / f"case{i}"
            start = time.monotonic()
            with pytest.raises(ConjError, match=message):
                conj(*_argv(out, "--backend", "local-completions", "--base", models["base"], "--base-url", good.url,
                            "--tuned", models["tuned"], *extra))
            assert time.monotonic() - start < 60, extra  # seconds, not lm-eval's 300 s x retries
            assert not (out / "base").exists()  # nothing ran
        assert not good.requests


def test_a_served_endpoint_that_fails_its_requests_fails_its_units_and_keeps_the_other(models, tmp_path):
    with FakeOpenAIServer([models["base"]]) as good, FakeOpenAIServer([models["tuned"]], fail_status=500) as bad:
        for name, url, reason in (("failing", bad.url, "500"),):
            out = tmp_path / name
            argv = _argv(out, "--backend", "local-completions", "--base", models["base"], "--base-url", good.url,
                         "--tuned", models["tuned"], "--tuned-url", url, "--model-args",
                         f"max_retries=1,tokenizer_backend=huggingface,api_key={SECRET}")
            with pytest.raises(ConjError, match=rf"2 run\(s\) failed: tuned conj_xnli_en: .*{reason}"):
                conj(*argv)
            for task in TASKS:
                assert (out / "base" / task / "done.json").is_file()
                assert reason in json.loads((out / "tuned" / task / "failed.json").read_text())["error"]
            assert_no_secret(out)


@pytest.mark.parametrize("status", [401, 500])
def test_no_credential_reaches_a_file_or_a_line_when_the_server_echoes_its_headers(models, tmp_path, status):
    """Planted: a key in the URL's query, a password in its userinfo, an api_key and an auth_token in the model
    args, an OPENAI_API_KEY the client sends as a Bearer token. The tuned model's server answers every request with
    ``status`` and the request's headers; lm-eval logs that answer. Nothing it wrote, nor any line printed, holds a
    planted value (or the Basic-auth encoding of the password)."""
    import base64

    planted = {"QUERYKEY321", "PASSWORD777", "APIKEY-5555", "AUTHTOKEN-6666", "sk-envkey-424242",
               base64.b64encode(b"alice:PASSWORD777").decode()}
    out = tmp_path / f"pair{status}"
    with FakeOpenAIServer([models["base"]]) as good, \
            FakeOpenAIServer([models["tuned"]], fail_status=status, echo_headers=True) as bad:
        tuned_url = bad.url.replace("http://", "http://alice:PASSWORD777@") + "?key=QUERYKEY321"
        proc = run(["conj-harness", "compare", "--backend", "local-completions", "--base", str(models["base"]),
                    "--base-url", good.url, "--tuned", str(models["tuned"]), "--tuned-url", tuned_url,
                    "--model-args", "max_retries=1,tokenizer_backend=huggingface,api_key=APIKEY-5555,"
                    "auth_token=AUTHTOKEN-6666", "--tasks", "conj_icl_en", "--limit", "2", "--output", str(out)],
                   env={"OPENAI_API_KEY": "sk-envkey-424242"}, check=False)
    assert proc.returncode == 2 and "run(s) failed" in proc.stderr, proc.stderr[-2000:]
    assert any("headers" in line for line in (out / "tuned").rglob("*.log") for line in line.read_text().splitlines()) \
        or "headers" in json.dumps([json.loads(p.read_text()) for p in out.rglob("failed.json")])  # it did echo
    leaks = [(str(f), s) for f in out.rglob("*") if f.is_file() for s in planted if s.encode() in f.read_bytes()]
    leaks += [("output", s) for s in planted if s in proc.stdout + proc.stderr]
    assert not leaks, leaks
    pair = json.loads((out / "pair.json").read_text())
    assert pair["spec"]["tuned_url"] == bad.url.replace("http://", "http://***@") + "?key=***"


def test_a_server_that_answers_garbage_fails_its_units_with_what_the_answer_means(models, tmp_path):
    with FakeOpenAIServer([models["base"]]) as good, \
            FakeOpenAIServer([models["tuned"]], broken="not-json") as html, \
            FakeOpenAIServer([models["tuned"]], broken="no-choices") as empty:
        for name, url, reason in (("html", html.url, "answered with something that is not JSON"),
                                  ("empty", empty.url, "fewer completions ('choices') than prompts sent")):
            out = tmp_path / name
            argv = _argv(out, "--backend", "local-completions", "--base", models["base"], "--base-url", good.url,
                         "--tuned", models["tuned"], "--tuned-url", url, "--model-args",
                         "max_retries=1,tokenizer_backend=huggingface", "--tasks", "conj_icl_en")
            with pytest.raises(ConjError, match="run\\(s\\) failed"):
                conj(*argv)
            error = json.loads((out / "tuned" / "conj_icl_en" / "failed.json").read_text())["error"]
            assert error.startswith(f"the server at {url} ") and reason in error, error
            assert (out / "base" / "conj_icl_en" / "done.json").is_file()


def test_backend_names_and_served_settings_are_checked():
    with pytest.raises(ConjError, match=r"unknown backend 'nope': lm-eval's model types are .*local-completions"):
        PairSpec(base="a", tuned="b", backend="nope")
    with pytest.raises(ConjError, match="--tuned-adapter needs a backend that attaches a LoRA adapter here"):
        PairSpec(base="a", tuned_adapter="/ad", backend="local-completions")
    with pytest.raises(ConjError, match="--base-url/--tuned-url are for served models"):
        PairSpec(base="a", tuned="b", base_url="http://x")
    with pytest.raises(ConjError, match="given twice"):
        PairSpec(base="a", tuned="b", backend="local-completions", base_url="http://x", model_args="base_url=http://y")
    with pytest.raises(ConjError, match="must not set model"):
        PairSpec(base="a", tuned="b", backend="local-completions", model_args="model=x")
    spec = PairSpec(base="a", tuned="b", backend="local-chat-completions", tuned_url="http://t",
                    tuned_model_args="auth_token=secret")
    assert spec.lm_eval_model_args("tuned") == "model=b,base_url=http://t,timeout=60,auth_token=secret"
    assert spec.recorded_model_args("tuned") == "model=b,base_url=http://t,timeout=60,auth_token=***"
    assert spec.identity("tuned")["model_args"] == "model=b" and spec.default_batch_size() == "1"
    vllm = PairSpec(base="m", tuned_adapter="/ad", backend="vllm")
    assert vllm.lm_eval_model_args("tuned", with_adapter=False) == "pretrained=m,enable_lora=True"
    assert vllm.lm_eval_model_args("base") == "pretrained=m"


# --- crashes, Ctrl-C, several writers -----------------------------------------------------------------------------


def _crash_task(folder: Path) -> Path:
    """A task whose scoring kills the process (as an out-of-memory kill or a segfault would)."""
    folder.mkdir()
    (folder / "docs.jsonl").write_text("".join(json.dumps({"q": f"q{i}", "a": "a"}) + "\n" for i in range(3)))
    (folder / "crash_utils.py").write_text("import os\n\n\ndef crash(doc, results):\n    os._exit(3)\n")
    (folder / "crash.yaml").write_text(
        f"task: crash_now\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {folder / 'docs.jsonl'}\n"
        "test_split: test\noutput_type: generate_until\ndoc_to_text: '{{q}}'\ndoc_to_target: '{{a}}'\n"
        "generation_kwargs:\n  until: ['\\n']\n  max_gen_toks: 2\n  do_sample: false\n"
        "process_results: !function crash_utils.crash\n"
        "metric_list:\n  - metric: score\n    aggregation: mean\n    higher_is_better: true\n")
    return folder


def test_a_worker_that_dies_fails_its_task_and_a_new_one_takes_the_rest(models, tmp_path):
    out = tmp_path / "pair"
    argv = ["compare", "--base", models["base"], "--tuned", models["tuned"], "--tasks", "conj_icl_en", "crash_now",
            "conj_xnli_en", "--include-path", _crash_task(tmp_path / "crash"), "--limit", "3", "--output", out,
            "--no-progress"]
    with pytest.raises(ConjError, match=r"2 run\(s\) failed: base crash_now: the model worker stopped \(exit status 3"):
        conj(*argv)
    assert _loads(out) == [["base"], ["base"], ["tuned"], ["tuned"]]  # a new worker for what the dead one left
    for role in ("base", "tuned"):
        assert (out / role / "conj_icl_en" / "done.json").is_file() and (out / role / "conj_xnli_en" / "done.json")
        failed = json.loads((out / role / "crash_now" / "failed.json").read_text())
        assert failed["returncode"] == 3 and failed["log"].startswith(f"{role}/worker_")


def _compare_process(out: Path, models: dict, tasks: list[str], log: Path,
                     extra: list[str] | None = None) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "conj_harness.cli.main", "compare", "--base", str(models["base"]), "--tuned",
           str(models["tuned"]), "--tasks", *tasks, "--limit", "3", "--output", str(out), "--no-progress",
           *(extra or [])]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(log, "wb"), env=os.environ.copy())


@pytest.mark.parametrize(("signum", "status", "said"), [(signal.SIGINT, 130, "interrupted; finished work is kept"),
                                                         (signal.SIGTERM, 143, "terminated (SIGTERM); finished work")])
def test_ctrl_c_or_sigterm_keeps_finished_tasks_and_a_rerun_does_only_the_rest(models, tmp_path, signum, status, said):
    """The run is held inside the base model's second task (it waits for a file) when the signal comes: the test
    depends on no timing."""
    from tests.support.user_tasks import gate_tasks

    gate, out, tasks = gate_tasks(tmp_path / "inc"), tmp_path / "pair", ["gate_first", "gate_hold"]
    extra = ["--include-path", str(gate.folder)]
    proc = _compare_process(out, models, tasks, tmp_path / "first.log", extra)
    wait_for(gate.reached.exists)
    proc.send_signal(signum)
    assert proc.wait(timeout=120) == status
    stderr = (tmp_path / "first.log").read_text()
    assert "Traceback" not in stderr and said in stderr
    done = {(r, t) for r in ("base", "tuned") for t in tasks if (out / r / t / "done.json").is_file()}
    assert done == {("base", "gate_first")}
    assert not list(out.glob("*/*/failed.json"))  # the task in progress is pending, not failed
    gate.release.write_text("go")
    before = len(launches(out))
    proc = _compare_process(out, models, tasks, tmp_path / "second.log", extra)
    assert proc.wait(timeout=600) == 0, (tmp_path / "second.log").read_text()[-2000:]
    rerun = {(x["role"], t) for x in launches(out)[before:] for t in x["tasks"]}
    assert rerun.isdisjoint(done) and rerun | done == {(r, t) for r in ("base", "tuned") for t in tasks}


def test_two_compares_into_one_folder_split_the_units(models, tmp_path):
    """Two nodes of a cluster, same folder: every unit runs exactly once, and both see a complete pair."""
    out, tasks = tmp_path / "pair", ["conj_icl_en", "conj_xnli_en", "conj_icl_leet"]
    first = _compare_process(out, models, tasks, tmp_path / "a.log")
    wait_for((out / "pair.json").is_file, 120)
    second = _compare_process(out, models, [*tasks, "conj_icl_fr"], tmp_path / "b.log")
    assert first.wait(timeout=600) == 0, (tmp_path / "a.log").read_text()[-2000:]
    assert second.wait(timeout=600) == 0, (tmp_path / "b.log").read_text()[-2000:]
    logs = list(out.glob("*/worker_*.log"))
    committed = [line for log in logs for line in log.read_text().splitlines() if '"event": "done"' in line]
    assert len(committed) == 2 * 4  # each (model, task) once, whichever process ran it
    assert {p.parent.name for p in out.glob("*/*/done.json")} == {*tasks, "conj_icl_fr"}
    assert len({x["process"] for x in launches(out)}) >= 3  # the second really ran workers too


def test_the_model_bar_counts_requests_over_all_tasks(capsys):
    from conj_harness.lmeval.compat import parse_request_progress
    from conj_harness.pairs.workers import ModelBar

    bar = ModelBar("pair base", True)
    bar.plan({"conj_icl_en": 10, "conj_icl_fr": 10, "conj_icl_es": 20})
    bar.drop("conj_icl_es")  # another compare holds it
    bar.request_progress(parse_request_progress("Running generate_until requests:  50%|#   | 5/10 [00:01<00:01]"))
    assert (bar.bar.n, bar.bar.total) == (5, 20)
    bar.task_done("conj_icl_en")
    bar.request_progress(parse_request_progress("Requesting API:  30%|#   | 3/10 [00:01<00:02]"))
    assert (bar.bar.n, bar.bar.total) == (13, 20)
    bar.close()
    assert "13/20" in capsys.readouterr().err


# --- fixed costs paid off the critical path -----------------------------------------------------------------------


def test_the_report_warm_up_runs_while_the_last_model_works_and_its_failure_is_not_the_compares(models, tmp_path):
    from conj_harness.pairs.runner import run_pair

    out = tmp_path / "pair"
    spec = PairSpec(base=str(models["base"]), tuned=str(models["tuned"]), tasks=["conj_icl_en"], limit=2,
                    model_args="dtype=float32")
    seen: dict[str, object] = {}

    def warm() -> None:
        seen["loads_at_warm"] = _loads(out)  # the tuned model is loaded: the parent is idle until its tasks end
        raise RuntimeError("a warm-up that fails must not fail the compare")

    def finish(folder: Path) -> dict:
        seen["finished"] = True
        return {}

    outcome = run_pair(spec, out, finish=finish, warm=warm)
    assert not outcome.failures and seen.get("finished")
    assert seen["loads_at_warm"] == [["base"], ["tuned"]]
    # the tuned worker was started at once (gated): its log shows it waited, ready, before its load
    log = next((out / "tuned").glob("worker_tuned_*.log")).read_text()
    assert log.index('"event": "ready"') < log.index('"event": "loaded"')
