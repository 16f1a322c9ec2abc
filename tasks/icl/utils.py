"""lm-eval hooks for the conj_icl_* tasks: thin wrappers over conj_harness.families.icl."""

from conj_harness.families import icl
from conj_harness.lmeval.hooks import as_dataset


def load(conjugate: str, strings: dict | None = None, sentences_file: str | None = None, **_metadata):
    """Docs for one conjugate: the paper's files and strings, or a user language's own (add-language)."""
    if strings is None:
        return as_dataset(icl.paper_docs(conjugate))
    return as_dataset(icl.custom_docs(conjugate, strings, sentences_file))


def doc_to_text(doc: dict) -> str:
    return doc["prompt"]


def process_results(doc: dict, results: list[str]) -> dict[str, float]:
    return icl.score(doc, results[0])
