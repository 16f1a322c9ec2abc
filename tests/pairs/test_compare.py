"""`conj-harness compare` / `report`: real pairs of tiny models through real lm-eval (HF backend, CPU).

Two tiny random Llamas built with different seeds both just repeat the prompt's last token (":"), so they would
give identical outputs. The base model here is therefore edited by hand into a "True-sayer": its layers add
nothing and its embeddings chain ":" -> " True", so it answers "True" to every XNLI prompt and scores the share of
entailment docs on conj_xnli_en (and 0 on conj_xnli_leet, whose label word is "7ru3"); the tuned model is a plain
seed-1 build. That gives a known, non-zero drop in English and full "recovery" in Leetspeak.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest

from conj_harness.cli import compare as compare_cli
from conj_harness.errors import ConjError
from conj_harness.lmeval.registration import resolve_tasks
from conj_harness.pairs import tokenizers, workers
from conj_harness.pairs.spec import PairSpec
from conj_harness.pairs.store import PairStore
from conj_harness.report import analysis, render
from tests.support.cli import run

pytestmark = pytest.mark.slow  # model runs / CLI processes: not in the fast tier (README)

TASKS = ["conj_xnli_en", "conj_xnli_leet", "conj_icl_en"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def conj(*argv) -> None:
    """`conj-harness <argv>` through the subcommands compare_cli registers (in process; ConjError propagates)."""
    parser = argparse.ArgumentParser(prog="conj-harness")
    compare_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args([str(a) for a in argv])
    args.func(args)


def launches(out: Path) -> list[dict]:
    path = out / "launches.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def true_sayer(path: Path) -> Path:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tests.support.tiny_models import build_llama

    build_llama(path, seed=0)
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path)
    chain = [tok.convert_tokens_to_ids(t) for t in [":", *tok.tokenize(" True")]]
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(("o_proj.weight", "down_proj.weight")):
                p.zero_()  # every layer adds nothing: the next token depends on the last one only
        emb = model.get_input_embeddings().weight  # tied with the output layer
        for i, t in enumerate(chain):  # token i's embedding points most at token i + 1's
            row = torch.zeros_like(emb[t])
            row[i] = row[i + 1] = 1.0
            emb[t] = row * 3.0 ** i
    model.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict:
    from tests.support.tiny_models import build_llama

    root = tmp_path_factory.mktemp("pair_models")
    return {"base": true_sayer(root / "base"), "tuned": build_llama(root / "tuned", seed=1)}


def compare_argv(models, out, *extra):
    return ["compare", "--base", models["base"], "--tuned", models["tuned"], "--tasks", "conj_xnli_en,conj_xnli_leet",
            "conj_icl_en", "--limit", "4", "--output", out, "--no-progress", *extra]


@pytest.fixture(scope="module")
def compared(models, tmp_path_factory) -> Path:
    """One real compare: one model worker (one model load) per model, the default."""
    out = tmp_path_factory.mktemp("compare") / "pair"
    conj(*compare_argv(models, out))
    return out


def _rows(summary: dict) -> dict:
    return {r["task"]: r for r in summary["rows"]}


def test_compare_runs_both_models_and_reports(compared, models):
    assert [(x["role"], x["tasks"]) for x in launches(compared)] == [("base", TASKS), ("tuned", TASKS)]
    pair = json.loads((compared / "pair.json").read_text())
    assert pair["base"]["model"] == str(models["base"]) and pair["tuned"]["model"] == str(models["tuned"])
    assert pair["tasks"] == TASKS and pair["limit"] == 4 and pair["backend"] == "hf"
    assert pair["base"]["chat_template"] is False and pair["tuned"]["chat_template"] is False
    # one model load per model, serving all its tasks
    loads = [json.loads(x) for x in (compared / "loads.jsonl").read_text().splitlines()]
    assert [x["roles"] for x in loads] == [["base"], ["tuned"]]
    # per model and task: lm-eval's files, committed with done.json last; a request cache per model and task
    for role in ("base", "tuned"):
        for task in TASKS:
            unit = compared / role / task
            assert {"results.json", "samples.jsonl", "done.json"} <= {p.name for p in unit.iterdir()}
            assert list(json.loads((unit / "results.json").read_text())["results"]) == [task]
            assert len((unit / "samples.jsonl").read_text().splitlines()) == 4
        assert sorted(p.parent.name for p in (compared / "cache" / role).glob("*/lm_cache*.db")) == sorted(TASKS)
    assert not (compared / ".tmp").exists()

    # the numbers follow from the logged samples: the base says "True", the tuned model never does
    samples = [json.loads(x) for x in (compared / "base" / "conj_xnli_en" / "samples.jsonl").read_text().splitlines()]
    assert all(s["filtered_resps"][0].startswith(" True") for s in samples)
    n_true = sum(s["doc"]["label_word"] == "True" for s in samples)
    assert n_true >= 1
    summary = json.loads((compared / "summary.json").read_text())
    rows = _rows(summary)
    en, leet = rows["conj_xnli_en"], rows["conj_xnli_leet"]
    assert (en["family"], en["conjugate"], en["metric"], en["n"]) == ("xnli", "en", "acc", 4)
    assert en["base"] == n_true / 4 and en["tuned"] == 0.0 and en["drop"] == n_true / 4
    assert (en["lost"], en["gained"]) == (n_true, 0)
    assert en["p_value"] == pytest.approx(min(1.0, 2 * 0.5 ** n_true)) and en["test"] == "mcnemar"
    assert en["drop_ci_low"] <= en["drop"] <= en["drop_ci_high"]
    assert leet["base"] == 0.0 and leet["drop"] == 0.0
    assert leet["recovery"] == en["drop"] and leet["recovery_frac"] == 1.0
    assert en["recovery"] is None  # English is the baseline
    assert rows["conj_icl_en"]["metric"] == "icl_acc"
    assert summary["metrics"] == {"icl": "icl_acc", "xnli": "acc"}
    assert summary["identical_outputs"] is False
    assert not any("identical outputs" in w for w in summary["warnings"])
    assert summary["tokenizers"]["same"] is True
    assert summary["failures"] == [] and summary["pending"] == []

    import pandas as pd

    table = pd.read_csv(compared / "table.csv")
    assert list(table.columns) == analysis.COLUMNS
    assert len(table) == 3 and set(table["task"]) == set(TASKS)
    report = (compared / "report.md").read_text()
    assert "## xnli (metric `acc`)" in report and "![drop_xnli.png](drop_xnli.png)" in report
    assert "recovery" in report and "McNemar" in report


def test_pngs_are_valid_images(compared):
    import matplotlib.image

    names = sorted(p.name for p in compared.glob("*.png"))
    assert names == ["base_vs_tuned_icl.png", "base_vs_tuned_xnli.png", "drop_icl.png", "drop_xnli.png"]
    for name in names:
        data = (compared / name).read_bytes()
        assert data[:8] == PNG_SIGNATURE
        image = matplotlib.image.imread(compared / name)
        assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100


def test_report_rerenders_from_samples_without_inference(compared, monkeypatch):
    before = {n: (compared / n).read_bytes() for n in ("table.csv", "summary.json", "report.md")}
    for name in [*before, "drop_xnli.png", "base_vs_tuned_icl.png"]:
        (compared / name).unlink()

    def no_inference(*a, **k):
        raise AssertionError("report must not run a model")

    monkeypatch.setattr(workers, "_Child", no_inference)
    n_launches = len(launches(compared))
    conj("report", compared)
    assert len(launches(compared)) == n_launches
    for name, data in before.items():
        assert (compared / name).read_bytes() == data, name  # deterministic: fixed bootstrap seed
    assert (compared / "drop_xnli.png").read_bytes()[:8] == PNG_SIGNATURE
    # another primary metric, chosen at report time
    conj("report", compared, "--metric", "icl=if_rate")
    assert _rows(json.loads((compared / "summary.json").read_text()))["conj_icl_en"]["metric"] == "if_rate"
    with pytest.raises(ConjError, match="not in the samples"):
        conj("report", compared, "--metric", "icl=nope")
    conj("report", compared)


def test_interrupted_run_resumes_only_the_missing_unit(compared, models, tmp_path):
    out = tmp_path / "pair"
    shutil.copytree(compared, out)
    # a crash between lm-eval's end and the commit: no done.json, a half-written temp folder
    (out / "tuned" / "conj_xnli_leet" / "done.json").unlink()
    (out / ".tmp" / "tuned__conj_xnli_leet").mkdir(parents=True)
    (out / "summary.json").unlink()
    before = len(launches(out))
    conj(*compare_argv(models, out))
    new = launches(out)[before:]
    assert [(x["role"], x["tasks"]) for x in new] == [("tuned", ["conj_xnli_leet"])]
    assert (out / "tuned" / "conj_xnli_leet" / "done.json").is_file()
    assert (out / "table.csv").read_text() == (compared / "table.csv").read_text()
    # the same command once more: everything is complete, nothing runs
    conj(*compare_argv(models, out))
    assert len(launches(out)) == before + 1


def test_another_pair_is_refused_unless_forced(compared, models, tmp_path):
    out = tmp_path / "pair"
    shutil.copytree(compared, out)
    n = len(launches(out))
    other = ["compare", "--base", models["base"], "--tuned", models["base"], "--tasks", "conj_icl_en", "--limit", "4",
             "--output", out]
    with pytest.raises(ConjError, match=r"holds another pair's results.*--force"):
        conj(*other)
    with pytest.raises(ConjError, match="limit"):
        conj(*compare_argv(models, out), "--limit", "3")  # the last --limit wins
    assert len(launches(out)) == n and (out / "tuned" / "conj_icl_en" / "done.json").is_file()

    # --force replaces only the role that changed (its results and its request cache); the base is kept
    spec = PairSpec(base=str(models["base"]), tuned=str(models["base"]), tasks=["conj_icl_en"], limit=4)
    PairStore(out).prepare(spec, ["conj_icl_en"], force=True)
    assert not (out / "tuned").exists() and not (out / "cache" / "tuned").exists()
    assert (out / "base" / "conj_xnli_en" / "done.json").is_file() and (out / "cache" / "base").is_dir()
    assert json.loads((out / "pair.json").read_text())["tuned"]["model"] == str(models["base"])

    # a model given as a path that does not exist stops before any model is loaded
    with pytest.raises(ConjError, match=r"--tuned-adapter .*no such folder"):
        conj("compare", "--base", models["base"], "--tuned-adapter", tmp_path / "nope", "--tasks", "conj_icl_en",
             "--output", tmp_path / "new")
    assert not (tmp_path / "new").exists()

    # two compares writing into one folder at once: the second stops
    with PairStore(out).lock(), pytest.raises(ConjError, match=r"another `conj-harness compare` .* is writing"):
        conj(*compare_argv(models, out))

    # a folder with someone else's files
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(ConjError, match="not empty"):
        conj(*compare_argv(models, foreign))
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]


@pytest.fixture(scope="module")
def adapter_run(models, tmp_path_factory) -> tuple[Path, Path, dict]:
    """A tuned model (base + LoRA adapter, one model load for both) whose adapter will not attach at first (its
    config names modules its weights do not have), then is fixed and resumed."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    root = tmp_path_factory.mktemp("adapter")
    adapter, out = root / "lora", root / "pair"
    lora = get_peft_model(AutoModelForCausalLM.from_pretrained(models["base"]),
                          LoraConfig(r=2, target_modules=["q_proj", "v_proj"]))  # B = 0: the adapter changes nothing
    lora.save_pretrained(adapter)
    config = json.loads((adapter / "adapter_config.json").read_text())
    (adapter / "adapter_config.json").write_text(json.dumps({**config, "target_modules": ["no_such_proj"]}))
    argv = ["compare", "--base", models["base"], "--tuned-adapter", adapter, "--tasks", "conj_icl_en", "--limit", "2",
            "--output", out, "--no-progress"]
    with pytest.raises(ConjError, match=r"1 run\(s\) failed: tuned conj_icl_en: .*no_such_proj"):
        conj(*argv)
    first = {"launches": launches(out), "summary": json.loads((out / "summary.json").read_text()),
             "report": (out / "report.md").read_text(), "loads": PairStore(out).loads(),
             "failed": json.loads((out / "tuned" / "conj_icl_en" / "failed.json").read_text())}
    (adapter / "adapter_config.json").write_text(json.dumps(config))
    conj(*argv)
    return out, adapter, first


