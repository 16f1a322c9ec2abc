"""Task names as every command resolves them: each task once whatever matched it, a family's tag whole when a
language is added to it, and a name defined twice refused with both files named (issue 25, items 2 and 11)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conj_harness.lmeval import compat
from conj_harness.lmeval.registration import check_builtin_shadowing, resolve_tasks, search_paths, tasks_dir
from conj_harness.lmeval.taskgen import write_user_task
from tests.support.user_tasks import qa_task

ICL = ["conj_icl_en", "conj_icl_es", "conj_icl_fr", "conj_icl_hu", "conj_icl_leet", "conj_icl_nl", "conj_icl_piglatin"]


def test_globs_over_a_tag_and_its_members_give_each_task_once_in_first_seen_order():
    everything = resolve_tasks(["conj_*"])
    assert len(everything) == len(set(everything)) == 41
    assert resolve_tasks(["conj_icl*"]) == ICL  # the tag conj_icl and its seven members
    assert resolve_tasks(["conj_icl_fr", "conj_icl", "conj_icl_*"]) == ["conj_icl_fr", *[t for t in ICL
                                                                                         if t != "conj_icl_fr"]]
    assert resolve_tasks(["conj_icl_en,conj_icl_en", "conj_icl_en"]) == ["conj_icl_en"]


def test_an_added_language_joins_its_familys_tag_instead_of_replacing_it(tmp_path, monkeypatch):
    monkeypatch.setenv("CONJ_USER_TASKS", str(tmp_path / "user"))
    write_user_task(tmp_path / "user", "icl", "sw", {}, {"backend": "table"})
    assert resolve_tasks(["conj_icl"]) == [*ICL, "conj_icl_sw"]
    from conj_harness.lmeval.registration import ConjTaskManager

    manager = ConjTaskManager.without_builtins()()  # lm-eval's own manager sees the same tag
    assert sorted(manager.task_index["conj_icl"].tags) == sorted([*ICL, "conj_icl_sw"])


def test_a_user_task_named_like_a_shipped_task_or_tag_is_refused_naming_both_files(tmp_path):
    for name, shipped in (("conj_icl_en", tasks_dir() / "icl" / "conj_icl_en.yaml"),
                          ("conj_icl", tasks_dir() / "icl" / "conj_icl_en.yaml")):
        folder = tmp_path / name
        mine = qa_task(folder, name)
        with pytest.raises(compat.ShadowedTaskError) as error:
            compat.task_index(search_paths(str(folder)))
        assert str(mine) in str(error.value) and str(shipped) in str(error.value), error.value


def test_one_folder_given_twice_is_not_a_clash(tmp_path):
    qa_task(tmp_path / "inc", "tinyqa")
    index = compat.task_index([*search_paths(str(tmp_path / "inc")), tmp_path / "inc", tmp_path])
    assert index["tinyqa"].kind == "task"


def test_a_user_task_named_like_an_lm_eval_builtin_is_refused(tmp_path):
    mine = qa_task(tmp_path / "inc", "gsm8k")
    index = compat.task_index(search_paths(str(tmp_path / "inc")))
    with pytest.raises(compat.ShadowedTaskError, match=r"defines the task 'gsm8k', which lm-eval's built-in .*"
                                                       r"gsm8k\.yaml already defines") as error:
        check_builtin_shadowing(index, str(tmp_path / "inc"))
    assert str(error.value).startswith(str(mine))
    qa_task(tmp_path / "ok", "my_gsm8k_copy")  # a name of its own is fine
    check_builtin_shadowing(compat.task_index(search_paths(str(tmp_path / "ok"))), str(tmp_path / "ok"))


def test_lm_eval_ships_no_conj_names():
    """The built-in shadowing check skips ``conj_*`` names: they must be ours alone."""
    names = [p for p in Path(compat.builtin_tasks_dir()).rglob("*.yaml") if "conj_" in p.read_text(errors="replace")]
    assert names == []


def test_globs_over_a_group_and_its_members_give_each_task_once(tmp_path):
    from conj_harness.lmeval.registration import resolve_tasks

    include = tmp_path / "inc"
    qa_task(include, "tinyqa_a")
    qa_task(include, "tinyqa_b")
    (include / "_group.yaml").write_text("group: tinyqa_all\ntask:\n  - tinyqa_a\n  - tinyqa_b\n")
    assert resolve_tasks(["tinyqa*"], str(include)) == ["tinyqa_a", "tinyqa_b"]  # the group and both members
    assert resolve_tasks(["tinyqa_b", "tinyqa_all", "tinyqa_*"], str(include)) == ["tinyqa_b", "tinyqa_a"]


def test_conjugating_with_a_user_task_named_like_a_builtin_is_refused_naming_both_files(tmp_path):
    from conj_harness.lmeval.conjugated import resolve_sources

    mine = qa_task(tmp_path / "inc", "gsm8k")
    with pytest.raises(compat.ShadowedTaskError, match=r"gsm8k\.yaml defines the task 'gsm8k', which .*"
                                                       r"lm_eval/tasks/gsm8k/gsm8k\.yaml already defines") as error:
        resolve_sources(["gsm8k"], str(tmp_path / "inc"))
    assert str(mine) in str(error.value)
