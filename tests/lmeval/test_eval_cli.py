"""The real `conj-eval` and `lm_eval` CLIs on every registered task, with a tiny random model."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from conj_harness.lmeval.registration import local_task_names
from tests.support.cli import read_results, read_samples, run

pytestmark = pytest.mark.slow  # model runs / CLI processes: not in the fast tier (README)

FAMILIES = ("conj_icl", "conj_xnli", "conj_advbench", "conj_multijail")
TASKS = [n for n in local_task_names() if n.startswith("conj_") and n not in FAMILIES]
METRICS = {"conj_icl_": ["icl_acc,none", "if_rate,none"], "conj_xnli_": ["acc,none"],
           "conj_advbench_": ["refusal_rate,judge"], "conj_multijail_": ["refusal_rate,judge"]}


def test_every_registered_task_is_in_the_list():
    assert len([t for t in TASKS if t.startswith("conj_icl_")]) == 7
    assert len([t for t in TASKS if t.startswith("conj_xnli_")]) == 17
    assert len(TASKS) == 7 + 17 + 7 + 10


@pytest.fixture(scope="module")
def all_tasks_run(tiny_llama, tmp_path_factory) -> Path:
    """One `conj-eval --tasks 'conj_*'` run over every task (2 docs each), with samples logged."""
    out = tmp_path_factory.mktemp("all_tasks")
    # max_gen_toks=10 keeps the safety tasks (512 tokens by default) quick; ICL and XNLI use 10 anyway
    run(["conj-eval", "--model", "hf", "--model_args", f"pretrained={tiny_llama}", "--tasks", "conj_*",
         "--limit", "2", "--batch_size", "8", "--gen_kwargs", "max_gen_toks=10", "--output_path", str(out),
         "--log_samples"])
    return out


def test_conj_glob_runs_every_task(all_tasks_run):
    results = read_results(all_tasks_run)
    assert sorted(results["results"]) == sorted(TASKS)
    for name, metrics in results["results"].items():
        (keys,) = [v for k, v in METRICS.items() if name.startswith(k)]
        samples = read_samples(all_tasks_run, name)
        assert len(samples) == 2, name
        for key in keys:  # the aggregate is the mean of what process_results gave each document
            per_doc = [s[key.split(",")[0]] for s in samples]
            assert set(per_doc) <= {0.0, 1.0}, (name, key, per_doc)
            assert metrics[key] == pytest.approx(sum(per_doc) / len(per_doc)), (name, key)
    # paper mode: conj-eval turned the BOS token off
    assert "add_bos_token=False" in results["config"]["model_args"] or \
        results["config"]["model_args"].get("add_bos_token") is False


def test_samples_carry_what_the_analysis_needs(all_tasks_run):
    for s in read_samples(all_tasks_run, "conj_icl_hu"):
        assert {"id", "config", "icl_task", "if_task", "icl_ans", "if_ans"} <= set(s["doc"])
        assert s["doc"]["lang"] == "hu"
        assert isinstance(s["resps"][0][0], str)
        assert s["icl_acc"] in (0.0, 1.0) and s["if_rate"] in (0.0, 1.0)
    xs = read_samples(all_tasks_run, "conj_xnli_leet")
    assert xs[0]["doc"]["label_words"] == ["7ru3", "N317h3R", "F4l53"]
    assert "Qu35710n:" in xs[0]["arguments"]["gen_args_0"]["arg_0"]


def test_scores_follow_from_the_logged_outputs(all_tasks_run):
    """The aggregate is the mean of the per-sample paper rule applied to the logged continuation."""
    from conj_harness.families import icl, xnli

    results = read_results(all_tasks_run)["results"]
    for task in ("conj_icl_en", "conj_icl_piglatin"):
        samples = read_samples(all_tasks_run, task)
        accs = [icl.score(s["doc"], s["filtered_resps"][0])["icl_acc"] for s in samples]
        assert results[task]["icl_acc,none"] == pytest.approx(sum(accs) / len(accs))
    samples = read_samples(all_tasks_run, "conj_xnli_zh")
    accs = [xnli.score(s["doc"], s["filtered_resps"][0])["acc"] for s in samples]
    assert results["conj_xnli_zh"]["acc,none"] == pytest.approx(sum(accs) / len(accs))


def test_plain_lm_eval_with_include_path(tiny_llama, tmp_path):
    tasks_dir = run(["conj-harness", "tasks-dir"]).stdout.strip()
    run(["lm_eval", "--include_path", tasks_dir, "--tasks", "conj_icl_fr", "--model", "hf",
         "--model_args", f"pretrained={tiny_llama},add_bos_token=False", "--limit", "3",
         "--output_path", str(tmp_path)])
    assert list(read_results(tmp_path)["results"]) == ["conj_icl_fr"]


def test_family_runs_by_one_name_with_user_include_path(tiny_llama, tmp_path):
    """`--tasks conj_icl` runs the whole family, and a user's own task folder is still honoured."""
    import conj_harness

    user = tmp_path / "my_tasks"
    user.mkdir()
    template = Path(conj_harness.tasks_dir()) / "icl" / "_icl_template_yaml"
    (user / "my_icl_en.yaml").write_text(
        f"include: {template}\ntask: my_icl_en\ntag: my_family\ndataset_kwargs:\n  conjugate: en\n"
    )
    out = tmp_path / "out"
    run(["conj-eval", "--model", "hf", "--model_args", f"pretrained={tiny_llama}", "--include_path", str(user),
         "--tasks", "conj_icl", "my_icl_en", "--limit", "1", "--output_path", str(out)])
    expected = [*(t for t in TASKS if t.startswith("conj_icl_")), "my_icl_en"]
    assert sorted(read_results(out)["results"]) == sorted(expected)


