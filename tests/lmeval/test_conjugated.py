"""`conj-harness conjugate`: lm-eval's own gsm8k (generate_until) and xnli_en (multiple_choice, as a copy named
xnli_en_local: `conjugate xnli_en` itself would write the shipped paper task's name conj_xnli_en) tasks, read from the
local data mirror, put through leet, piglatin and a language (fr, through the real googletrans client against the
fake endpoint), then checked against the *original* tasks: the prompts the model receives, an oracle's scores,
lm-eval's task contract, real conj-eval / compare runs, and the bad-input paths.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from conj_harness.lmeval import compat
from conj_harness.lmeval.conjugated import data_files_overrides
from conj_harness.lmeval.registration import ConjTaskManager
from conj_harness.translation.cache import TranslationCache
from conj_harness.translation.layer import TranslationLayer
from conj_harness.translation.transform import ConjugateTransform
from tests.support.cli import read_results, read_samples, run
from tests.support.fake_google import FakeGoogle
from tests.support.oracle_lm import OracleLM

pytestmark = pytest.mark.slow  # model runs / CLI processes: not in the fast tier (README)

CONJUGATES = ["en", "leet", "piglatin", "fr"]
N_GSM, N_XNLI = 8, 12
#: lm-eval's xnli_en under another name (its conjugates' tag would otherwise be the shipped paper task conj_xnli_en)
XNLI = "xnli_en_local"


def _xnli_copy(folder: Path) -> Path:
    """lm-eval's own xnli_en.yaml, renamed, in an --include-path folder (its include made absolute)."""
    source = compat.builtin_tasks_dir() / "xnli" / "xnli_en.yaml"
    text = source.read_text().replace("include: xnli_common_yaml", f"include: {source.parent / 'xnli_common_yaml'}")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{XNLI}.yaml").write_text(text.replace("task: xnli_en", f"task: {XNLI}"))
    return folder


@pytest.fixture(scope="module")
def setup(tmp_path_factory, data_dir):
    """Both tasks conjugated once (the fake endpoint stays up: fr answers are back-translated when they run)."""
    root = tmp_path_factory.mktemp("conjugated")
    gsm_test = data_dir / "gsm8k" / "test.jsonl"
    train = root / "gsm8k_train.jsonl"  # the mirror has the test split only: its last rows stand in for train
    train.write_text("".join(gsm_test.read_text().splitlines(keepends=True)[-40:]))
    xnli = data_dir / "xnli" / "validation" / "en.jsonl"
    cache = root / "cache.sqlite"
    saved = dict(os.environ)
    with FakeGoogle() as google:
        env = {"CONJ_TRANSLATION_CACHE": str(cache), "SSL_CERT_FILE": google.cert_file,
               "CONJ_GOOGLE_SERVICE_URL": google.host, "CONJ_USER_TASKS": str(root / "user_tasks")}
        os.environ.update(env)  # for the in-process runs below (the back-translating filter reads them)
        out = root / "tasks"
        common = ["--to", "leet,piglatin,fr", "--out", str(out), "--backend", "google"]
        proc_gsm = run(["conj-harness", "conjugate", "gsm8k", *common, "--limit", str(N_GSM),
                        "--data-files", f"test={gsm_test},train={train}"], env=env)
        xnli_inc = _xnli_copy(root / "xnli_inc")
        proc_xnli = run(["conj-harness", "conjugate", XNLI, "--include-path", str(xnli_inc), *common, "--limit",
                         str(N_XNLI),
                         "--data-files", f"validation={xnli}"], env=env)
        numbers = root / "numbers"  # leet with the answers scored as generated (digits are left alone)
        run(["conj-harness", "conjugate", "gsm8k", "--to", "leet", "--out", str(numbers), "--answer-space",
             "conjugate", "--limit", str(N_GSM), "--data-files", f"test={gsm_test},train={train}"], env=env)
        yield {"out": out, "numbers": numbers, "env": env, "google": google, "cache": cache, "root": root,
               "xnli_inc": xnli_inc,
               "files": {"gsm8k": {"test": str(gsm_test), "train": str(train)}, "xnli_en": {"validation": str(xnli)}},
               "stdout": proc_gsm.stdout + proc_xnli.stdout}
    os.environ.clear()
    os.environ.update(saved)


