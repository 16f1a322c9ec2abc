"""In-context learning vs instruction following: the paper's prompts, rebuilt, and its scoring.

A 2-shot prompt demonstrates an ICL task (``repeat`` the input or ``capslock`` it) and then asks it of a query
that looks like an instruction (a ``math`` question or a sentence whose first word is blanked, ``startblank``).
A pretrained model continues the pattern; an instruction-tuned one tends to answer the query instead.

The construction follows the authors' ``create_datasets.py`` exactly (docs/paper-setups.md §2.4): for each of the four
(ICL task, IF task) configs the RNG is reset to seed 10 and 100 samples are drawn, so the same sentence indices,
numbers and operators appear in every language. ``tests/test_icl_golden.py`` checks all 2,800 prompts byte for
byte against the reference file.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields

from conj_harness.errors import DataError, UnknownNameError

CONFIGS: tuple[tuple[str, str], ...] = (
    ("capslock", "math"),
    ("repeat", "math"),
    ("capslock", "startblank"),
    ("repeat", "startblank"),
)
K_SHOT = 2
SEED = 10
SAMPLES_PER_CONFIG = 100


@dataclass(frozen=True)
class IclStrings:
    """The language-specific strings of one conjugate (paper setups §2.4, verbatim for the paper's seven)."""

    input_prefix: str
    output_prefix: str
    repeat_instruction: str
    capslock_instruction: str
    math_question: str  # with {n1} {op} {n2}
    math_icl_answer: str  # the question's first word: what an ICL model "repeats"
    plus: str
    minus: str
    times: str

    @classmethod
    def from_dict(cls, d: dict[str, str]) -> IclStrings:
        missing = [f.name for f in fields(cls) if not isinstance(d.get(f.name), str)]
        if missing:
            raise DataError(f"ICL strings are missing {missing}; expected all of {[f.name for f in fields(cls)]}")
        return cls(**{f.name: d[f.name] for f in fields(cls)})

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


PAPER_STRINGS: dict[str, IclStrings] = {
    "en": IclStrings("Input: ", "Output: ", "Repeat the input.", "Capitalize every character.",
                     "What is {n1} {op} {n2}?", "What", "plus", "minus", "times"),
    "fr": IclStrings("Saisir: ", "Sortir: ", "Répétez la saisie.", "Mettez chaque caractère en majuscule.",
                     "Combien font {n1} {op} {n2}?", "Combien", "plus", "moins", "fois"),
    "es": IclStrings("Entrada: ", "Salida: ", "Repita la entrada.", "Capitalizar cada carácter.",
                     "¿Cuánto es {n1} {op} {n2}?", "¿Cuánto", "más", "menos", "veces"),
    "nl": IclStrings("Invoer: ", "Uitgang: ", "Herhaal de invoer.", "Geef elk teken een hoofdletter.",
                     "Wat is {n1} {op} {n2}?", "Wat", "plus", "min", "keer"),
    "hu": IclStrings("Bemenet: ", "Kimenet: ", "Ismételje meg a bevitelt.", "Minden karaktert nagybetűvel írj.",
                     "Mi az a {n1} {op} {n2}?", "Mi", "plusz", "mínusz", "alkalommal"),
    "ls": IclStrings("1npu7: ", "0u7pu7: ", "R3p347 7h3 1npu7.", "C4p174l1z3 3v3rY Ch4r4c73R.",
                     "Wh47 15 {n1} {op} {n2}?", "Wh47", "Plu5", "M1nu5", "71m35"),
    "pl": IclStrings("Inputyay: ", "Outputyay: ", "Epeatray ethay inputyay.", "Apitalizecay everyay aracterchay.",
                     "Atwhay {n1} {op} {n2}?", "Atwhay", "usplay", "inusmay", "imestay"),
}

# conjugate name -> the paper's file/strings code (the paper wrote ls for Leetspeak and pl for Pig Latin)
PAPER_CONJUGATES: dict[str, str] = {
    "en": "en", "fr": "fr", "es": "es", "nl": "nl", "hu": "hu", "leet": "ls", "piglatin": "pl",
}


def paper_code(conjugate: str) -> str:
    try:
        return PAPER_CONJUGATES[conjugate]
    except KeyError:
        raise UnknownNameError("ICL conjugate", conjugate, PAPER_CONJUGATES) from None


def _icl(task: str, text: str) -> str:
    return text.upper() if task == "capslock" else text


def _query(if_task: str, source: str, s: IclStrings, rng: random.Random) -> tuple[str, str, str]:
    """The instruction-like query, its ICL answer (before the ICL task) and its IF answer."""
    if if_task == "math":
        n1, n2, op = rng.randint(4, 20), rng.randint(4, 20), rng.randint(0, 2)
        op_word = (s.plus, s.minus, s.times)[op]
        result = (n1 + n2, n1 - n2, n1 * n2)[op]
        return s.math_question.format(n1=n1, op=op_word, n2=n2), s.math_icl_answer, str(result)
    first, *rest = source.split(" ")
    blank = "_" * len(first)
    return " ".join([blank, *rest]), blank, first


def build_docs(sentences: Sequence[str], strings: IclStrings, lang: str) -> list[dict]:
    """The 400 docs (4 configs x 100) of one conjugate, in the paper's order.

    ``lang`` is the code written into ``config`` (the paper's code for its seven conjugates).
    """
    if len(sentences) < K_SHOT + 1:
        raise DataError(f"ICL needs at least {K_SHOT + 1} sentences, got {len(sentences)}")
    docs = []
    for icl_task, if_task in CONFIGS:
        instruction = strings.capslock_instruction if icl_task == "capslock" else strings.repeat_instruction
        config = f"{icl_task}-{if_task}-instr-input-{lang}-{K_SHOT}shot"
        rng = random.Random(SEED)
        for idx in range(SAMPLES_PER_CONFIG):
            *demos, source = rng.sample(list(sentences), K_SHOT + 1)
            query, icl_ans, if_ans = _query(if_task, source, strings, rng)
            shots = [f"{strings.input_prefix}{d}\n{strings.output_prefix}{_icl(icl_task, d)}" for d in demos]
            final = f"{strings.input_prefix}{query}\n{strings.output_prefix[:-1]}"
            docs.append({
                "id": f"{icl_task}-{if_task}-{idx}",
                "config": config,
                "icl_task": icl_task,
                "if_task": if_task,
                "lang": lang,
                "idx": idx,
                "prompt": f"{instruction}\n\n" + "\n\n".join([*shots, final]),
                "icl_ans": " " + _icl(icl_task, icl_ans),
                "if_ans": " " + _icl(icl_task, if_ans),
            })
    return docs


def paper_docs(conjugate: str) -> list[dict]:
    """Docs of one of the paper's seven conjugates, from the paper's sentence files."""
    from conj_harness.data import sources

    code = paper_code(conjugate)
    return build_docs(sources.icl_sentences(code), PAPER_STRINGS[code], code)


def starts_with_answer(output: str, answer: str) -> bool:
    """The paper's rule: the continuation starts with the answer, its leading space optional.

    Markdown-escaped underscores (``\\_``) are undone first, as in ``evaluate_accuracy.py``.
    """
    out = output.replace("\\_", "_")
    return out.startswith((answer, answer[1:]))


def score(doc: dict, output: str) -> dict[str, float]:
    """``icl_acc``: the model did the in-context task; ``if_rate``: it answered the instruction instead."""
    return {
        "icl_acc": float(starts_with_answer(output, doc["icl_ans"])),
        "if_rate": float(starts_with_answer(output, doc["if_ans"])),
    }


def custom_docs(conjugate: str, strings: dict[str, str], sentences_file: str | None) -> list[dict]:
    """Docs of a conjugate added by the user: its own strings and a sentence file aligned with the paper's."""
    from pathlib import Path

    from conj_harness.data import sources

    if not sentences_file:
        raise DataError(f"conj_icl_{conjugate}: the task gives strings but no sentences_file")
    what = f"{sources.ICL_SENTENCES} sentences, line-aligned with the paper's English file"
    sentences = sources.read_lines(Path(sentences_file), sources.ICL_SENTENCES, what)
    return build_docs(sentences, IclStrings.from_dict(strings), conjugate)


def load_docs(conjugate: str, strings: dict | None = None, sentences_file: str | None = None) -> list[dict]:
    """A task's docs: the paper's files and strings, or a language added with ``add-language`` (its own)."""
    if strings is None:
        return paper_docs(conjugate)
    return custom_docs(conjugate, strings, sentences_file)
