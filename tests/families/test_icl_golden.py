"""All 2,800 ICL-vs-IF prompts, as lm-eval renders them for the model, are byte-identical to the paper's."""

from __future__ import annotations

import json

import pytest

from conj_harness.families import icl


@pytest.fixture(scope="module")
def golden(data_dir) -> dict[tuple[str, int], dict]:
    rows = [json.loads(line) for line in (data_dir / "paper_reference" / "icl_vs_if_prompts_2800.jsonl").open()]
    assert len(rows) == 2800
    return {(r["config"], r["idx"]): r for r in rows}


def test_every_prompt_lm_eval_sends_matches_the_paper(golden):
    """Build the real lm-eval tasks and compare each request's context (what the model receives)."""
    import conj_harness

    tm = conj_harness.task_manager()
    tasks = tm.load([f"conj_icl_{c}" for c in icl.PAPER_CONJUGATES])["tasks"]
    assert len(tasks) == 7
    seen = 0
    for name, task in tasks.items():
        task.build_all_requests(limit=None)
        assert len(task.instances) == 400, name
        for inst in task.instances:
            doc = inst.doc
            ref = golden[(doc["config"], doc["idx"])]
            context, gen_kwargs = inst.arguments
            assert context == ref["prompt"], (name, doc["id"])
            assert (doc["icl_ans"], doc["if_ans"], doc["lang"]) == (ref["icl_ans"], ref["if_ans"], ref["lang"])
            # the paper: greedy, 10 new tokens, no stop string before them
            assert gen_kwargs["max_gen_toks"] == 10 and gen_kwargs["do_sample"] is False
            assert gen_kwargs["until"] == []
            seen += 1
    assert seen == 2800


@pytest.mark.mirror
def test_sampling_is_parallel_across_conjugates():
    """Seed 10 per config: the same numbers and sentence indices appear in every language."""
    en, fr = icl.paper_docs("en"), icl.paper_docs("fr")
    for a, b in zip(en, fr):
        assert a["id"] == b["id"]
        if a["if_task"] == "math":
            assert a["if_ans"] == b["if_ans"]  # same numbers and operator, same result


@pytest.mark.parametrize(
    ("output", "answer", "expected"),
    [
        (" WHAT IS 19", " WHAT", True),
        ("WHAT", " WHAT", True),  # leading space optional
        (" What", " WHAT", False),  # case matters
        ("\nWHAT", " WHAT", False),
        (" \\_\\_\\_\\_ never", " ____", True),  # markdown-escaped underscores are undone
        (" 23", " 23", True),
        ("", " 23", False),
    ],
)
def test_prefix_rule(output, answer, expected):
    assert icl.starts_with_answer(output, answer) is expected


def test_score_reports_icl_and_if_separately():
    doc = {"icl_ans": " WHAT", "if_ans": " 23"}
    assert icl.score(doc, " WHAT IS") == {"icl_acc": 1.0, "if_rate": 0.0}
    assert icl.score(doc, " 23.") == {"icl_acc": 0.0, "if_rate": 1.0}
    assert icl.score(doc, " banana") == {"icl_acc": 0.0, "if_rate": 0.0}