@functools.cache
def _builtin_index() -> dict[str, compat.IndexEntry]:
    return compat.task_index([compat.builtin_tasks_dir()])


def _original(name: str, files: dict[str, str]):
    """lm-eval's own task, built from its own YAML with the local files."""
    entry = _builtin_index()[name]
    return compat.build_task_from_yaml(entry.yaml_path, data_files_overrides(entry.config, files))


@functools.cache
def _manager(include: Path) -> ConjTaskManager:
    return ConjTaskManager(include_path=str(include))  # indexing lm-eval's tasks takes seconds: once per folder


def _conjugated(include: Path, name: str):
    return _manager(include).load([name])["tasks"][name]


def _transform(setup, conjugate: str) -> ConjugateTransform:
    from conj_harness.translators import get_backend

    def layer():
        backend = get_backend("google", service_url=setup["google"].host)
        return TranslationLayer(backend, TranslationCache(setup["cache"]))

    return ConjugateTransform(conjugate, layer)


def _eval_docs(task, n: int) -> list[dict]:
    docs = task.test_docs() if task.has_test_docs() else task.validation_docs()
    return [dict(d) for d in list(docs)[:n]]


# --- what is written ----------------------------------------------------------------------------------------------


def test_each_task_gets_a_baseline_every_conjugate_and_a_tag(setup):
    out = setup["out"]
    for task in ("gsm8k", XNLI):
        folder = out / "conjugated" / task
        assert sorted(p.stem for p in folder.glob("*.yaml")) == sorted(f"conj_{task}_{c}" for c in CONJUGATES)
        for c in CONJUGATES:
            config = yaml.safe_load((folder / f"conj_{task}_{c}.yaml").read_text().replace("!function", ""))
            assert config["tag"] == [f"conj_{task}"] and config["include"].endswith(".yaml")
            meta = config["metadata"]["conjugation"]
            assert (meta["source_task"], meta["conjugate"]) == (task, c)
            if c == "en":
                assert "roundtrip_chrf" not in meta
            else:
                assert 0 < meta["roundtrip_chrf"] <= 100, (task, c, meta)
        fr = yaml.safe_load((folder / f"conj_{task}_fr.yaml").read_text().replace("!function", ""))["metadata"]
        assert fr["conjugation"]["backend"] == "google" and fr["conjugation"]["pass_rate"] is not None
    assert "round-trip chrF" in setup["stdout"]
    listing = run(["conj-harness", "tasks", "--include-path", str(out)]).stdout
    line = next(x for x in listing.splitlines() if x.startswith("conj_gsm8k_fr "))
    assert "chrF" in line and "language check" in line
    assert any(x.strip() == "conj_gsm8k" for x in listing.splitlines())


def test_conjugating_again_is_a_no_op_and_other_content_needs_force(setup, tmp_path):
    out, files = setup["out"], setup["files"]["xnli_en"]
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    cmd = ["conj-harness", "conjugate", XNLI, "--to", "leet", "--out", str(out), "--limit", str(N_XNLI),
           "--data-files", f"validation={files['validation']}"]
    inc = ["--include-path", str(setup["xnli_inc"])]
    assert "(unchanged)" in run([*cmd, *inc], env=setup["env"]).stdout
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    proc = run([*cmd[:-4], "--limit", "5", *cmd[-2:], *inc], env=setup["env"], check=False)
    assert proc.returncode == 2 and "exists with other content" in proc.stderr and "--force" in proc.stderr
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    run([*cmd[:6], str(copy), "--limit", "5", *cmd[-2:], "--force", *inc], env=setup["env"])
    rows = (copy / "conjugated" / XNLI / "data" / "leet" / "validation.jsonl").read_text().splitlines()
    assert len(rows) == 5


