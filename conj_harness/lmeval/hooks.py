"""Glue between conj_harness docs (plain dicts) and lm-eval's task hooks."""

from __future__ import annotations


def as_dataset(docs: list[dict], split: str = "test"):
    """Wrap docs as the ``DatasetDict`` that lm-eval's ``custom_dataset`` hook must return."""
    import datasets

    return datasets.DatasetDict({split: datasets.Dataset.from_list(docs)})
