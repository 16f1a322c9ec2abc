"""The BOS policy: each family's rule from the checkpoint's own files, and conj-eval / compare applying it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conj_harness.checkpoints import bos

pytestmark = pytest.mark.slow  # model runs / CLI processes: not in the fast tier (README)


def _folder(tmp_path: Path, name: str, model_type: str | None, bos_token: object = None) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    if model_type is not None:
        (folder / "config.json").write_text(json.dumps({"model_type": model_type}), encoding="utf-8")
    if bos_token is not None:
        (folder / "tokenizer_config.json").write_text(json.dumps({"bos_token": bos_token}), encoding="utf-8")
    return folder


@pytest.mark.parametrize(("model_type", "bos_token", "expected"), [
    ("gemma3_text", "<bos>", True),              # measured: gemma-3-270m degenerates without its BOS
    ("gemma2", {"content": "<bos>"}, True),
    ("llama", "<s>", False),                     # LLaMA-1/2, Code Llama: the paper's no-BOS setting
    ("llama", None, False),
    ("opt", "</s>", False),                      # OPT's tokenizer puts </s> first; the authors removed it
    ("llama", "<|begin_of_text|>", None),        # Llama 3: not the paper's tokenizer, so its own default
    ("llama", "<|im_start|>", None),             # SmolLM2
    ("qwen2", "<|endoftext|>", None),
])
def test_family_rules(tmp_path, model_type, bos_token, expected):
    choice = bos.decide({"pretrained": str(_folder(tmp_path, "m", model_type, bos_token))})
    assert choice.add_bos_token is expected
    assert choice.family == model_type and not choice.user_set


def test_unknown_family_keeps_paper_mode_and_says_why(tmp_path):
    choice = bos.decide({"pretrained": str(_folder(tmp_path, "empty", None))})
    assert choice.add_bos_token is False and "family unknown" in choice.reason and "config.json" in choice.reason
    assert bos.decide({"pretrained": "no-such-org/no-such-model-xyz"}).add_bos_token is False


@pytest.mark.parametrize(("given", "expected"), [(True, True), ("True", True), ("false", False), (False, False)])
def test_user_setting_wins(tmp_path, given, expected):
    folder = _folder(tmp_path, "g", "gemma3_text", "<bos>")
    choice = bos.decide({"pretrained": str(folder), "add_bos_token": given})
    assert choice.add_bos_token is expected and choice.user_set


def test_line_names_the_choice_and_the_override(tmp_path):
    line = bos.decide({"pretrained": str(_folder(tmp_path, "g", "gemma3", "<bos>"))}).line()
    assert line.startswith("conj-eval: add_bos_token=True (gemma3") and "add_bos_token=True/False" in line
    assert "tokenizer default" in bos.decide({"pretrained": str(_folder(tmp_path, "q", "qwen2", "x"))}).line()


def test_conj_eval_gives_gemma_its_bos_and_records_it(tmp_path, tiny_gemma, tiny_llama):
    from tests.support.cli import read_results, run

    for model, expected in ((tiny_gemma, True), (tiny_llama, False)):
        out = tmp_path / model.name
        proc = run(["conj-eval", "--model", "hf", "--model_args", f"pretrained={model}", "--tasks", "conj_icl_en",
                    "--limit", "2", "--device", "cpu", "--output_path", str(out)])
        assert f"conj-eval: add_bos_token={expected} (" in proc.stderr
        results = read_results(out)
        model_args = results["config"]["model_args"]
        recorded = model_args.get("add_bos_token") if isinstance(model_args, dict) else \
            f"add_bos_token={expected}" in model_args and expected
        assert recorded is expected
        policy = results["configs"]["conj_icl_en"]["metadata"]["bos_policy"]
        assert policy["add_bos_token"] is expected and not policy["user_set"]


def test_pair_identity_carries_the_choice(tmp_path, tiny_gemma, tiny_llama):
    from conj_harness.pairs.spec import PairSpec

    gemma = PairSpec(base=str(tiny_gemma), tuned=str(tiny_gemma), tasks=["conj_icl_en"])
    llama = PairSpec(base=str(tiny_llama), tuned=str(tiny_llama), tasks=["conj_icl_en"])
    assert gemma.identity("base")["add_bos_token"] is True
    assert llama.identity("tuned")["add_bos_token"] is False
    forced = PairSpec(base=str(tiny_gemma), tuned=str(tiny_gemma), tasks=["conj_icl_en"],
                      model_args="add_bos_token=False")
    assert forced.identity("base")["add_bos_token"] is False
