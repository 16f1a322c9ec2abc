"""What a conjugated task reads when it runs: its materialized documents, and the filter that maps answers back.

The only module that knows the data format of a conjugated task (``conj-harness conjugate``): a folder with one
``<split>.jsonl`` per split; each line is the original document (after the task's ``process_docs``) plus the
fields the task YAML points lm-eval at:

==================  =============================================================================================
``_conj_id``        ``<split>:<index>`` in the original split (pairs base and tuned samples in reports)
``_conj_text``      the conjugated ``doc_to_text`` (an index for tasks with several inputs, left as is)
``_conj_target``    the conjugated target: what few-shot examples show (and the continuation of log-likelihood tasks)
``_conj_choices``   the conjugated choices (multiple choice)
``_conj_gold``      the gold choice's index (multiple choice), so the task's own metrics stay valid
``_conj_description``, ``_conj_gen_prefix``   the task's description and answer prefix, conjugated
==================  =============================================================================================

:func:`load_materialized` is the tasks' ``custom_dataset``; :class:`InvertFilter` is the first step of every
filter pipeline of a ``generate_until`` task whose answers are mapped back to English (cipher inverse or
back-translation, batched over the whole task); :func:`original_filter` runs a filter step the original task
named with ``!function``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lm_eval.api.filter import Filter

from conj_harness.errors import ConjError
from conj_harness.files import jsonl
from conj_harness.lmeval import compat

FIELDS = ("_conj_id", "_conj_text", "_conj_target", "_conj_choices", "_conj_gold", "_conj_description",
          "_conj_gen_prefix")


def split_file(folder: Path, split: str) -> Path:
    return folder / f"{split}.jsonl"


def encode_rows(rows: Sequence[dict[str, Any]], source: str = "") -> bytes:
    """The JSONL bytes of one split (deterministic: the same documents give the same bytes)."""
    return jsonl.encode(rows, source=source, sort_keys=True, default=str)


def read_split(folder: Path, split: str) -> list[dict[str, Any]]:
    """One split's documents, read as lm-eval reads them when the task runs (and as ``conjugate`` checks them)."""
    path = split_file(folder, split)
    return jsonl.read_rows(path, hint="run `conj-harness conjugate` again (with --force) to write it")


def load_materialized(**kwargs: Any) -> Any:
    """``custom_dataset`` of a conjugated task: its ``data_dir`` (from ``dataset_kwargs``) as a ``DatasetDict``."""
    import datasets

    folder = Path(kwargs["data_dir"])
    splits = sorted(p.stem for p in folder.glob("*.jsonl"))
    if not splits:
        raise ConjError(f"conjugated task data folder {folder} holds no <split>.jsonl: run `conj-harness conjugate` "
                        "again to write it")
    return datasets.DatasetDict({split: datasets.Dataset.from_list(read_split(folder, split)) for split in splits})


class InvertFilter(Filter):
    """Maps every response of a task back to English before the task's own filters and metrics run."""

    def __init__(self, conjugate: str, backend: str | None = None, model: str | None = None,
                 options: dict[str, Any] | None = None, cache: str | None = None, **_: Any) -> None:
        # options: what `conjugate` was given for the backend (--service-url, --retries, --device), cache: --cache
        self.conjugate, self.backend, self.model = conjugate, backend, model
        self.options, self.cache = dict(options or {}), cache

    def _transform(self) -> Any:
        from conj_harness.translation.cache import TranslationCache
        from conj_harness.translation.layer import TranslationLayer
        from conj_harness.translation.transform import ConjugateTransform
        from conj_harness.translators import get_backend

        def layer() -> TranslationLayer:
            options = {**self.options, **({"model": self.model} if self.model else {})}
            return TranslationLayer(get_backend(self.backend or "google", **options),
                                    TranslationCache(self.cache) if self.cache else None)

        return ConjugateTransform(self.conjugate, layer)

    def apply(self, resps: Any, docs: Any) -> Any:  # noqa: ARG002 - lm-eval's Filter signature
        groups = [list(r) for r in resps]
        flat = [str(x) for group in groups for x in group]
        back = iter(self._transform().inverse(flat))
        return [[next(back) for _ in group] for group in groups]


def original_filter(reference: str, function_kwargs: dict[str, str] | None = None, **kwargs: Any) -> Any:
    """A filter step of the original task that names ``!function`` objects: the step itself (``reference``, as the
    task index recorded it: ``DIR/module.name``, or a registered filter name such as ``custom``) and/or some of its
    arguments (``function_kwargs``, e.g. ``custom``'s ``filter_fn``), each resolved relative to the original YAML."""
    from lm_eval.api.registry import get_filter

    resolved = {key: compat.yaml_function(ref) for key, ref in (function_kwargs or {}).items()}
    step = compat.yaml_function(reference) if "/" in reference else get_filter(reference)
    return step(**kwargs, **resolved)
