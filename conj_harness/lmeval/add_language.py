"""``conj-harness add-language CODE``: a new language conjugate for the task families, in one command.

It translates what each family needs through the translation layer (cache + language checks), writes the
translated data and one task YAML per family into the user task folder (``user_dirs.user_tasks_dir()/<code>/``), and
records the translation pass rate in each task's metadata. ``conj-eval`` includes that folder automatically, so
``conj-eval --tasks conj_icl_<code>`` runs from then on - offline, since the translations are written out (and
kept in the cache: running the command again makes no translator call).

What is translated, per family:

* ``icl``: the paper's 500 English sentences, the two instructions, the Input/Output prefixes and the math
  question (translated with fixed numbers, which locate ``{n1}``/``{n2}`` and the operator word in the result);
* ``advbench``: the 520 AdvBench instructions (the task uses the paper's 100 unless told otherwise);
* ``xnli``: the template words (Question, Answer, True, False, Neither, or) and the English validation split
  (languages with their own XNLI split ship as ``conj_xnli_<code>`` already).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from conj_harness.conjugates import languages
from conj_harness.data import sources
from conj_harness.errors import ConjError
from conj_harness.families import icl, safety, xnli
from conj_harness.files import atomic, jsonl
from conj_harness.lmeval import taskgen
from conj_harness.translation.fidelity import roundtrip_chrf
from conj_harness.translation.layer import TranslationLayer

N1, N2 = "13", "17"  # fixed numbers in the math question: found again in its translation


def _icl_strings(layer: TranslationLayer, code: str) -> icl.IclStrings:
    ops = ("plus", "minus", "times")
    questions = [f"What is {N1} {op} {N2}?" for op in ops]
    src = ["Input", "Output", "Repeat the input.", "Capitalize every character.", *questions]
    inp, out, repeat, caps, *translated = layer.translate(src, "en", code)
    op_words, template = [], None
    for q in translated:
        # The numbers may come back in either order ("subtract 17 from 13"): each keeps its placeholder.
        m = re.search(rf"({N1}|{N2})(.*?)({N1}|{N2})", q)
        if not m or m.group(1) == m.group(3) or not m.group(2).strip():
            raise ConjError(
                f"could not find '{N1} <operator> {N2}' in the {code} translation of the math question ({q!r}); "
                "edit the strings in the generated YAML by hand"
            )
        op_words.append(m.group(2).strip())
        if template is None:
            first, second = ("{n1}", "{n2}") if m.group(1) == N1 else ("{n2}", "{n1}")
            template = q[: m.start()] + f"{first} {{op}} {second}" + q[m.end():]
    assert template is not None
    head = re.split(r"\{n[12]\}", template)[0].strip()
    icl_answer = head.split(" ")[0] if head else template.split(" ")[0]
    return icl.IclStrings(
        input_prefix=inp.strip().rstrip(":：") + ": ",
        output_prefix=out.strip().rstrip(":：") + ": ",
        repeat_instruction=repeat.strip(),
        capslock_instruction=caps.strip(),
        math_question=template,
        math_icl_answer=icl_answer,
        plus=op_words[0], minus=op_words[1], times=op_words[2],
    )


def _add_icl(layer: TranslationLayer, code: str, folder: Path) -> Path:
    strings = _icl_strings(layer, code)
    sentences = layer.translate(sources.icl_sentences("en"), "en", code)
    sentences = [" ".join(s.split()) for s in sentences]  # one line each, whatever the translator did
    sentences_file = atomic.write_text(folder / "icl_sentences.txt", "\n".join(sentences))
    return _write_yaml(folder, "icl", code, layer, strings=strings.to_dict(), sentences_file=str(sentences_file))


def _add_xnli(layer: TranslationLayer, code: str, folder: Path) -> Path:
    words = ["Question", "Answer", "True", "Neither", "False", "or"]
    q, a, t, n, f, orword = (w.strip().rstrip(":：?") for w in layer.translate(words, "en", code))
    labels = [t, n, f]
    template = f"{{premise}}\n{q}: {{hypothesis}} {t}, {f} {orword} {n}?\n{a}:"
    for i, x in enumerate(labels):
        for j, y in enumerate(labels):
            if i != j and (not x or xnli.is_correct(x, y) or xnli.is_correct(" " + x, y)):
                raise ConjError(f"{code} label words {labels} are ambiguous under the prefix rule; edit the YAML")
    rows = sources.xnli_rows("en")
    texts = [r[k] for r in rows for k in ("premise", "hypothesis")]
    translated = iter(layer.translate(texts, "en", code))
    out_rows = [{"premise": next(translated), "hypothesis": next(translated), "label": r["label"]} for r in rows]
    rows_file = jsonl.write(folder / "xnli_validation.jsonl", out_rows)
    return _write_yaml(folder, "xnli", code, layer, template=template, labels=labels, rows_file=str(rows_file))


def _write_yaml(folder: Path, family: str, code: str, layer: TranslationLayer, **dataset_kwargs: object) -> Path:
    translation = layer.describe()
    # round-trip chrF: every string translated for this family, back to English through the same backend (cached)
    sources = [t for t in layer.from_english if t.strip()]
    score = roundtrip_chrf(sources, [layer.from_english[t] for t in sources],
                           lambda texts: layer.translate(texts, code, "en"))
    translation.update(roundtrip_chrf=score["score"], roundtrip_below_50=score["below"])
    return taskgen.write_user_task(folder.parent, family, code, dataset_kwargs, translation)


def _add_advbench(layer: TranslationLayer, code: str, folder: Path) -> Path:
    if code in safety.ADVBENCH_PAPER_LANGS:
        raise ConjError(f"conj_advbench_{code} ships with conj-harness (the paper's translation); nothing to add")
    translated = layer.translate(sources.harmful_instructions("en"), "en", code)
    path = atomic.write_text(folder / "advbench_instructions.txt", "\n".join(" ".join(t.split()) for t in translated))
    return _write_yaml(folder, "advbench", code, layer, instructions_file=str(path))


FAMILY_BUILDERS: dict[str, Callable[[TranslationLayer, str, Path], Path]] = {
    "icl": _add_icl, "xnli": _add_xnli, "advbench": _add_advbench,
}


def add_language(code: str, families: list[str], layer_factory: Callable[[], TranslationLayer],
                 out_dir: Path) -> list[Path]:
    """Translate and write the task files of ``families`` for ``code``; returns the YAML paths."""
    from conj_harness.errors import UnknownNameError

    languages.language_name(code)  # validated before it becomes part of any path
    if code == "en":
        raise ConjError("en is the source language: nothing to add")
    for fam in families:
        if fam not in FAMILY_BUILDERS:
            raise UnknownNameError("family for add-language", fam, FAMILY_BUILDERS)
    from conj_harness.families.registry import FAMILIES
    from conj_harness.lmeval.taskgen import tasks_dir

    for fam in families:  # a second conj_<family>_<code> beside the shipped one: every command would refuse both
        family = FAMILIES[fam]
        if code in family.conjugates():
            shipped = tasks_dir() / fam / f"{family.task_name(code)}.yaml"
            raise ConjError(f"{family.task_name(code)} ships with conj-harness ({shipped}): add-language adds "
                            f"languages a family does not have; leave {fam} out (--families)")
    folder = out_dir / code
    written = []
    for fam in families:
        layer = layer_factory()  # fresh stats per family: each task records its own pass rate
        written.append(FAMILY_BUILDERS[fam](layer, code, folder))
    return written