def test_a_model_failing_is_recorded_and_the_other_kept(adapter_run):
    out, _adapter, first = adapter_run
    launched = [(x["role"], x["tasks"], x["process"]) for x in first["launches"]]
    assert [x[:2] for x in launched] == [("base", ["conj_icl_en"]), ("tuned", ["conj_icl_en"])]
    assert launched[0][2] == launched[1][2]  # one process: the base, then the adapter attached to it
    assert [x["roles"] for x in first["loads"]] == [["base", "tuned"]]
    assert "no_such_proj" in first["failed"]["error"] and "no_such_proj" in first["failed"]["tail"]
    assert (out / first["failed"]["log"]).is_file()
    row = _rows(first["summary"])["conj_icl_en"]
    assert row["status"] == "tuned failed" and row["base"] == 0.0 and row["tuned"] is None and row["drop"] is None
    assert first["summary"]["failures"][0]["task"] == "conj_icl_en"
    assert any(w.startswith("tuned failed on conj_icl_en") and "result is kept" in w
               for w in first["summary"]["warnings"])
    assert "## Failures" in first["report"] and "tuned / conj_icl_en" in first["report"]


def test_rerun_after_a_failure_runs_only_that_unit_and_flags_a_no_op_adapter(adapter_run):
    out, adapter, first = adapter_run
    new = launches(out)[len(first["launches"]):]
    assert [(x["role"], x["tasks"]) for x in new] == [("tuned", ["conj_icl_en"])]
    assert not (out / "tuned" / "conj_icl_en" / "failed.json").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["failures"] == [] and _rows(summary)["conj_icl_en"]["status"] == "ok"
    # a zero-initialised LoRA adapter changes nothing: the report says so loudly
    assert summary["identical_outputs"] is True
    assert summary["warnings"][0] == analysis.IDENTICAL_WARNING
    assert f"**{analysis.IDENTICAL_WARNING}**" in (out / "report.md").read_text()
    assert summary["tuned"]["adapter"] == str(adapter)


