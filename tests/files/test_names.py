"""Names that become paths are checked where they enter, and paths built from them stay inside their folder."""

from __future__ import annotations

import pytest

from conj_harness.errors import ConjError
from conj_harness.files import names
from conj_harness.pairs.store import MultiPairStore, PairStore


@pytest.mark.parametrize("name", ["conj_icl_en", "mmlu_abstract_algebra", "super-glue-lm-eval-v1", "xnli_fr",
                                  "a.b+c", "conj_gsm8k_piglatin"])
def test_lm_eval_shaped_names_pass(name):
    assert names.check(name, "task") == name


@pytest.mark.parametrize("name", ["../x", "a/b", "..", ".hidden", "a/../b", "a\\b", "", "x" * 300, "a\x00b",
                                  "conj_x/../../../victim", None, 3])
def test_names_that_could_leave_a_folder_are_one_line(name):
    with pytest.raises(ConjError, match=r"cannot be used as a file or folder name: letters, digits"):
        names.check(name, "task", "some.yaml")


def test_store_paths_refuse_bad_tasks_roles_and_links(tmp_path):
    store = PairStore(tmp_path / "pair")
    assert store.unit_dir("base", "conj_icl_en") == tmp_path / "pair" / "base" / "conj_icl_en"
    with pytest.raises(ConjError, match=r"task '\.\./\.\./x' \(in .*pair\.json\) cannot be used"):
        store.unit_dir("base", "../../x")
    with pytest.raises(ConjError, match="unknown role 'judge': the roles are base, tuned"):
        store.unit_dir("judge", "conj_icl_en")
    outside = tmp_path / "victim"
    outside.mkdir()
    (tmp_path / "pair" / "base").mkdir(parents=True)
    (tmp_path / "pair" / "base" / "linked").symlink_to(outside)
    with pytest.raises(ConjError, match=r"is a link to .*victim, outside"):
        store.unit_dir("base", "linked")
    with pytest.raises(ConjError, match=r"pair name '\.\./p'"):
        MultiPairStore(tmp_path / "multi").pair("../p")


def test_a_pair_folder_of_a_multi_pair_study_that_links_out_is_refused(tmp_path):
    from conj_harness.pairs.store import MultiPairStore

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (tmp_path / "study").mkdir()
    (tmp_path / "study" / "pairA").symlink_to(outside)
    with pytest.raises(ConjError, match=r"refusing to write through .*pairA: it is a link to .*elsewhere"):
        MultiPairStore(tmp_path / "study").pair("pairA")
    assert list(outside.iterdir()) == []
