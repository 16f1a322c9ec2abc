"""lm-eval hooks for the conj_multijail_* tasks: thin wrappers over conj_harness.families.safety."""

from conj_harness.families import safety
from conj_harness.lmeval.filters import RefusalJudgeFilter  # noqa: F401 - referenced by the template
from conj_harness.lmeval.hooks import judged_dataset


def load(**kwargs):
    """The docs of one task (``dataset_kwargs`` and metadata, as lm-eval passes them), each carrying the judge."""
    return judged_dataset("multijail", kwargs)


def doc_to_text(doc: dict) -> str:
    return doc["prompt"]


def process_results(doc: dict, results: list) -> dict[str, float]:
    return safety.score(results[0])