@pytest.fixture(scope="module")
def plain_runs(models, tmp_path_factory) -> tuple[Path, Path]:
    """Two ordinary `conj-eval --output_path ... --log_samples` folders, as if run elsewhere."""
    root = tmp_path_factory.mktemp("plain")
    for role in ("base", "tuned"):
        run(["conj-eval", "--model", "hf", "--model_args", f"pretrained={models[role]}", "--tasks",
             "conj_xnli_en,conj_xnli_leet", "--limit", "4", "--batch_size", "8", "--output_path", str(root / role),
             "--log_samples"])
    return root / "base", root / "tuned"


def test_report_compares_two_lm_eval_output_folders(plain_runs, compared, tmp_path):
    base, tuned = plain_runs
    out = tmp_path / "imported"
    conj("report", "--base-run", base, "--tuned-run", tuned, "--output", out)
    summary = json.loads((out / "summary.json").read_text())
    rows = _rows(summary)
    assert set(rows) == {"conj_xnli_en", "conj_xnli_leet"}
    ours = _rows(json.loads((compared / "summary.json").read_text()))
    for task in rows:  # the same numbers as the compare run on the same models and docs
        for key in ("n", "base", "tuned", "drop", "p_value", "lost", "gained", "recovery", "recovery_frac"):
            assert rows[task][key] == ours[task][key], (task, key)
    assert summary["base"]["model"].endswith("base") and summary["tokenizers"]["same"] is True
    for name in ("table.csv", "report.md", "drop_xnli.png", "base_vs_tuned_xnli.png"):
        assert (out / name).is_file()
    assert (out / "drop_xnli.png").read_bytes()[:8] == PNG_SIGNATURE
    # the output folder remembers its sources: `report DIR` re-renders it
    (out / "table.csv").unlink()
    conj("report", out)
    assert (out / "table.csv").is_file()
    with pytest.raises(ConjError, match="another pair"):
        conj("report", "--base-run", tuned, "--tuned-run", base, "--output", out)
    with pytest.raises(ConjError, match="go together"):
        conj("report", "--base-run", base)
    both = tmp_path / "both"
    shutil.copytree(base, both)
    shutil.copytree(next(tuned.iterdir()), both / "other_model")
    with pytest.raises(ConjError, match="several models"):
        conj("report", "--base-run", both, "--tuned-run", tuned, "--output", tmp_path / "x")
    with pytest.raises(ConjError, match=r"no pair\.json"):
        conj("report", base)


