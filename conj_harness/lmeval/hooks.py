"""Glue between conj_harness docs (plain dicts) and lm-eval's task hooks."""

from __future__ import annotations


def as_dataset(docs: list[dict], split: str = "test"):
    """Wrap docs as the ``DatasetDict`` that lm-eval's ``custom_dataset`` hook must return."""
    import datasets

    return datasets.DatasetDict({split: datasets.Dataset.from_list(docs)})


def judged_dataset(family: str, kwargs: dict):
    """A safety task's docs, each carrying the task's judge (``doc["judge"]``, from its metadata), as a dataset."""
    import json

    from conj_harness.families import registry
    from conj_harness.judge.registry import JudgeSpec

    judge = json.dumps(JudgeSpec.from_metadata(kwargs).to_dict())
    return as_dataset([{**doc, "judge": judge} for doc in registry.load_docs(family, **kwargs)])
