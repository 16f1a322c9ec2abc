"""The Python API refuses arguments of the wrong type or out of range, in one line naming the argument, before
anything runs (issue 25, item 9): ``judge_responses("I cannot help")`` once judged each character."""

from __future__ import annotations

import pytest

import conj_harness as ch
from conj_harness.errors import ArgumentError


@pytest.mark.parametrize(("call", "message"), [
    (lambda: ch.judge_responses("I cannot help"), "responses: expected a list of strings, got one string"),
    (lambda: ch.judge_responses({"a": 1}), "responses: expected a list of strings, got dict"),
    (lambda: ch.judge_responses([1, 2]), r"responses\[0\]: expected a string, got int 1"),
    (lambda: ch.judge_responses(["ok"], requests="a request"), "requests: expected a list of strings, got one"),
    (lambda: ch.judge_responses(["ok"], requests=[3]), r"requests\[0\]: expected a string or None"),
    (lambda: ch.judge_responses(["ok"], judge=None), "judge: expected a judge name"),
    (lambda: ch.conjugate("gsm8k", to="leet", limit=-1), "limit -1: expected a whole number of documents"),
    (lambda: ch.conjugate("gsm8k", to="leet", limit=True), "limit True"),
    (lambda: ch.conjugate("gsm8k", to=["leet", 3]), r"to\[1\]: expected a string"),
    (lambda: ch.conjugate(["gsm8k"], to="leet", data_files=["test.jsonl"]), "data_files: expected a dict"),
    (lambda: ch.conjugate("gsm8k", to="leet", answer_space="nope"), "answer_space 'nope': expected one of"),
    (lambda: ch.conjugate("gsm8k", to="leet", out=3), "out: expected a folder path"),
    (lambda: ch.compare("not a spec", "out"), "spec: expected a conj_harness.PairSpec, got str"),
])
def test_a_wrong_argument_is_one_line_naming_it(call, message):
    with pytest.raises(ArgumentError, match=message) as error:
        call()
    assert "\n" not in str(error.value)
    assert isinstance(error.value, ch.ConjError) and isinstance(error.value, ValueError)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"limit": "10"}, "--limit '10': give a positive number"),
    ({"limit": 0}, "--limit 0"),
    ({"tasks": [1]}, "tasks \\[1\\]: expected task names"),
    ({"seed": "abc"}, "--seed 'abc': give a whole number, or four"),
    ({"seed": "1,2"}, "--seed '1,2'"),
    ({"gen_kwargs": "max_gen_toks=abc"}, "--gen-kwargs max_gen_toks=abc: max_gen_toks takes a whole number"),
    ({"gen_kwargs": "temperature=warm"}, "temperature takes a number"),
    ({"gen_kwargs": "oops"}, "expected KEY=VALUE pairs"),
    ({"batch_size": "big"}, "--batch-size 'big'"),
    ({"base_chat_template": "yes"}, "base_chat_template 'yes': expected True or False"),
    ({"model_args": {"dtype": "float32"}}, "model_args .*expected text"),
])
def test_a_pair_spec_with_a_wrong_setting_is_refused_before_any_model_loads(kwargs, message):
    with pytest.raises(ch.ConjError, match=message):
        ch.PairSpec(**{"base": "some/model", "tuned": "other/model", "tasks": ["conj_icl_en"], **kwargs})


def test_good_settings_in_python_types_are_taken():
    spec = ch.PairSpec(base="some/model", tuned="other/model", tasks="conj_icl_en", seed=3, batch_size=4,
                       gen_kwargs="max_gen_toks=8,temperature=0,do_sample=false,until=x")
    assert (spec.seed, spec.batch_size, spec.tasks) == ("3", "4", ["conj_icl_en"])


@pytest.mark.parametrize(("kwargs", "message"), [({"alpha": 5}, "alpha 5: give a number between 0 and 1"),
                                                 ({"seed": 1.5}, "seed 1.5: give a whole number"),
                                                 ({"metrics": ["acc"]}, "metrics \\['acc'\\]: give a dict"),
                                                 ({"executor": "dask"},
                                                  "executor 'dask': expected one of 'local', 'ray'"),
                                                 ({"executor": "ray", "gpus_per_model": 1.5},
                                                  "gpus_per_model 1.5: give a fraction up to 1"),
                                                 ({"executor": "ray", "ray_address": 6379},
                                                  "ray_address: expected text")])
def test_compare_checks_its_statistics_settings_before_any_model_loads(tmp_path, kwargs, message):
    spec = ch.PairSpec(base=str(tmp_path / "no-model"), tuned=str(tmp_path / "no-model"), tasks=["conj_icl_en"])
    with pytest.raises(ch.ConjError, match=message):
        ch.compare(spec, tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()
