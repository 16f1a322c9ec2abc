"""A study's plan (issue 26): each distinct (model, settings, task) run once across pairs; conflicting settings of
one model are two runs; a base and its adapter share one load; served models share a run only at one address."""

from __future__ import annotations

from pathlib import Path

from conj_harness.pairs.plan import PlannedPair, make_plan
from conj_harness.pairs.spec import PairSpec
from conj_harness.pairs.store import PairStore


def _pair(tmp: Path, name: str, tasks: list[str], **spec) -> PlannedPair:
    spec_ = PairSpec(name=name, tasks=tasks, **spec)
    pending = [(r, t) for r in ("base", "tuned") for t in tasks]
    return PlannedPair(spec_, PairStore(tmp / name), tasks, {}, name, pending)


def _runs(plan) -> list[tuple[str, list[tuple[str, str]]]]:
    return [(run.label, run.units) for run in plan.runs]


def test_a_shared_base_is_one_run_whose_units_go_to_both_pairs(tmp_path, tiny_llama, tiny_gemma):
    one = _pair(tmp_path, "one", ["a", "b"], base=str(tiny_llama), tuned=str(tiny_gemma))
    two = _pair(tmp_path, "two", ["b", "c"], base=str(tiny_llama), tuned=str(tiny_gemma), limit=None)
    plan = make_plan([one, two])
    assert _runs(plan) == [("one base", [("base", "a"), ("base", "b")]),
                           ("one tuned", [("tuned", "a"), ("tuned", "b")]),
                           ("two base", [("base", "c")]), ("two tuned", [("tuned", "c")])]
    base = plan.runs[0]
    assert [(t.pair.label, t.role) for t in base.targets[("base", "b")]] == [("one", "base"), ("two", "base")]
    assert plan.shared == 2  # base b and tuned b of pair two


def test_one_model_with_conflicting_settings_is_two_runs(tmp_path, tiny_llama, tiny_gemma):
    one = _pair(tmp_path, "one", ["a"], base=str(tiny_llama), tuned=str(tiny_gemma))
    two = _pair(tmp_path, "two", ["a"], base=str(tiny_llama), tuned=str(tiny_gemma), base_model_args="dtype=float32")
    three = _pair(tmp_path, "three", ["a"], base=str(tiny_llama), tuned=str(tiny_gemma), seed="7")
    plan = make_plan([one, two, three])
    assert [run.label for run in plan.runs] == ["one base", "one tuned", "two base", "three base", "three tuned"]
    assert plan.shared == 1  # only pair two's tuned model (same settings as pair one's)


def test_a_base_and_its_adapter_share_one_load(tmp_path, tiny_llama):
    adapter = _pair(tmp_path, "lora", ["a"], base=str(tiny_llama), tuned_adapter=str(tiny_llama))
    plain = _pair(tmp_path, "plain", ["a"], base=str(tiny_llama), tuned=str(tiny_llama), tuned_model_args="x=1")
    plan = make_plan([adapter, plain])
    assert _runs(plan)[0] == ("lora base+tuned", [("base", "a"), ("tuned", "a")])
    assert [run.label for run in plan.runs] == ["lora base+tuned", "plain tuned"]  # plain's base is lora's base


def test_a_served_model_is_one_run_only_at_one_address(tmp_path):
    served = {"backend": "local-completions", "tuned": "m-tuned"}
    one = _pair(tmp_path, "one", ["a"], base="m", base_url="http://127.0.0.1:1/v1/completions", **served)
    two = _pair(tmp_path, "two", ["a"], base="m", base_url="http://127.0.0.1:2/v1/completions", **served)
    three = _pair(tmp_path, "three", ["a"], base="m", base_url="http://127.0.0.1:1/v1/completions", **served)
    plan = make_plan([one, two, three])
    assert [run.label for run in plan.runs] == ["one base", "one tuned", "two base"]


def test_a_server_given_in_the_model_args_keeps_two_pairs_apart(tmp_path):
    served = {"backend": "local-completions", "tuned": "m-tuned"}
    one = _pair(tmp_path, "one", ["a"], base="m", base_model_args="base_url=http://127.0.0.1:1/v1/completions",
                **served)
    two = _pair(tmp_path, "two", ["a"], base="m", base_model_args="base_url=http://127.0.0.1:2/v1/completions",
                **served)
    assert one.spec.identity("base") == two.spec.identity("base")  # the address is transport, not identity
    assert [run.label for run in make_plan([one, two]).runs] == ["one base", "one tuned", "two base"]
