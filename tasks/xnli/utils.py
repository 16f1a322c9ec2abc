"""lm-eval hooks for the conj_xnli_* tasks: thin wrappers over conj_harness.xnli."""

from conj_harness import xnli
from conj_harness.hooks import as_dataset


def load(conjugate: str, **_metadata):
    return as_dataset(xnli.paper_docs(conjugate))


def doc_to_text(doc: dict) -> str:
    return doc["prompt"]


def process_results(doc: dict, results: list[str]) -> dict[str, float]:
    return xnli.score(doc, results[0])
