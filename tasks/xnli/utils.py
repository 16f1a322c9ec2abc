"""lm-eval hooks for the conj_xnli_* tasks: thin wrappers over conj_harness.families.xnli."""

from conj_harness.families import xnli
from conj_harness.lmeval.hooks import as_dataset


def load(conjugate: str, template: str | None = None, labels: list | None = None, rows_file: str | None = None,
         **_metadata):
    """Docs for one conjugate: shipped templates, or a language added with ``conj-harness add-language``."""
    if template is None:
        return as_dataset(xnli.paper_docs(conjugate))
    return as_dataset(xnli.custom_docs(conjugate, template, labels or [], rows_file or ""))


def doc_to_text(doc: dict) -> str:
    return doc["prompt"]


def process_results(doc: dict, results: list[str]) -> dict[str, float]:
    return xnli.score(doc, results[0])