def test_unknown_conj_task_lists_the_valid_names(tiny_llama):
    proc = run(["conj-eval", "--model", "hf", "--model_args", f"pretrained={tiny_llama}", "--tasks",
                "conj_icl_klingon", "--limit", "1"], check=False)
    assert proc.returncode == 2
    assert "unknown task 'conj_icl_klingon'" in proc.stderr
    assert "conj_icl_leet" in proc.stderr and "conj_xnli_zh" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_builtin_tasks_stay_reachable():
    proc = run(["conj-eval", "validate", "--tasks", "conj_icl_en,arc_easy"])
    assert "All tasks found" in proc.stdout


def test_conj_only_runs_skip_the_builtin_index(tiny_llama):
    """Parse real lm-eval arguments and check what conj-eval prepares (no timing in tests)."""
    import sys

    from conj_harness.lmeval import compat, eval_cli, registration

    def prepared(argv: str):
        old = sys.argv
        sys.argv = ["conj-eval", *shlex.split(argv)]
        try:
            args = compat.harness_cli().parse_args()
        finally:
            sys.argv = old
        eval_cli.prepare(args)
        import lm_eval.tasks

        return args, lm_eval.tasks.TaskManager.builtins_by_default  # the manager lm-eval's `run` will build

    try:
        args, defaults = prepared(f"--model hf --model_args pretrained={tiny_llama} "
                                  "--tasks conj_icl_en,conj_xnli_*")
        assert defaults is False and args.model_args == {"pretrained": str(tiny_llama), "add_bos_token": False}
        import lm_eval.tasks

        tm = lm_eval.tasks.TaskManager()
        assert "conj_icl_en" in tm.all_tasks and "hellaswag" not in tm.all_tasks
        assert registration.ConjTaskManager.builtins_by_default is True  # the shared class is untouched
        args, defaults = prepared(f"--model hf --model_args pretrained={tiny_llama},add_bos_token=True "
                                  "--tasks conj_icl_en")
        assert args.model_args["add_bos_token"] is True  # the user's choice wins
        args, defaults = prepared(f"--model hf --model_args pretrained={tiny_llama} --tasks conj_icl_en hellaswag")
        assert defaults is True and "add_bos_token" not in args.model_args
    finally:
        compat.install_task_manager(registration.ConjTaskManager)


def test_python_api_for_simple_evaluate(tiny_llama):
    import lm_eval

    import conj_harness

    res = lm_eval.simple_evaluate(
        model="hf", model_args=f"pretrained={tiny_llama},add_bos_token=False", tasks=["conj_xnli_de"],
        limit=2, device="cpu", task_manager=conj_harness.task_manager(),
    )
    assert set(res["results"]) == {"conj_xnli_de"}
    json.dumps(res["results"])
