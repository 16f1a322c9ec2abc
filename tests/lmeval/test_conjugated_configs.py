"""`conjugate` on the task shapes gsm8k and xnli_en do not have: lm-eval's own arc_easy (few-shot pool from the
training split by lm-eval's fallback) and winogrande (several inputs: the scored continuation is text), and a user
task that generates one of its choices and runs a `custom` filter step with a `!function`. Small local data files,
ciphers only (no translator), in process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conj_harness.conjugates import get
from conj_harness.lmeval import compat
from conj_harness.lmeval.conjugated import (
    ConjugateRequest,
    _index,
    _narrow_index,
    conjugate_tasks,
    data_files_overrides,
)
from conj_harness.lmeval.registration import ConjTaskManager

pytestmark = pytest.mark.slow  # model runs / CLI processes: not in the fast tier (README)

LEET = get("leet").transform


def _jsonl(path: Path, rows: list[dict]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def _conjugate(out: Path, task: str, files: dict[str, str], include: Path | None = None, force: bool = False) -> dict:
    request = ConjugateRequest(tasks=[task], conjugates=["leet"], out_dir=out, data_files=files,
                               include_path=str(include) if include else None, force=force)
    conjugate_tasks(request)
    manager = ConjTaskManager(include_path=str(out))
    names = [f"conj_{task}_en", f"conj_{task}_leet"]
    return manager.load(names)["tasks"]


def _original(task: str, files: dict[str, str], include: Path | None = None):
    entry = (_index(str(include)) if include else _narrow_index([task], None))[task]
    return compat.build_task_from_yaml(entry.yaml_path, data_files_overrides(entry.config, files))


def _docs(task) -> list[dict]:
    return [dict(d) for d in (task.test_docs() if task.has_test_docs() else task.validation_docs())]


def _arc_rows(split: str, n: int) -> list[dict]:
    """ARC-shaped rows; ``split`` in the id and question (empty: the same rows whatever the split)."""
    return [{"id": f"{split or 'q'}{i}", "question": f"Which {split + ' ' if split else ''}object number {i} is heavy?",
             "choices": {"text": [f"rock {i}", f"feather {i}", f"leaf {i}"], "label": ["A", "B", "C"]},
             "answerKey": "ABC"[i % 3]} for i in range(n)]


def test_arc_easy_draws_its_examples_from_the_training_split_as_lm_eval_does(tmp_path):
    files = {"test": _jsonl(tmp_path / "test.jsonl", _arc_rows("test", 4)),
             "train": _jsonl(tmp_path / "train.jsonl", _arc_rows("train", 12))}
    tasks = _conjugate(tmp_path / "out", "arc_easy", files)
    original = _original("arc_easy", files)
    for task in (original, *tasks.values()):
        task.set_fewshot_seed(1234)
    for doc, en_doc, leet_doc in zip(_docs(original), _docs(tasks["conj_arc_easy_en"]),
                                     _docs(tasks["conj_arc_easy_leet"])):
        prompt = original.fewshot_context(doc, num_fewshot=3)
        assert "train" in prompt and prompt.count("test object") == 1  # examples from train, not the test docs
        assert tasks["conj_arc_easy_en"].fewshot_context(en_doc, num_fewshot=3) == prompt
        leet = tasks["conj_arc_easy_leet"].fewshot_context(leet_doc, num_fewshot=3)
        assert leet.count(LEET("train")) == 3 and LEET(doc["question"]) in leet and "heavy" not in leet
        assert tasks["conj_arc_easy_leet"].doc_to_target(leet_doc) == original.doc_to_target(doc)
    # again with --force and no train file: the pool is now the test split, and the old train rows are gone
    data = tmp_path / "out" / "conjugated" / "arc_easy" / "data" / "leet"
    assert sorted(p.name for p in data.iterdir()) == ["test.jsonl", "train.jsonl"]
    _conjugate(tmp_path / "out", "arc_easy", {"test": files["test"]}, force=True)
    assert sorted(p.name for p in data.iterdir()) == ["test.jsonl"]


def test_a_row_in_both_splits_is_an_example_exactly_when_lm_eval_makes_it_one(tmp_path):
    """lm-eval 0.4.13 leaves the evaluated document out of its examples only when they come from the test split
    itself; from another split (here: train, holding the same rows) it may draw the document as its own example.
    The conjugated task does exactly what the original does, document for document."""
    # the 3 test rows are also the first 3 of the 5 training rows
    files = {"test": _jsonl(tmp_path / "test.jsonl", _arc_rows("", 3)),
             "train": _jsonl(tmp_path / "train.jsonl", _arc_rows("", 5))}
    tasks = _conjugate(tmp_path / "out", "arc_easy", files)
    original = _original("arc_easy", files)
    for task in (original, *tasks.values()):
        task.set_fewshot_seed(1234)
    for doc, en_doc in zip(_docs(original), _docs(tasks["conj_arc_easy_en"])):
        prompt = original.fewshot_context(doc, num_fewshot=4)
        assert tasks["conj_arc_easy_en"].fewshot_context(en_doc, num_fewshot=4) == prompt
    own = [d["question"] for d in _docs(original)
           if original.fewshot_context(d, num_fewshot=4).count(d["question"]) > 1]
    assert own  # the case exists in the original (4 of 5 training rows drawn), and the conjugate matched it


def test_winogrande_conjugates_the_scored_continuation(tmp_path):
    def rows(n: int) -> list[dict]:
        return [{"sentence": f"The trophy {i} does not fit in the suitcase because _ is too big.",
                 "option1": "trophy", "option2": "suitcase", "answer": "12"[i % 2]} for i in range(n)]

    files = {"validation": _jsonl(tmp_path / "v.jsonl", rows(4)), "train": _jsonl(tmp_path / "t.jsonl", rows(6))}
    tasks = _conjugate(tmp_path / "out", "winogrande", files)
    original, leet = _original("winogrande", files), tasks["conj_winogrande_leet"]
    for doc, cdoc in zip(_docs(original), _docs(leet)):
        assert leet.doc_to_text(cdoc) == original.doc_to_text(doc)  # the index of the right option
        assert leet.doc_to_target(cdoc) == LEET(original.doc_to_target(doc)) != original.doc_to_target(doc)
        assert leet.doc_to_choice(cdoc) == [LEET(c) for c in original.doc_to_choice(doc)]
    leet.build_all_requests(rank=0, limit=2, world_size=1)
    for inst in leet.instances:  # what the model scores: conjugated context, conjugated continuation
        context, continuation = inst.arguments
        assert "too big" not in context + continuation and LEET(" is too big.") in continuation


USER_TASK = """task: pick_word
dataset_path: json
dataset_kwargs:
  data_files:
    validation: {data}
    train: {data}