def test_pairs_file_runs_several_pairs_with_a_cross_pair_summary(compared, adapter_run, models, tmp_path):
    import pandas as pd

    out = tmp_path / "sweep"
    shutil.copytree(compared, out / "code")          # both pairs are already complete: nothing re-runs
    shutil.copytree(adapter_run[0], out / "lora")
    counts = {n: len(launches(out / n)) for n in ("code", "lora")}
    pairs = tmp_path / "pairs.yaml"
    pairs.write_text(
        "defaults:\n  limit: 4\n"
        "pairs:\n"
        f"  - name: code\n    base: {models['base']}\n    tuned: {models['tuned']}\n"
        "    tasks: [conj_xnli_en, conj_xnli_leet, conj_icl_en]\n"
        f"  - name: lora\n    base: {models['base']}\n    tuned_adapter: {adapter_run[1]}\n    tasks: conj_icl_en\n"
        "    limit: 2\n"
    )
    with pytest.raises(ConjError, match="not empty"):
        conj("compare", "--pairs", pairs, "--output", out, "--no-progress")
    conj("compare", "--pairs", pairs, "--output", out, "--no-progress", "--force")
    assert {n: len(launches(out / n)) for n in ("code", "lora")} == counts
    cross = pd.read_csv(out / "cross_pair.csv")
    assert sorted(set(cross["pair"])) == ["code", "lora"] and len(cross) == 4
    md = (out / "cross_pair.md").read_text()
    assert "## xnli" in md and "| code |" in md and "[lora/report.md](lora/report.md)" in md
    assert json.loads((out / "pairs.json").read_text())["pairs"] == ["code", "lora"]
    (out / "cross_pair.csv").unlink()
    conj("report", out)
    assert (out / "cross_pair.csv").is_file()

    bad = tmp_path / "bad.yaml"
    bad.write_text("- {name: x, base: a, tuned: b, tasks: conj_icl_en, colour: red}\n")
    with pytest.raises(ConjError, match="unknown keys \\['colour'\\]"):
        conj("compare", "--pairs", bad, "--output", tmp_path / "bad")
    bad.write_text("- {base: a, tuned: b}\n")
    with pytest.raises(ConjError, match="needs a 'name'"):
        conj("compare", "--pairs", bad, "--output", tmp_path / "bad")


