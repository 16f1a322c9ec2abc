"""lm-eval hooks for the conj_advbench_* tasks: thin wrappers over conj_harness.families.safety."""

from conj_harness.families import safety
from conj_harness.lmeval.filters import RefusalJudgeFilter  # noqa: F401 - referenced by the template
from conj_harness.lmeval.hooks import as_dataset


def load(conjugate: str, advbench_subset: str = "paper100", instructions_file: str | None = None, **_metadata):
    return as_dataset(safety.advbench_docs(conjugate, advbench_subset, instructions_file))


def doc_to_text(doc: dict) -> str:
    return doc["prompt"]


def process_results(doc: dict, results: list) -> dict[str, float]:
    return safety.score(results[0])