# --- the prompts the model receives -------------------------------------------------------------------------------


def _chat(messages: list[dict], add_generation_prompt: bool = True) -> str:
    """A chat template that shows every turn's role and content."""
    return "".join(f"<{m['role']}>{m['content']}</{m['role']}>" for m in messages) + (
        "<assistant>" if add_generation_prompt else "")


@pytest.mark.parametrize("conjugate", CONJUGATES)
def test_gsm8k_prompts_are_the_conjugated_originals(setup, conjugate):
    """With 5 few-shot examples drawn by the same seed: the original prompt with each of its parts (the question,
    each example's question and answer) replaced by its conjugate - nothing else changed, nothing left over."""
    original = _original("gsm8k", setup["files"]["gsm8k"])
    conj = _conjugated(setup["out"], f"conj_gsm8k_{conjugate}")
    s = _transform(setup, conjugate)
    original.set_fewshot_seed(1234)
    conj.set_fewshot_seed(1234)
    pool = [dict(d) for d in original.fewshot_docs()]
    for doc, cdoc in zip(_eval_docs(original, N_GSM), _eval_docs(conj, N_GSM)):
        prompt = original.fewshot_context(doc, num_fewshot=5)
        parts = [original.doc_to_text(doc)] + [p for d in pool for p in (original.doc_to_text(d),
                                                                          original.doc_to_target(d)) if p in prompt]
        expected = prompt
        for part, conjugated in sorted(zip(parts, s.forward(parts)), key=lambda x: -len(x[0])):
            expected = expected.replace(part, conjugated)
        assert conj.fewshot_context(cdoc, num_fewshot=5) == expected
        if conjugate == "en":
            assert expected == prompt
        # with a chat template and the examples as turns (--apply_chat_template --fewshot_as_multiturn): the same
        chat = {"num_fewshot": 3, "apply_chat_template": True, "fewshot_as_multiturn": True, "chat_template": _chat}
        prompt = original.fewshot_context(doc, **chat)
        expected = prompt
        parts = [original.doc_to_text(doc)] + [p for d in pool for p in (original.doc_to_text(d),
                                                                          original.doc_to_target(d)) if p in prompt]
        for part, conjugated in sorted(zip(parts, s.forward(parts)), key=lambda x: -len(x[0])):
            expected = expected.replace(part, conjugated)
        assert prompt.count("<user>") == 4 and conj.fewshot_context(cdoc, **chat) == expected
    assert conj.config.generation_kwargs["until"][:3] == ["Question:", "</s>", "<|im_end|>"]
    if conjugate == "leet":
        assert "Qu35710n:" in conj.config.generation_kwargs["until"]


@pytest.mark.parametrize("conjugate", CONJUGATES)
def test_xnli_choices_are_conjugated_and_the_gold_index_kept(setup, conjugate):
    original = _original("xnli_en", setup["files"]["xnli_en"])
    conj = _conjugated(setup["out"], f"conj_{XNLI}_{conjugate}")
    s = _transform(setup, conjugate)
    for doc, cdoc in zip(_eval_docs(original, N_XNLI), _eval_docs(conj, N_XNLI)):
        assert conj.doc_to_choice(cdoc) == s.forward(original.doc_to_choice(doc))
        assert conj.doc_to_target(cdoc) == original.doc_to_target(doc)
        assert conj.doc_to_text(cdoc) == original.doc_to_text(doc) == ""  # xnli_en puts everything in the choices


# --- scores -------------------------------------------------------------------------------------------------------


def _right(i: int) -> bool:
    return i % 3 != 1  # wrong on a third of the documents: "unchanged" is not only "all correct"