# --- no inference ---------------------------------------------------------------------------------------------


def _fake_run(folder: Path, task_values: dict, model: str = "m", chat_template=None, extra_metric=None) -> Path:
    """An lm-eval --output_path folder written by hand: {task: [(doc id, value, response)]}."""
    sub = folder / "m__model"
    sub.mkdir(parents=True)
    stamp = "2025-01-02T03-04-05.000001"
    metric_of = {"xnli": "acc", "foo": "score"}
    for task, rows in task_values.items():
        metric = metric_of[task.split("_")[1]]
        lines = [json.dumps({"doc_id": i, "doc": {"id": doc_id}, "filtered_resps": [resp], "metrics": [metric],
                             metric: value}) for i, (doc_id, value, resp) in enumerate(rows)]
        (sub / f"samples_{task}_{stamp}.jsonl").write_text("\n".join(lines) + "\n")
    (sub / f"results_{stamp}.json").write_text(json.dumps({
        "results": {t: {} for t in task_values}, "config": {"model_args": f"pretrained={model}", "limit": None},
        "chat_template": chat_template}))
    return folder


def test_analysis_against_hand_computed_numbers(tmp_path):
    b_en, t_en = [1, 1, 1, 1, 0, 1, 0, 0], [0, 0, 1, 0, 0, 1, 0, 0]   # 5/8 vs 2/8: 3 lost, 0 gained
    b_fr, t_fr = [1, 1, 0, 1, 0, 1, 0, 0], [1, 0, 0, 1, 0, 1, 0, 1]   # 4/8 vs 4/8: 1 lost, 1 gained
    ids = [f"d{i}" for i in range(8)]
    base = _fake_run(tmp_path / "a", {
        "conj_xnli_en": [(i, v, "x") for i, v in zip(ids, b_en)],
        "conj_xnli_fr": [(i, v, "x") for i, v in zip(ids, b_fr)],
        "conj_foo_en": [("q1", 0.5, "x"), ("q2", 1.0, "x")],
        "conj_foo_leet": [("q1", 0.25, "x")],
    }, model="base-model")
    tuned = _fake_run(tmp_path / "b", {
        "conj_xnli_en": [(i, v, "y") for i, v in zip(reversed(ids), reversed(t_en))],  # order does not matter
        "conj_xnli_fr": [(i, v, "y") for i, v in zip(ids[:7], t_fr[:7])],              # one doc missing
        "conj_foo_en": [("q1", 0.25, "y"), ("q2", 0.75, "y")],
    }, model="tuned-model", chat_template="{{ messages }}")
    out = tmp_path / "out"
    summary = render.render_runs(base, tuned, out, n_boot=2000)
    rows = _rows(summary)
    en, fr = rows["conj_xnli_en"], rows["conj_xnli_fr"]
    assert (en["n"], en["base"], en["tuned"], en["drop"]) == (8, 5 / 8, 2 / 8, 3 / 8)
    assert (en["lost"], en["gained"], en["p_value"]) == (3, 0, 0.25)      # 2 * 0.5**3
    # fr on the 7 docs both have: base 4/7, tuned 3/7; lost d1, gained none (d7 is unmatched)
    assert (fr["n"], fr["base"], fr["tuned"], fr["unmatched_base"], fr["unmatched_tuned"]) == (7, 4 / 7, 3 / 7, 1, 0)
    assert (fr["lost"], fr["gained"], fr["p_value"]) == (1, 0, 1.0)
    assert fr["drop"] == pytest.approx(1 / 7)
    assert fr["recovery"] == pytest.approx(3 / 8 - 1 / 7)
    assert fr["recovery_frac"] == pytest.approx((3 / 8 - 1 / 7) / (3 / 8))
    assert fr["recovery_ci_low"] <= fr["recovery"] <= fr["recovery_ci_high"]
    foo = rows["conj_foo_en"]  # a non-binary metric: permutation test, not McNemar
    assert foo["metric"] == "score" and foo["test"] == "permutation" and foo["drop"] == pytest.approx(0.25)
    assert foo["lost"] is None and 0 < foo["p_value"] <= 1
    assert rows["conj_foo_leet"]["status"] == "tuned failed" and rows["conj_foo_leet"]["base"] == 0.25
    warnings = "\n".join(summary["warnings"])
    assert "conj_xnli_fr: 1 documents only in base" in warnings
    assert "chat-template settings differ: base off, tuned on" in warnings
    assert "tuned failed on conj_foo_leet: not in this run's folder" in warnings
    assert not summary["identical_outputs"]
    assert summary["families"]["xnli"]["best_conjugate"] == "fr"
    assert {p.name for p in out.glob("*.png")} == {"drop_xnli.png", "base_vs_tuned_xnli.png", "drop_foo.png",
                                                   "base_vs_tuned_foo.png"}