output_type: generate_until
training_split: train
validation_split: validation
doc_to_text: "Is {{{{thing}}}} alive?\\nAnswer:"
doc_to_target: label
doc_to_choice: ["no", "yes"]
num_fewshot: 2
generation_kwargs:
  until: ["\\n"]
filter_list:
  - name: shout
    filter:
      - function: custom
        filter_fn: !function utils.shout
      - function: take_first
metric_list:
  - metric: exact_match
"""


def test_a_generated_choice_and_a_custom_filter_function(tmp_path):
    """generate_until with doc_to_choice: few-shot answers are the conjugated choice; the task's `custom` step and
    its `!function` run after the inverse."""
    include = tmp_path / "mine"
    include.mkdir()
    data = _jsonl(tmp_path / "d.jsonl", [{"thing": t, "label": int(t != "rock")} for t in ["rock", "cat", "tree"]])
    (include / "pick_word.yaml").write_text(USER_TASK.format(data=data))
    (include / "utils.py").write_text("def shout(resps, docs):\n    return [[r.upper() for r in rs] for rs in resps]\n")
    task = _conjugate(tmp_path / "out", "pick_word", {}, include)["conj_pick_word_leet"]
    doc = _docs(task)[0]
    prompt = task.fewshot_context(doc, num_fewshot=2)
    assert "_conj_target" not in prompt and (LEET("yes") in prompt or LEET("no") in prompt), prompt
    task.build_all_requests(rank=0, limit=3, world_size=1)
    for inst in task.instances:
        inst.resps = [LEET("yes")]
    task.apply_filters()
    assert {inst.filtered_resps["shout"] for inst in task.instances} == {"YES"}  # leet -> inverse -> shout


def test_a_task_redefined_in_an_include_path_is_refused_naming_both_files(tmp_path):
    """lm-eval lets the include path's copy silently replace the built-in; results stored under the name would then
    mean either task (issue 25). Under another name the copy is fine."""
    mine = tmp_path / "mine"
    mine.mkdir()
    gsm8k = compat.builtin_tasks_dir() / "gsm8k" / "gsm8k.yaml"
    (mine / "gsm8k.yaml").write_text(f"include: {gsm8k}\ntask: gsm8k\ndescription: 'mine'\n")
    with pytest.raises(compat.ShadowedTaskError, match=f"{mine / 'gsm8k.yaml'} defines the task 'gsm8k', which "
                                                      f"{gsm8k} already defines"):
        _narrow_index(["gsm8k"], str(mine))
    (mine / "gsm8k.yaml").write_text(f"include: {gsm8k}\ntask: gsm8k_mine\ndescription: 'mine'\n")
    narrow = _narrow_index(["gsm8k_mine"], str(mine))
    assert narrow is not None and narrow["gsm8k_mine"].yaml_path == mine / "gsm8k.yaml"


@pytest.mark.parametrize("limit", ["0", "-3"])
def test_a_limit_below_one_is_refused(tmp_path, limit):
    from tests.support.cli import run

    proc = run(["conj-harness", "conjugate", "gsm8k", "--to", "leet", "--out", str(tmp_path), "--limit", limit],
               check=False)
    assert proc.returncode == 2 and "1 or more" in proc.stderr and not any(tmp_path.iterdir())


def test_groups_expand_to_their_tasks_and_an_inline_group_is_one_line():
    from conj_harness.errors import ConjError
    from conj_harness.lmeval.conjugated import resolve_sources

    tasks, _ = resolve_sources(["mmlu_stem"], None)
    assert len(tasks) == 19 and all(t.startswith("mmlu_") for t in tasks)
    with pytest.raises(ConjError, match="flan_held_in is a group whose tasks lm-eval's index does not list"):
        resolve_sources(["flan_held_in"], None)


MC_PREFIX_TASK = """task: pick_color
dataset_path: json
dataset_kwargs:
  data_files:
    validation: {data}
