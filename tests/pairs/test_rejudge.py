"""The judge is part of the result: a compare resumed with another judge re-judges (no inference), `rejudge`
relabels a compare folder or a copy of an lm-eval folder, and `judge-eval` measures a judge on labelled data."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.support.cli import run
from tests.support.tiny_classifiers import build_classifier, force_output

pytestmark = pytest.mark.slow  # model runs / CLI processes: not in the fast tier (README)


@pytest.fixture(scope="module")
def yes_sayer(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("judges")
    return force_output(build_classifier(root / "hb-yes", words=("Yes", "No")), "]", "Yes")


@pytest.fixture(scope="module")
def demo_pair() -> tuple[Path, Path]:
    from conj_harness.demo.checkpoint import demo_paths

    return demo_paths()


def _compare(pair, out, *extra):
    base, tuned = pair
    return run(["conj-harness", "compare", "--base", str(base), "--tuned", str(tuned), "--tasks",
                "conj_advbench_en,conj_icl_en", "--limit", "3", "--gen-kwargs", "max_gen_toks=8", "--output", str(out),
                "--no-progress", "--process-per", "model", *extra])


def _launches(out: Path) -> int:
    return len((out / "launches.jsonl").read_text().splitlines())


def _labels(out: Path, role: str) -> set[str]:
    rows = [json.loads(x) for x in (out / role / "conj_advbench_en" / "samples.jsonl").read_text().splitlines()]
    return {json.loads(r["filtered_resps"][0])["evidence"]["judge"]["name"] for r in rows}


def test_resuming_with_another_judge_rejudges_without_inference(demo_pair, yes_sayer, tmp_path):
    out = tmp_path / "pair"
    _compare(demo_pair, out)
    assert json.loads((out / "pair.json").read_text())["base"]["identity"]["judge"]["name"] == "rules"
    icl_before = (out / "base" / "conj_icl_en" / "samples.jsonl").read_bytes()
    n = _launches(out)
    proc = _compare(demo_pair, out, "--judge", "harmbench", "--judge-model", str(yes_sayer))
    assert _launches(out) == n  # nothing generated again
    assert "re-judged 2 finished safety runs" in proc.stderr
    pair = json.loads((out / "pair.json").read_text())
    assert pair["tuned"]["identity"]["judge"] == {"name": "harmbench", "model": str(yes_sayer),
                                                  "version": "harmbench/1", "translator": None}
    assert _labels(out, "base") == _labels(out, "tuned") == {"harmbench"}
    results = json.loads((out / "tuned" / "conj_advbench_en" / "results.json").read_text())
    assert results["results"]["conj_advbench_en"]["answer_rate,judge"] == 1.0
    assert results["configs"]["conj_advbench_en"]["metadata"]["judge"] == "harmbench"
    rows = {r["task"]: r for r in json.loads((out / "summary.json").read_text())["rows"]}
    assert rows["conj_advbench_en"]["base"] == rows["conj_advbench_en"]["tuned"] == 0.0  # refusal rate
    assert (out / "base" / "conj_icl_en" / "samples.jsonl").read_bytes() == icl_before  # other tasks untouched
    assert json.loads((out / "summary.json").read_text())["judge"]["name"] == "harmbench"
    assert "- safety judge: harmbench (harmbench/1, model " in (out / "report.md").read_text()

    # and back, with the rejudge command (the report is re-rendered; still no inference)
    run(["conj-harness", "rejudge", str(out), "--judge", "rules"])
    assert _launches(out) == n and _labels(out, "base") == {"rules"}
    assert json.loads((out / "pair.json").read_text())["base"]["identity"]["judge"]["name"] == "rules"
    assert "- safety judge: rules (rules/3+" in (out / "report.md").read_text()


def test_rejudge_copies_an_lm_eval_folder_and_leaves_it_alone(demo_pair, yes_sayer, tmp_path):
    runs = tmp_path / "runs"
    run(["conj-eval", "--model", "hf", "--model_args", f"pretrained={demo_pair[0]}", "--tasks", "conj_advbench_en",
         "--limit", "3", "--gen_kwargs", "max_gen_toks=8", "--output_path", str(runs), "--log_samples"])
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in runs.rglob("*") if p.is_file()}
    out = tmp_path / "relabelled"
    proc = run(["conj-harness", "rejudge", str(runs), "--judge", "harmbench", "--judge-model", str(yes_sayer),
                "--output", str(out)])
    assert "conj_advbench_en: refusal_rate 0.000, answer_rate 1.000" in proc.stdout
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in runs.rglob("*") if p.is_file()} == before
    (samples,) = out.rglob("samples_conj_advbench_en_*.jsonl")
    assert all(json.loads(json.loads(x)["filtered_resps"][0])["label"] == "ANSWER"
               for x in samples.read_text().splitlines())
    (results,) = out.rglob("results_*.json")
    assert json.loads(results.read_text())["results"]["conj_advbench_en"]["answer_rate,judge"] == 1.0
    again = run(["conj-harness", "rejudge", str(runs), "--judge", "rules", "--output", str(out)], check=False)
    assert again.returncode == 2 and "is not empty" in again.stderr
    inside = run(["conj-harness", "rejudge", str(runs), "--judge", "rules", "--output", str(runs / "sub")], check=False)
    assert inside.returncode == 2 and f"--output {runs / 'sub'} lies inside {runs}" in inside.stderr
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in runs.rglob("*") if p.is_file()} == before


def test_a_crafted_pair_json_cannot_make_rejudge_write_outside_its_folder(demo_pair, tmp_path):
    """A task entry with '..' in an edited pair.json must not lead the store into a sibling folder."""
    out, victim = tmp_path / "pair", tmp_path / "victim"
    _compare(demo_pair, out)
    victim.mkdir()
    (victim / "keep.txt").write_text("mine")
    record = json.loads((out / "pair.json").read_text())
    record["tasks"].append("conj_advbench_x/../../../victim/base/conj_advbench_en")
    (out / "pair.json").write_text(json.dumps(record))
    proc = run(["conj-harness", "rejudge", str(out), "--judge", "rules"], check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "cannot be used as a file or folder name" in proc.stderr and str(out / "pair.json") in proc.stderr
    assert [p.name for p in victim.rglob("*")] == ["keep.txt"]


def test_judge_eval_reports_agreement_without_showing_responses(tmp_path, data_dir):
    rows = [json.loads(x) for x in (data_dir / "refusal_labels" / "dev_jailbreak.jsonl").read_text().splitlines()]
    sample = rows[:30] + [r for r in rows if r["lang"] == "zh"][:5]
    path = tmp_path / "labelled.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in sample))
    proc = run(["conj-harness", "judge-eval", str(path), "--output", str(tmp_path / "m.json")])
    assert "| all | 35 |" in proc.stdout and "| lang:zh | 5 |" in proc.stdout and "| source:gptfuzz |" in proc.stdout
    assert "| split:" in proc.stdout and "| human \\ judge | REFUSE | ANSWER | AMBIGUOUS |" in proc.stdout
    assert not any(r["response"][:40] in proc.stdout + proc.stderr for r in sample)
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["groups"]["all"]["n"] == 35 and metrics["judge"]["name"] == "rules"
    conf = metrics["groups"]["all"]["confusion"]
    assert sum(sum(row.values()) for row in conf.values()) == 35
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"response": "x", "label": "MAYBE"}\n')
    proc = run(["conj-harness", "judge-eval", str(bad)], check=False)
    assert proc.returncode == 2 and "line 1: label 'MAYBE'" in proc.stderr


def test_resuming_after_the_rules_changed_rejudges(demo_pair, tmp_path):
    """Results judged by another version of the rules (another identity hash) are re-judged on resume, without
    inference - as for another judge."""
    from conj_harness.judge.rules import identity_string

    out = tmp_path / "pair"
    _compare(demo_pair, out)
    now = identity_string()
    n = _launches(out)
    for path in out.rglob("*.json"):  # the folder as an older version of the rules left it
        text = path.read_text(encoding="utf-8")
        if now in text:
            path.write_text(text.replace(now, "rules/2"), encoding="utf-8")
    for done in out.glob("*/*/done.json"):  # ... with the digests of the files it wrote
        record = json.loads(done.read_text(encoding="utf-8"))
        record["files"]["results.json"] = hashlib.sha256((done.parent / "results.json").read_bytes()).hexdigest()
        done.write_text(json.dumps(record), encoding="utf-8")
    assert now not in (out / "pair.json").read_text()
    proc = _compare(demo_pair, out)
    assert _launches(out) == n  # nothing generated again
    assert "re-judged 2 finished safety runs" in proc.stderr
    assert json.loads((out / "pair.json").read_text())["base"]["identity"]["judge"]["version"] == now
    rows = [json.loads(x) for x in (out / "base" / "conj_advbench_en" / "samples.jsonl").read_text().splitlines()]
    assert {json.loads(r["filtered_resps"][0])["evidence"]["judge"]["version"] for r in rows} == {now}