def test_task_names_and_primary_metrics():
    assert analysis.parse_task("conj_icl_piglatin") == ("icl", "piglatin")
    assert analysis.parse_task("conj_multijail_sw") == ("multijail", "sw")
    assert analysis.parse_task("my_icl_en") == ("my_icl", "en")
    assert analysis.parse_task("arc_easy") == ("arc_easy", None)
    assert analysis.PRIMARY_METRIC["advbench"] == "refusal_rate"
    s = [{"doc_id": 0, "metrics": ["b", "a"], "a": 1.0, "b": 0.0}]
    assert analysis.primary_metric("new", s) == "b"
    assert analysis.primary_metric("new", s, {"new": "a"}) == "a"


def test_tokenizer_differences_are_reported(tmp_path):
    from tests.support.tiny_models import build_tokenizer

    build_tokenizer(512).save_pretrained(tmp_path / "a")
    build_tokenizer(600).save_pretrained(tmp_path / "b")
    a, b = tokenizers.tokenizer_info(str(tmp_path / "a")), tokenizers.tokenizer_info(str(tmp_path / "b"))
    assert a["checked"] and a["vocab_size"] == 512 and b["vocab_size"] == 600
    diff = tokenizers.compare_tokenizers(a, b)
    assert diff["same"] is False and "512" in diff["note"] and "600" in diff["note"]
    assert tokenizers.compare_tokenizers(a, tokenizers.tokenizer_info(str(tmp_path / "a")))["same"] is True
    missing = tokenizers.tokenizer_info("no-such-org/no-such-model")
    assert missing["checked"] is False
    assert tokenizers.compare_tokenizers(a, missing)["same"] is None


