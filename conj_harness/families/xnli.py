"""XNLI zero-shot reasoning: the paper's templates and label words, native ones for the other languages.

Code fine-tuning (Llama-2 -> Code Llama) costs natural-language reasoning; the paper asks the same XNLI question
in French, Spanish and German and finds less of it lost. Templates for ``en fr es de`` are the authors' verbatim
(docs/paper-setups.md §3). The other 11 XNLI languages get native templates written for this project (README, "XNLI
templates"): the paper's shape (``{premise}\\nQuestion: {hypothesis} True, False or Neither?\\nAnswer:``) with the
question, the three label words and the answer cue in the language. ``leet`` and ``piglatin`` apply the cipher to
the English premise, hypothesis, template and label words.

Scoring is the paper's: correct iff the continuation starts with the gold label word (one leading character,
usually a space, may precede it).
"""

from __future__ import annotations

from dataclasses import dataclass

from conj_harness import conjugates
from conj_harness.errors import DataError, UnknownNameError


@dataclass(frozen=True)
class XnliPrompt:
    """A zero-shot template and the label words for entailment, neutral, contradiction (XNLI's 0, 1, 2)."""

    template: str  # contains {premise} and {hypothesis}
    labels: tuple[str, str, str]
    source: str  # where the wording came from
    # Other spellings accepted for each label (ciphers spell a word's last letter by what follows it).
    aliases: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]] = ((), (), ())

    def render(self, premise: str, hypothesis: str) -> str:
        # str.replace, not str.format: premises may contain braces.
        return self.template.replace("{premise}", premise).replace("{hypothesis}", hypothesis)


_PAPER = "paper (authors' code_xnli/xnli.py, verbatim)"
_NATIVE = "native template written for conj-harness (see README)"

PROMPTS: dict[str, XnliPrompt] = {
    "en": XnliPrompt("{premise}\nQuestion: {hypothesis} True, False or Neither?\nAnswer:",
                     ("True", "Neither", "False"), _PAPER),
    "fr": XnliPrompt("{premise}\nQuestion: {hypothesis} Vrai, Faux ou Ni?\nRéponse:",
                     ("Vrai", "Ni", "Faux"), _PAPER),
    "es": XnliPrompt("{premise}\nPregunta: {hypothesis} Verdadero, Falso o Ni?\nRespuesta:",
                     ("Verdadero", "Ni", "Falso"), _PAPER),
    "de": XnliPrompt("{premise}\nFrage: {hypothesis} Wahr, Falsch oder Weder?\nAntwort:",
                     ("Wahr", "Weder", "Falsch"), _PAPER),
    "ar": XnliPrompt("{premise}\nسؤال: {hypothesis} صحيح، خطأ أم محايد؟\nالإجابة:",
                     ("صحيح", "محايد", "خطأ"), _NATIVE),
    "bg": XnliPrompt("{premise}\nВъпрос: {hypothesis} Вярно, Невярно или Нито едното?\nОтговор:",
                     ("Вярно", "Нито едното", "Невярно"), _NATIVE),
    "el": XnliPrompt("{premise}\nΕρώτηση: {hypothesis} Σωστό, Λάθος ή Κανένα;\nΑπάντηση:",
                     ("Σωστό", "Κανένα", "Λάθος"), _NATIVE),
    "hi": XnliPrompt("{premise}\nप्रश्न: {hypothesis} सही, गलत या कोई नहीं?\nउत्तर:",
                     ("सही", "कोई नहीं", "गलत"), _NATIVE),
    "ru": XnliPrompt("{premise}\nВопрос: {hypothesis} Верно, Неверно или Ни то ни другое?\nОтвет:",
                     ("Верно", "Ни то ни другое", "Неверно"), _NATIVE),
    "sw": XnliPrompt("{premise}\nSwali: {hypothesis} Kweli, Uongo au Wala?\nJibu:",
                     ("Kweli", "Wala", "Uongo"), _NATIVE),
    "th": XnliPrompt("{premise}\nคำถาม: {hypothesis} จริง เท็จ หรือ ไม่ใช่ทั้งสองอย่าง?\nคำตอบ:",
                     ("จริง", "ไม่ใช่ทั้งสองอย่าง", "เท็จ"), _NATIVE),
    "tr": XnliPrompt("{premise}\nSoru: {hypothesis} Doğru, Yanlış ya da Hiçbiri?\nCevap:",
                     ("Doğru", "Hiçbiri", "Yanlış"), _NATIVE),
    "ur": XnliPrompt("{premise}\nسوال: {hypothesis} درست، غلط یا کوئی نہیں؟\nجواب:",
                     ("درست", "کوئی نہیں", "غلط"), _NATIVE),
    "vi": XnliPrompt("{premise}\nCâu hỏi: {hypothesis} Đúng, Sai hay Không xác định?\nTrả lời:",
                     ("Đúng", "Không xác định", "Sai"), _NATIVE),
    "zh": XnliPrompt("{premise}\n问题：{hypothesis} 正确、错误还是都不是？\n回答：",
                     ("正确", "都不是", "错误"), _NATIVE),
}

