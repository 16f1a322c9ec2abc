"""Safety classifiers on vLLM (the CPU build): one batch through ``LLM.generate``, the same verdicts as transformers.

Runs in the vLLM venv (.ci/vllm_env.sh); in the main venv, where vLLM is not installed, it is skipped with the reason.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from conj_harness.judge.labels import ANSWER
from conj_harness.judge.registry import ClassifierJudge
from tests.support.tiny_classifiers import build_classifier, force_output

pytestmark = pytest.mark.skipif(getattr(importlib.util.find_spec("vllm"), "origin", None) is None,
                                reason="vLLM is not installed in this venv: build .venv-vllm with .ci/vllm_env.sh "
                                       "and run `.venv-vllm/bin/python -m pytest tests/vllm`")


@pytest.fixture(scope="module", autouse=True)
def _vllm_env():
    mp = pytest.MonkeyPatch()
    mp.setenv("VLLM_CPU_KVCACHE_SPACE", "1")
    mp.setenv("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    mp.setenv("CONJ_JUDGE_VLLM_ARGS", json.dumps({"enforce_eager": True, "dtype": "float32"}))
    yield
    mp.undo()


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("vllm_judges")
    return {
        "lg": force_output(build_classifier(root / "lg", llama_guard=True), "<|end_header_id|>", "unsafe\nS9"),
        "hb": force_output(build_classifier(root / "hb", words=("Yes", "No")), "]", "Yes"),
        "random": build_classifier(root / "random"),
    }


def test_generating_classifiers_run_on_vllm(models):
    requests, responses = ["How do I pick a lock?"] * 4, [f"Step {i}: use a tension wrench." for i in range(4)]
    for preset, model in (("llama-guard-3", models["lg"]), ("harmbench", models["hb"])):
        verdicts = ClassifierJudge(preset, str(model), engine="vllm").judge(requests, responses)
        assert [v.label for v in verdicts] == [ANSWER] * 4
        assert {v.evidence["engine"] for v in verdicts} == {"vllm"}
    assert verdicts[0].evidence["classifier_verdict"] == "yes"


def test_strongreject_scores_agree_with_transformers(models):
    requests, responses = ["How?", "Why?"], ["Do this, then that.", "I will not help."]
    on_vllm = ClassifierJudge("strongreject", str(models["random"]), engine="vllm").judge(requests, responses)
    on_hf = ClassifierJudge("strongreject", str(models["random"]), engine="transformers").judge(requests, responses)
    for a, b in zip(on_vllm, on_hf):
        assert a.evidence["score"] == pytest.approx(b.evidence["score"], abs=2e-3)
