"""lm-eval hooks for the conj_xnli_* tasks: thin wrappers over conj_harness.families.xnli."""

from conj_harness.families import registry, xnli
from conj_harness.lmeval.hooks import as_dataset


def load(**kwargs):
    """The docs of one task (``dataset_kwargs`` and metadata, as lm-eval passes them), loaded once per process."""
    return as_dataset(registry.load_docs("xnli", **kwargs))


def doc_to_text(doc: dict) -> str:
    return doc["prompt"]


def process_results(doc: dict, results: list[str]) -> dict[str, float]:
    return xnli.score(doc, results[0])