# Conjugates built from the English split by a local rule.
CIPHER_CONJUGATES = ("leet", "piglatin")


def _cipher_prompt(name: str) -> XnliPrompt:
    conj = conjugates.get(name)
    en = PROMPTS["en"]
    # Transform the literal parts of the template only; the placeholders are filled with ciphered text later.
    head, rest = en.template.split("{premise}")
    middle, tail = rest.split("{hypothesis}")
    template = f"{conj.transform(head)}{{premise}}{conj.transform(middle)}{{hypothesis}}{conj.transform(tail)}"
    labels = tuple(conj.transform(w) for w in en.labels)
    # Leetspeak upper-cases a word's last letter only at the end of a sentence: "N317h3R" alone, "N317h3r?" in
    # the template. Both spellings count as the label.
    aliases = tuple(
        tuple({conj.transform(w + "?")[:-1]} - {label}) for w, label in zip(en.labels, labels)
    )
    return XnliPrompt(template, labels, f"paper's English template through the {name} cipher", aliases)  # type: ignore[arg-type]


def prompt_for(conjugate: str) -> XnliPrompt:
    if conjugate in PROMPTS:
        return PROMPTS[conjugate]
    if conjugate in CIPHER_CONJUGATES:
        return _cipher_prompt(conjugate)
    raise UnknownNameError("XNLI conjugate", conjugate, [*PROMPTS, *CIPHER_CONJUGATES])


def build_docs(rows: list[dict], conjugate: str, prompt: XnliPrompt | None = None) -> list[dict]:
    """XNLI docs with the rendered prompt and gold label word; ciphers transform the English rows."""
    prompt = prompt or prompt_for(conjugate)
    transform = conjugates.get(conjugate).transform if conjugate in CIPHER_CONJUGATES else (lambda s: s)
    docs = []
    for i, row in enumerate(rows):
        premise, hypothesis = transform(row["premise"]), transform(row["hypothesis"])
        docs.append({
            "id": i,
            "lang": conjugate,
            "premise": premise,
            "hypothesis": hypothesis,
            "label": row["label"],
            "label_word": prompt.labels[row["label"]],
            "label_words": list(prompt.labels),
            "label_aliases": list(prompt.aliases[row["label"]]),
            "prompt": prompt.render(premise, hypothesis),
        })
    return docs


def source_language(conjugate: str) -> str:
    """The XNLI split a conjugate is built from."""
    return "en" if conjugate in CIPHER_CONJUGATES else conjugate


def paper_docs(conjugate: str) -> list[dict]:
    from conj_harness.data import sources

    prompt = prompt_for(conjugate)  # validates the name before any data is read
    return build_docs(sources.xnli_rows(source_language(conjugate)), conjugate, prompt)


def is_correct(output: str, label_word: str) -> bool:
    """The paper's rule: ``out.startswith(label)`` or ``out[1:].startswith(label)``."""
    return output.startswith(label_word) or output[1:].startswith(label_word)


def score(doc: dict, output: str) -> dict[str, float]:
    words = [doc["label_word"], *doc.get("label_aliases", [])]
    return {"acc": float(any(is_correct(output, w) for w in words))}


def custom_docs(conjugate: str, template: str, labels: list[str], rows_file: str) -> list[dict]:
    """Docs of an XNLI conjugate added by the user: translated rows and template (``add-language``)."""
    from pathlib import Path

    from conj_harness.data import sources

    if len(labels) != 3:
        raise DataError(f"conj_xnli_{conjugate}: expected 3 label words, got {labels!r}")
    what = f"{sources.XNLI_ROWS} JSON lines with premise (str), hypothesis (str), label (0/1/2)"
    rows = sources.read_jsonl(Path(rows_file), sources.XNLI_FIELDS, sources.XNLI_ROWS, what)
    prompt = XnliPrompt(template, (labels[0], labels[1], labels[2]), "translated by add-language")
    return build_docs(rows, conjugate, prompt)


def load_docs(conjugate: str, template: str | None = None, labels: list | None = None,
              rows_file: str | None = None) -> list[dict]:
    """A task's docs: the shipped templates, or a language added with ``add-language`` (its own)."""
    if template is None:
        return paper_docs(conjugate)
    return custom_docs(conjugate, template, labels or [], rows_file or "")
