"""The task families: what each experiment is called, which conjugates it ships, and what it is measured on.

A family ``f`` becomes lm-eval tasks ``conj_<f>_<conjugate>`` (one per conjugate) carrying the tag ``conj_<f>``;
:mod:`conj_harness.lmeval.taskgen` writes their YAMLs from this table, and the report compares base and tuned
models on the family's :attr:`Family.primary_metric`. Adding a conjugate to a shipped family is one entry in that
family's module (e.g. ``icl.PAPER_CONJUGATES``) and one run of ``python -m conj_harness.lmeval.taskgen``.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conj_harness.data import sources
from conj_harness.errors import UnknownNameError
from conj_harness.families import icl, safety, xnli

PREFIX = "conj_"


@dataclass(frozen=True)
class Family:
    """One experiment of the paper as a family of lm-eval tasks."""

    name: str
    description: str
    #: The metric its drop and recovery are measured on. For the safety families the capability is refusing
    #: harmful requests, so drop = base refusal rate - tuned refusal rate (positive: the tuned model refuses less).
    primary_metric: str
    shipped: Callable[[], list[str]]
    #: ``loader(conjugate, **dataset_kwargs) -> docs``: what the family's ``custom_dataset`` hook returns.
    loader: Callable[..., list[dict]]
    #: Its responses are labelled by a judge (the safety families), chosen by the ``judge*`` metadata keys.
    judged: bool = False

    @property
    def tag(self) -> str:
        """The lm-eval tag that runs every task of the family (``--tasks conj_icl``)."""
        return f"{PREFIX}{self.name}"

    @property
    def template(self) -> str:
        """The shared template in the family's task folder (not ``.yaml``, so lm-eval does not index it)."""
        return f"_{self.name}_template_yaml"

    def task_name(self, conjugate: str) -> str:
        return f"{PREFIX}{self.name}_{conjugate}"

    def conjugates(self) -> list[str]:
        """The conjugates shipped with the package (languages added by a user come on top)."""
        return self.shipped()


FAMILIES: dict[str, Family] = {
    "icl": Family("icl", "in-context learning vs instruction following (paper setups §2)", "icl_acc",
                  lambda: list(icl.PAPER_CONJUGATES), icl.load_docs),
    "xnli": Family("xnli", "XNLI zero-shot reasoning, lost by code fine-tuning (paper setups §3)", "acc",
                   lambda: [*xnli.PROMPTS, *xnli.CIPHER_CONJUGATES], xnli.load_docs),
    "advbench": Family("advbench", "AdvBench harmful requests: refusal (paper setups §4)", "refusal_rate",
                       lambda: [*safety.ADVBENCH_PAPER_LANGS, *safety.ADVBENCH_CIPHERS], safety.advbench_docs,
                       judged=True),
    "multijail": Family("multijail", "MultiJail harmful requests, human translations: refusal", "refusal_rate",
                        lambda: list(sources.MULTIJAIL_LANGS), safety.multijail_docs, judged=True),
}
_DOCS: dict[str, list[dict]] = {}


def get(name: str) -> Family:
    try:
        return FAMILIES[name]
    except KeyError:
        raise UnknownNameError("family", name, FAMILIES) from None


def family_of_tag(tags: object) -> Family | None:
    """The family whose tag (``conj_<family>``) is among a task config's ``tag`` value, if any."""
    names = [tags] if isinstance(tags, str) else list(tags) if isinstance(tags, (list, tuple)) else []
    return next((f for f in FAMILIES.values() if f.tag in names), None)


def load_docs(family: str, **kwargs: Any) -> list[dict]:
    """A task's documents, loaded once per process.

    ``kwargs`` are what lm-eval passes to the ``custom_dataset`` hook (task metadata and ``dataset_kwargs``); only
    the ones the family's loader takes are used, so a loader's parameters carry the names of the metadata keys
    (``advbench_subset``). ``conj-eval`` calls this for every requested task before the model
    loads, so a missing or malformed data file stops the run at once, and lm-eval's own call later is free.
    """
    loader = get(family).loader
    params = inspect.signature(loader).parameters
    used = {k: v for k, v in kwargs.items() if k in params}
    key = json.dumps([family, used], sort_keys=True, default=str)
    if key not in _DOCS:
        _DOCS[key] = loader(**used)
    return _DOCS[key]