def test_task_resolution_and_argument_checks():
    assert resolve_tasks(["conj_icl"]) == [f"conj_icl_{c}" for c in
                                                   ["en", "es", "fr", "hu", "leet", "nl", "piglatin"]]
    assert resolve_tasks(["conj_xnli_e*,conj_icl_fr", "conj_icl_fr"]) == ["conj_xnli_el", "conj_xnli_en",
                                                                                   "conj_xnli_es", "conj_icl_fr"]
    everything = resolve_tasks(["conj_*"])
    assert {"conj_icl_en", "conj_xnli_zh"} <= set(everything) and not {"conj_icl", "conj_xnli"} & set(everything)
    with pytest.raises(ConjError, match="unknown task 'conj_icl_xx'"):
        resolve_tasks(["conj_icl_xx"])
    spec = PairSpec(base="b", tuned_adapter="/ad", tasks=["conj_icl_en"], model_args="dtype=float32")
    assert spec.tuned == "b"
    assert spec.lm_eval_model_args("tuned") == "pretrained=b,peft=/ad,dtype=float32"
    assert spec.lm_eval_model_args("base") == "pretrained=b,dtype=float32"
    vllm = PairSpec(base="b", tuned="t", tuned_adapter="/ad", tasks=["x"], backend="vllm")
    assert vllm.lm_eval_model_args("tuned") == "pretrained=t,lora_local_path=/ad,enable_lora=True"
    with pytest.raises(ConjError, match="must not set pretrained"):
        PairSpec(base="b", tuned="t", model_args="pretrained=x")
    with pytest.raises(ConjError, match="--tuned"):
        PairSpec(base="b")
    cmd = workers.eval_command(PairSpec(base="b", tuned="t", tuned_chat_template=True, limit=4), "tuned",
                               "conj_icl_en", Path("/tmp/x"), Path("/tmp/c"))
    assert cmd[1:3] == ["-m", "conj_harness.cli.conj_eval"] and "--apply_chat_template" in cmd
    assert cmd[cmd.index("--limit") + 1] == "4" and cmd[cmd.index("--use_cache") + 1] == "/tmp/c"
    assert "--apply_chat_template" not in workers.eval_command(
        PairSpec(base="b", tuned="t", tuned_chat_template=True), "base", "x", Path("/x"), Path("/c"))


def test_conj_harness_cli_has_the_subcommands():
    """The installed `conj-harness` has compare and report, with their flags."""
    assert "--tuned-adapter" in run(["conj-harness", "compare", "--help"]).stdout
    assert "--base-run" in run(["conj-harness", "report", "--help"]).stdout
