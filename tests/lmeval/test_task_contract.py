"""One contract, run over every registered conj task and every rule-based conjugate (garak-style)."""

from __future__ import annotations

import pytest

from conj_harness import conjugates
from conj_harness.conjugates import registry
from conj_harness.errors import UnknownNameError
from conj_harness.families import icl, xnli
from conj_harness.lmeval import taskgen
from conj_harness.lmeval.registration import local_task_names

pytestmark = pytest.mark.mirror  # reads the offline data mirror (README: test tiers)

FAMILIES = ("conj_icl", "conj_xnli", "conj_advbench", "conj_multijail")
TASKS = [n for n in local_task_names() if n.startswith("conj_") and n not in FAMILIES]
DOCS = {"conj_icl_": 400, "conj_xnli_": 2490, "conj_advbench_": 100, "conj_multijail_": 315}


def test_generated_yamls_match_the_generator():
    """Committed task files are what `python -m conj_harness.lmeval.taskgen` writes (no hand edits, no drift)."""
    files = taskgen.shipped_files()
    assert len(files) == len(TASKS)
    for path, text in files.items():
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: run python -m conj_harness.lmeval.taskgen"


@pytest.fixture(scope="module")
def loaded():
    import conj_harness

    return conj_harness.task_manager().load(TASKS)["tasks"]


@pytest.mark.parametrize("name", TASKS)
def test_task_contract(loaded, name):
    task = loaded[name]
    docs = list(task.test_docs())
    (expected,) = [n for prefix, n in DOCS.items() if name.startswith(prefix)]
    assert len(docs) == expected
    assert len({d["id"] for d in docs}) == expected, "doc ids must be unique (pairing across models uses them)"
    for doc in docs[:50]:
        text = task.doc_to_text(doc)
        assert isinstance(text, str) and text and not text.endswith(" ")
        assert doc["lang"] == name.rsplit("_", 1)[1] or doc["lang"] in ("ls", "pl")
        if name.startswith("conj_icl_"):
            # the gold continuation scores as ICL, the instruction-following answer as IF
            assert task.process_results(doc, [doc["icl_ans"] + " and more"])["icl_acc"] == 1.0
            assert task.process_results(doc, [doc["if_ans"]])["if_rate"] == 1.0
            assert task.process_results(doc, [" zzz"]) == {"icl_acc": 0.0, "if_rate": 0.0}
        elif name.startswith(("conj_advbench_", "conj_multijail_")):
            assert text == doc["instruction"].strip() + "\n\n" and doc["english"]
            verdict = '{"label": "REFUSE", "stage": 1, "evidence": {}}'
            assert task.process_results(doc, [verdict]) == {"refusal_rate": 1.0, "answer_rate": 0.0,
                                                           "ambiguous_rate": 0.0}
        else:
            gold, words = doc["label_word"], doc["label_words"]
            assert task.process_results(doc, [" " + gold + "."])["acc"] == 1.0
            for other in words:
                if other != gold:
                    assert task.process_results(doc, [" " + other])["acc"] == 0.0


@pytest.mark.parametrize("conjugate", [*xnli.PROMPTS, *xnli.CIPHER_CONJUGATES])
def test_xnli_label_words_are_unambiguous(conjugate):
    """Distinct words, and no word is matched by the prefix rule when another one is the output."""
    p = xnli.prompt_for(conjugate)
    assert len(set(p.labels)) == 3
    for i, a in enumerate(p.labels):
        spellings = [a, *p.aliases[i]]
        assert any(w in p.template for w in spellings), "the template must offer every label word"
        for j, b in enumerate(p.labels):
            if i != j:
                assert not xnli.is_correct(" " + a, b), (a, b)
                assert not xnli.is_correct(a, b), (a, b)


def test_paper_xnli_templates_are_verbatim():
    assert xnli.PROMPTS["en"].template == "{premise}\nQuestion: {hypothesis} True, False or Neither?\nAnswer:"
    assert xnli.PROMPTS["fr"].template == "{premise}\nQuestion: {hypothesis} Vrai, Faux ou Ni?\nRéponse:"
    assert xnli.PROMPTS["es"].template == "{premise}\nPregunta: {hypothesis} Verdadero, Falso o Ni?\nRespuesta:"
    assert xnli.PROMPTS["de"].template == "{premise}\nFrage: {hypothesis} Wahr, Falsch oder Weder?\nAntwort:"
    assert xnli.PROMPTS["de"].labels == ("Wahr", "Weder", "Falsch")
    assert xnli.PROMPTS["es"].labels == ("Verdadero", "Ni", "Falso")


def test_xnli_prompt_renders_braces_literally():
    p = xnli.PROMPTS["en"]
    assert p.render("a {b} c", "{premise}") == "a {b} c\nQuestion: {premise} True, False or Neither?\nAnswer:"


def test_leet_label_spelled_before_punctuation_counts():
    doc = xnli.build_docs([{"premise": "A", "hypothesis": "B", "label": 1}], "leet")[0]
    assert xnli.score(doc, " N317h3R")["acc"] == 1.0
    assert xnli.score(doc, " N317h3r?")["acc"] == 1.0
    assert xnli.score(doc, " 7ru3")["acc"] == 0.0


RULE_BASED = [n for n in conjugates.names() if conjugates.get(n).kind != "language"]


@pytest.mark.parametrize("name", RULE_BASED)
def test_conjugate_contract(name):
    c = conjugates.get(name)
    text = "Trash covered the landscape like sprinkles do a birthday cake.\nSecond line, with 19 apples!"
    out = c.transform(text)
    assert isinstance(out, str) and out.count("\n") == text.count("\n")
    assert c.transform("") == ""
    assert c.invertible
    back = c.invert(out)
    assert back.lower().split()[:3] == ["trash", "covered", "the"]
    if c.kind == "cipher":
        assert out != text


def test_every_iso_language_is_a_conjugate_that_needs_a_translator():
    c = conjugates.get("ja")
    assert c.kind == "language"
    with pytest.raises(registry.NeedsTranslatorError):
        c.transform("hello")


def test_unknown_conjugate_lists_valid_names():
    with pytest.raises(UnknownNameError) as e:
        conjugates.get("klingon")
    assert "leet" in str(e.value) and "piglatin" in str(e.value) and "ISO 639-1" in str(e.value)


def test_icl_paper_conjugates_cover_the_paper():
    assert set(icl.PAPER_CONJUGATES.values()) == {"en", "fr", "es", "nl", "hu", "ls", "pl"}
