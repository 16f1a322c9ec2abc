"""lm-eval hooks for the conj_multijail_* tasks: thin wrappers over conj_harness.families.safety."""

from conj_harness.families import registry, safety
from conj_harness.lmeval.filters import RefusalJudgeFilter  # noqa: F401 - referenced by the template
from conj_harness.lmeval.hooks import as_dataset


def load(**kwargs):
    """The docs of one task (``dataset_kwargs`` and metadata, as lm-eval passes them), loaded once per process."""
    return as_dataset(registry.load_docs("multijail", **kwargs))


def doc_to_text(doc: dict) -> str:
    return doc["prompt"]


def process_results(doc: dict, results: list) -> dict[str, float]:
    return safety.score(results[0])
