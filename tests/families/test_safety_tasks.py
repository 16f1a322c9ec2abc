"""The safety families (conj_advbench_*, conj_multijail_*) through the real conj-eval CLI."""

from __future__ import annotations

import json

import pytest

from conj_harness.data import sources
from conj_harness.families import safety
from conj_harness.lmeval.registration import local_task_names
from tests.support.cli import read_results, read_samples, run

pytestmark = pytest.mark.slow  # model runs / CLI processes: not in the fast tier (README)

SAFETY_TASKS = [n for n in local_task_names() if n.startswith(("conj_advbench_", "conj_multijail_"))]


def test_families_are_registered():
    assert sorted(t for t in SAFETY_TASKS if t.startswith("conj_advbench_")) == sorted(
        f"conj_advbench_{c}" for c in ("en", "ja", "hu", "sw", "ml", "leet", "piglatin"))
    assert len([t for t in SAFETY_TASKS if t.startswith("conj_multijail_")]) == 10


def test_paper_subset_is_the_papers_100(data_dir):
    ref = [json.loads(line) for line in (data_dir / "paper_reference" / "advbench100_selected.jsonl").open()]
    for lang in safety.ADVBENCH_PAPER_LANGS:
        docs = safety.advbench_docs(lang)
        assert [d["id"] for d in docs] == [r["line_index"] for r in ref]
        assert [d["instruction"] for d in docs] == [r[lang] for r in ref]
        assert docs[0]["prompt"] == ref[0][lang].strip() + "\n\n"
    assert len(safety.advbench_docs("piglatin", "all")) == 520
    with pytest.raises(Exception, match="unknown advbench_subset 'most'"):
        safety.advbench_docs("en", "most")


@pytest.fixture(scope="module")
def safety_run(tiny_llama, tmp_path_factory):
    out = tmp_path_factory.mktemp("safety")
    proc = run(["conj-eval", "--model", "hf", "--model_args", f"pretrained={tiny_llama}", "--tasks",
                "conj_advbench_*", "conj_multijail_*", "--limit", "2", "--gen_kwargs", "max_gen_toks=8",
                "--batch_size", "8", "--output_path", str(out), "--log_samples"])
    return out, proc


def test_every_safety_task_runs_and_rates_sum_to_one(safety_run):
    out, _ = safety_run
    results = read_results(out)["results"]
    assert sorted(results) == sorted(SAFETY_TASKS)
    for name, m in results.items():
        total = m["refusal_rate,judge"] + m["answer_rate,judge"] + m["ambiguous_rate,judge"]
        assert total == pytest.approx(1.0), name


def test_verdicts_with_evidence_are_logged_and_harmful_text_is_not_printed(safety_run):
    out, proc = safety_run
    samples = read_samples(out, "conj_advbench_hu")
    for s in samples:
        verdict = json.loads(s["filtered_resps"][0])
        assert verdict["label"] in ("REFUSE", "ANSWER", "AMBIGUOUS") and "evidence" in verdict
        assert s[verdict["label"].lower().replace("refuse", "refusal") + "_rate"] == 1.0
        assert isinstance(s["resps"][0][0], str)  # the raw generation is kept in the results file
        assert s["doc"]["instruction"] not in proc.stdout + proc.stderr


def test_chat_template_and_system_instruction(tiny_chat_llama, tmp_path):
    run(["conj-eval", "--model", "hf", "--model_args", f"pretrained={tiny_chat_llama}", "--tasks", "conj_advbench_sw",
         "--limit", "1", "--gen_kwargs", "max_gen_toks=4", "--apply_chat_template", "--system_instruction",
         "You are a helpful assistant.", "--output_path", str(tmp_path), "--log_samples"])
    (sample,) = read_samples(tmp_path, "conj_advbench_sw")
    context = sample["arguments"]["gen_args_0"]["arg_0"]
    assert context.startswith("<|system|>You are a helpful assistant.\n<|user|>")
    assert context.endswith("<|assistant|>") and sample["doc"]["instruction"] in context


def test_all_520_through_metadata(tiny_llama, tmp_path):
    run(["conj-eval", "--model", "hf", "--model_args", f"pretrained={tiny_llama}", "--tasks", "conj_advbench_leet",
         "--metadata", '{"advbench_subset": "all"}', "--limit", "600", "--gen_kwargs", "max_gen_toks=1",
         "--batch_size", "64", "--output_path", str(tmp_path), "--log_samples"])
    samples = read_samples(tmp_path, "conj_advbench_leet")
    assert len(samples) == sources.ADVBENCH_ROWS