def _oracle_gsm8k(setup, conjugate: str) -> OracleLM:
    original = _original("gsm8k", setup["files"]["gsm8k"])
    s = _transform(setup, conjugate)
    docs = _eval_docs(original, N_GSM)
    texts = s.forward([original.doc_to_text(d) for d in docs])
    numbers = [d["answer"].split("#### ")[-1].strip() if _right(i) else "-1" for i, d in enumerate(docs)]
    return OracleLM(dict(zip(texts, s.forward([f"#### {n}" for n in numbers]))), set())


def _oracle_xnli(setup, conjugate: str) -> OracleLM:
    original = _original("xnli_en", setup["files"]["xnli_en"])
    s = _transform(setup, conjugate)
    gold = []
    for i, doc in enumerate(_eval_docs(original, N_XNLI)):
        choices, label = original.doc_to_choice(doc), original.doc_to_target(doc)
        gold.append(choices[label if _right(i) else (label + 1) % 3])
    return OracleLM({}, {g.strip() for g in s.forward(gold)})


def _scores(model, include: Path, task: str, fewshot: int | None = None) -> dict:
    import lm_eval

    results = lm_eval.simple_evaluate(model=model, tasks=[task], task_manager=_manager(include), num_fewshot=fewshot,
                                      random_seed=0, numpy_random_seed=0, torch_random_seed=0, fewshot_random_seed=1234)
    return results["results"][task]


def test_an_oracles_scores_are_unchanged_by_every_conjugate(setup):
    expected = sum(_right(i) for i in range(N_GSM)) / N_GSM
    for c in CONJUGATES:
        oracle = _oracle_gsm8k(setup, c)
        got = _scores(oracle, setup["out"], f"conj_gsm8k_{c}", fewshot=2)
        assert got["exact_match,strict-match"] == pytest.approx(expected), c
        assert got["exact_match,flexible-extract"] == pytest.approx(expected), c
        # --num_fewshot 2 as for the original: two worked answers, each with its "#### N" (kept by every conjugate)
        assert len(oracle.prompts) == N_GSM and all(p.count("####") == 2 for p in oracle.prompts), c
    expected = sum(_right(i) for i in range(N_XNLI)) / N_XNLI
    for c in CONJUGATES:
        assert _scores(_oracle_xnli(setup, c), setup["out"], f"conj_{XNLI}_{c}")["acc,none"] == \
            pytest.approx(expected)


def test_answers_are_mapped_back_before_scoring_unless_told_not_to(setup):
    """An oracle answering in leet: scored as generated (--answer-space conjugate) its digits stand; mapped back,
    the task's own regex finds the same numbers; an oracle that answers in English under a leet prompt gets its
    answers garbled by the inverse where they contain letters the inverse reads as digits, not here."""
    oracle = _oracle_gsm8k(setup, "leet")
    expected = sum(_right(i) for i in range(N_GSM)) / N_GSM
    got = _scores(oracle, setup["numbers"], "conj_gsm8k_leet")
    assert got["exact_match,strict-match"] == pytest.approx(expected)
    config = yaml.safe_load((setup["numbers"] / "conjugated" / "gsm8k" / "conj_gsm8k_leet.yaml").read_text()
                            .replace("!function", ""))
    assert "filter_list" not in config and config["metadata"]["conjugation"]["answer_space"] == "conjugate"
    mapped = yaml.safe_load((setup["out"] / "conjugated" / "gsm8k" / "conj_gsm8k_fr.yaml").read_text()
                            .replace("!function", ""))
    first = [p["filter"][0] for p in mapped["filter_list"]]
    assert all(f["function"].endswith("InvertFilter") and f["conjugate"] == "fr" and f["backend"] == "google"
               for f in first)
    assert [p["name"] for p in mapped["filter_list"]] == ["strict-match", "flexible-extract"]


# --- lm-eval's contract, real runs --------------------------------------------------------------------------------