output_type: multiple_choice
validation_split: validation
doc_to_text: "What color is {{{{thing}}}}?"
doc_to_target: label
doc_to_choice: ["red", "green"]
gen_prefix: "Answer: "
metric_list:
  - metric: acc
"""


def test_a_gen_prefix_ending_in_a_space_keeps_lm_evals_delimiter_under_a_chat_template(tmp_path):
    include = tmp_path / "mine"
    include.mkdir()
    data = _jsonl(tmp_path / "d.jsonl", [{"thing": t, "label": i % 2} for i, t in enumerate(["a rose", "grass"])])
    (include / "pick_color.yaml").write_text(MC_PREFIX_TASK.format(data=data))
    tasks = _conjugate(tmp_path / "out", "pick_color", {}, include)
    original = _original("pick_color", {"validation": data}, include)

    def chat(messages, add_generation_prompt=True):
        return "|".join(f"{m['role']}:{m['content']}" for m in messages)

    def requests(task) -> list[tuple]:
        task.build_all_requests(rank=0, limit=2, world_size=1, apply_chat_template=True, chat_template=chat)
        return [inst.arguments for inst in task.instances]

    assert requests(tasks["conj_pick_color_en"]) == requests(original)
    leet = requests(tasks["conj_pick_color_leet"])
    assert all(cont in (LEET("red"), LEET("green")) for _, cont in leet)  # no space added before the choice
    assert all(ctx.endswith(LEET("Answer:") + " ") for ctx, _ in leet)


def test_each_conjugate_of_an_aliased_task_is_named_in_the_results_table(tmp_path):
    include = tmp_path / "inc"
    include.mkdir()
    data = _jsonl(tmp_path / "rows.jsonl", [{"q": f"Say {w}", "a": w} for w in ("hi", "yes", "no")])
    (include / "aliased.yaml").write_text(
        f"task: aliased_task\ntask_alias: Greeting\ndataset_path: json\ndataset_kwargs:\n  data_files:\n"
        f"    test: {data}\ntest_split: test\noutput_type: generate_until\ndoc_to_text: '{{{{q}}}}'\n"
        "doc_to_target: '{{a}}'\n")
    tasks = _conjugate(tmp_path / "out", "aliased_task", {}, include=include)
    assert {n: t.config.task_alias for n, t in tasks.items()} == {
        "conj_aliased_task_en": "Greeting (en)", "conj_aliased_task_leet": "Greeting (leet)"}