def test_every_generated_task_keeps_lm_evals_task_contract(setup):
    """lm-eval's BaseTasks checks (tests/test_tasks.py in its sdist), on every generated task."""
    from itertools import islice

    names = [p.stem for p in setup["out"].rglob("conj_*.yaml")] + ["conj_gsm8k_leet"]
    assert len(names) == 2 * len(CONJUGATES) + 1
    for name in names:
        task = _conjugated(setup["numbers"] if name == names[-1] else setup["out"], name)
        # gsm8k is evaluated on its test split, xnli on validation: the conjugated task keeps which
        assert task.dataset is not None and task.has_test_docs() is name.startswith("conj_gsm8k")
        if task.has_training_docs():
            assert task._config["training_split"] is not None
        docs = list(islice(task.test_docs() if task.has_test_docs() else task.validation_docs(), 5))
        assert docs
        for doc in docs:
            text = task.doc_to_text(doc)
            assert isinstance(text, str)
            if task.config.target_delimiter.isspace() and text:
                assert not text[-1].isspace(), name
            target = task.doc_to_target(doc)
            if task.config.output_type == "multiple_choice":
                choices = task.doc_to_choice(doc)
                assert all(isinstance(c, str) for c in choices) and isinstance(target, int)
                assert 0 <= target < len(choices)
        task.build_all_requests(rank=0, limit=3, world_size=1)
        assert task.instances


def test_conj_eval_and_compare_run_the_conjugated_tasks(setup, tiny_llama, tmp_path):
    """The real CLIs: conj-eval with a tiny model, then compare (the tag runs the baseline and every conjugate,
    the report uses gsm8k's own metric)."""
    out = tmp_path / "eval"
    env = setup["env"]
    run(["conj-eval", "--model", "hf", "--model_args", f"pretrained={tiny_llama}", "--tasks", "conj_gsm8k",
         "--include_path", str(setup["out"]), "--limit", "2", "--gen_kwargs", "max_gen_toks=8", "--output_path",
         str(out), "--log_samples"], env=env)
    assert sorted(read_results(out)["results"]) == sorted(f"conj_gsm8k_{c}" for c in CONJUGATES)
    sample = read_samples(out, "conj_gsm8k_piglatin")[0]
    assert sample["doc"]["_conj_text"] in sample["arguments"]["gen_args_0"]["arg_0"]
    pair = tmp_path / "pair"
    from tests.support.tiny_models import build_llama

    tuned = build_llama(tmp_path / "tuned", seed=1)
    run(["conj-harness", "compare", "--base", str(tiny_llama), "--tuned", str(tuned), "--tasks", f"conj_{XNLI}",
         "--include-path", str(setup["out"]), "--limit", "4", "--bootstrap", "100", "--no-progress", "--output",
         str(pair)], env=env)
    summary = json.loads((pair / "summary.json").read_text())
    rows = {r["task"]: r for r in summary["rows"]}
    assert set(rows) == {f"conj_{XNLI}_{c}" for c in CONJUGATES}
    assert {r["family"] for r in rows.values()} == {XNLI} and rows[f"conj_{XNLI}_fr"]["conjugate"] == "fr"
    assert rows[f"conj_{XNLI}_leet"]["metric"] == "acc" and rows[f"conj_{XNLI}_en"]["recovery"] is None
    assert rows[f"conj_{XNLI}_leet"]["n"] == 4 and rows[f"conj_{XNLI}_leet"]["status"] == "ok"


# --- bad input ----------------------------------------------------------------------------------------------------


def test_bad_input_is_one_line_before_anything_is_written(setup, tmp_path):
    env, out = setup["env"], tmp_path / "out"
    proc = run(["conj-harness", "conjugate", "gsm8kk", "--to", "leet", "--out", str(out)], env=env, check=False)
    assert proc.returncode == 2 and "unknown task 'gsm8kk'" in proc.stderr and "gsm8k" in proc.stderr
    offline = {**env, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    proc = run(["conj-harness", "conjugate", "gsm8k", "--to", "leet", "--out", str(out)], env=offline, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    line = proc.stderr.strip().splitlines()[-1]
    assert "`hf download --repo-type dataset openai/gsm8k`" in line and "--data-files" in line
    files = setup["files"]["gsm8k"]
    data = f"test={files['test']},train={files['train']}"
    proc = run(["conj-harness", "conjugate", "gsm8k", "--to", "fr", "--backend", "table", "--out", str(out),
                "--data-files", data, "--limit", "2"], env=env, check=False)
    assert proc.returncode == 2 and "translated back to English" in proc.stderr and "--answer-space" in proc.stderr
    proc = run(["conj-harness", "conjugate", "gsm8k", "--to", "klingon", "--out", str(out)], env=env, check=False)
    assert proc.returncode == 2 and "unknown conjugate 'klingon'" in proc.stderr and "leet" in proc.stderr
    proc = run(["conj-harness", "conjugate", "gsm8k", "--to", "leet", "--min-chrf", "99.5", "--out", str(out),
                "--data-files", data, "--limit", "2"], env=env, check=False)
    assert proc.returncode == 2 and "below --min-chrf 99.5" in proc.stderr
    proc = run(["conj-harness", "conjugate", "gsm8k", "--to", "leet", "--out", str(out), "--data-files",
                f"train={files['train']}"], env=env, check=False)
    assert proc.returncode == 2 and "no split gsm8k evaluates on: add test=PATH" in proc.stderr
    proc = run(["conj-harness", "conjugate", "conj_icl_en", "--to", "leet", "--out", str(out)], env=env, check=False)
    assert proc.returncode == 2 and "conj task already" in proc.stderr
    assert not out.exists()


def test_the_narrow_index_settles_what_the_full_index_would():
    """Names are looked up in the folders that mention them (seconds, not lm-eval's full 15 s index): the same
    entry and the same leaf tasks as the full index for tasks and groups; tags always take the full index."""
    from conj_harness.lmeval.conjugated import _narrow_index
    from conj_harness.lmeval.registration import resolve_tasks_in

    full = _builtin_index()
    for name in ("gsm8k", "xnli_en", "arc_easy", "mmlu", "xnli"):
        narrow = _narrow_index([name], None)
        if narrow is None:  # not settled there: the full index is used, nothing to compare
            assert full[name].kind == "group", name
            continue
        assert narrow[name].yaml_path == full[name].yaml_path, name
        assert resolve_tasks_in(narrow, [name]) == resolve_tasks_in(full, [name]), name
    tag = next(n for n, e in full.items() if e.kind == "tag")
    assert _narrow_index([tag], None) is None
    assert _narrow_index(["no_such_task_anywhere"], None) is None


def test_a_translation_keeps_the_whitespace_around_each_part(setup):
    """Translators trim; a choice's leading space or a description's closing blank line is layout, kept."""
    from tests.support.fake_google import fake_translate

    s = _transform(setup, "fr")
    assert s.forward([" yes", "Solve it.\n\n", "  ", ""]) == [
        " " + fake_translate("yes", "fr"), fake_translate("Solve it.", "fr") + "\n\n", "  ", ""]


def test_how_many_reference_answers_survive_the_inverse_is_recorded(setup):
    for c in ("leet", "piglatin"):
        config = yaml.safe_load((setup["out"] / "conjugated" / "gsm8k" / f"conj_gsm8k_{c}.yaml").read_text()
                                .replace("!function", ""))
        exact = config["metadata"]["conjugation"]["answer_roundtrip_exact"]
        assert 0 <= exact < 1  # worked solutions with words: not all come back letter for letter
    xnli = yaml.safe_load((setup["out"] / "conjugated" / XNLI / f"conj_{XNLI}_leet.yaml").read_text()
                          .replace("!function", ""))
    assert "answer_roundtrip_exact" not in xnli["metadata"]["conjugation"]  # choices are scored, not text
