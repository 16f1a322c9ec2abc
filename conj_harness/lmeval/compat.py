"""Every use of lm-eval's private APIs, in one place, behind one version check.

conj-harness needs nine things lm-eval 0.4.13 has no public API for:

* the fast task index (``lm_eval.tasks._index.TaskIndex``): task, group and tag names without building tasks,
  ~1 s instead of ~10 s - :func:`task_index`;
* the CLI object (``lm_eval._cli.HarnessCLI``), so ``conj-eval`` parses and runs exactly like ``lm_eval`` -
  :func:`harness_cli`;
* the ``TaskManager`` that lm-eval's subcommands build, replaced by ours - :func:`install_task_manager`;
* the vLLM backend's silent left truncation (``lm_eval.models.utils.maybe_truncate``), turned into an error -
  :func:`wrap_maybe_truncate`;
* the text of lm-eval's request progress bar (``Running <type> requests``), read from a child's output to show
  progress - :func:`parse_request_progress`;
* a loaded model object's adapter (the vLLM backend's ``lora_request``, the HF backend's ``_model``), to run a
  base model and its LoRA fine-tune on one load - :func:`set_adapter`;
* lm-eval's YAML loader (``lm_eval.tasks._yaml_loader``): a task's config with its includes and ``!function``
  values resolved, to build it with other data files, and one ``!function`` reference imported when a conjugated
  task reuses the original task's filter - :func:`build_task_from_yaml`, :func:`yaml_function`;
* a built task's rendering internals (``ConfigurableTask.fewshot_cfg``, ``doc_to_text(doc, spec)``,
  ``resolve_field``) and the order in which ``Task.fewshot_docs`` falls back from split to split, to conjugate
  exactly the strings lm-eval would show the model - :func:`render_doc`, :func:`fewshot_source`;
* the environment report every ``simple_evaluate`` call writes into its results
  (``lm_eval.evaluator.add_env_info``: torch's ``collect_env``, ~1 s of subprocesses), computed once per worker
  process instead of once per task - :func:`reuse_env_info`.

:func:`model_types` and :func:`create_model` use lm-eval's model registry (public, but kept here with the rest).

An lm-eval upgrade breaks here, and only here. :func:`check_version` runs before any of them (and before any model
loads) and stops with one line naming the supported version, instead of an ``AttributeError`` deep inside a run.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import logging
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from conj_harness.errors import ConjError
from conj_harness.lmeval import backends

if TYPE_CHECKING:
    from lm_eval._cli import HarnessCLI

#: The lm-eval release this module was written and tested against (pinned in pyproject.toml).
SUPPORTED_VERSION = "0.4.13"


class LmEvalVersionError(ConjError):
    """The installed lm-eval is not the release conj-harness was built for."""


def installed_version() -> str | None:
    """The installed lm-eval's version (``None`` when it is not installed)."""
    try:
        return importlib.metadata.version("lm-eval")
    except importlib.metadata.PackageNotFoundError:
        return None


def _release(version: str) -> tuple[int, ...]:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(version).release[:3]
    except InvalidVersion:
        return ()


def check_version() -> None:
    """Raise :class:`LmEvalVersionError` (one line) unless lm-eval :data:`SUPPORTED_VERSION` is installed."""
    found = installed_version()
    if found is not None and _release(found) == _release(SUPPORTED_VERSION):
        return
    what = "is not installed" if found is None else f"{found} is installed"
    raise LmEvalVersionError(
        f"conj-harness needs lm-eval {SUPPORTED_VERSION}, but {what}: pip install 'lm-eval[hf]=={SUPPORTED_VERSION}' "
        "(conj-harness uses lm-eval internals that change between releases)"
    )


# --- the task index ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexEntry:
    """One name in lm-eval's task index: a task, a group (its ``task:`` list) or a tag (the tasks carrying it)."""

    name: str
    kind: Literal["task", "group", "tag", "unknown"]
    members: tuple[str, ...] = field(default=())
    yaml_path: Path | None = None
    #: A task's YAML with its includes resolved (``!function`` values left as text).
    config: dict[str, Any] = field(default_factory=dict, compare=False)


class ShadowedTaskError(ConjError):
    """Two task folders define the same task, group or tag name: one would silently replace the other."""


def _first_file(entry: Any, index: dict[str, Any]) -> Path | None:
    """The YAML file behind an entry; for a tag (which has none), its first member task's."""
    if entry.yaml_path is not None:
        return Path(entry.yaml_path)
    for member in sorted(entry.tags):
        sub = index.get(member)
        if sub is not None and sub.yaml_path is not None and sub is not entry:
            return Path(sub.yaml_path)
    return None


def merged_index(paths: Iterable[Path], roots: Sequence[Path] = ()) -> dict[str, Any]:
    """lm-eval's index entries of the task folders ``paths``, merged the way a user means them.

    lm-eval merges folders by letting a later one replace an earlier one's name with a warning on stderr: a user's
    ``task: conj_icl_en`` would silently replace the shipped task, and a language added to a family (its tasks carry
    the family's tag) would replace the family's tag with one holding only the new language. Here a tag defined in
    several folders holds all their tasks, and any other name defined in two folders is refused
    (:class:`ShadowedTaskError`, naming both files). The same folder given twice is read once. ``roots``: the task
    folders ``paths`` were picked from (sub-folders of them); two of one root's sub-folders that share a name are
    one folder to lm-eval, which keeps the first.
    """
    check_version()
    from lm_eval.tasks._index import Entry, Kind, TaskIndex

    folders: list[Path] = []
    for path in paths:
        if Path(path).resolve() not in [r.resolve() for r in folders]:
            folders.append(Path(path))
    tops = [Path(r).resolve() for r in roots]

    def top(entry: Any) -> Path | None:
        file = Path(entry.yaml_path).resolve() if entry.yaml_path is not None else None
        return next((t for t in tops if file is not None and t in file.parents), None)

    merged: dict[str, Any] = {}
    for root in folders:
        found = TaskIndex.build([root])
        for name, entry in found.items():
            old = merged.get(name)
            if old is None:
                merged[name] = entry
            elif old.kind == Kind.TAG and entry.kind == Kind.TAG:
                merged[name] = Entry(name=name, kind=Kind.TAG, yaml_path=None, tags=set(old.tags) | set(entry.tags))
            elif old.yaml_path is not None and entry.yaml_path is not None and \
                    Path(old.yaml_path).resolve() == Path(entry.yaml_path).resolve():
                continue  # one file reached through two folders (an include path inside another)
            elif top(old) is not None and top(old) == top(entry):
                continue  # two sub-folders of one task folder: lm-eval indexes them as one and keeps the first
            else:
                kinds = {Kind.TASK: "task", Kind.PY_TASK: "task", Kind.GROUP: "group", Kind.TAG: "tag"}
                raise ShadowedTaskError(
                    f"{_first_file(entry, found) or root} defines the {kinds.get(entry.kind, 'task')} {name!r}, "
                    f"which {_first_file(old, merged) or 'another task folder'} already defines as a "
                    f"{kinds.get(old.kind, 'task')}: one would silently replace the other. Give the task another "
                    "name (its `task:` line), or leave its folder out")
    return merged


def task_index(paths: Iterable[Path], roots: Sequence[Path] = ()) -> dict[str, IndexEntry]:
    """Every task, group and tag defined by the YAML files under ``paths`` (lm-eval's built-ins excluded), merged
    as :func:`merged_index` merges them."""
    from lm_eval.tasks._index import Kind

    kinds = {Kind.TASK: "task", Kind.PY_TASK: "task", Kind.GROUP: "group", Kind.TAG: "tag"}
    out: dict[str, IndexEntry] = {}
    for name, entry in merged_index(paths, roots).items():
        kind = kinds.get(entry.kind, "unknown")
        members: list[str] = []
        if kind == "tag":
            members = sorted(entry.tags)
        elif kind == "group":
            listed = (entry.cfg or {}).get("task") or []
            for item in listed if isinstance(listed, list) else [listed]:
                sub = item if isinstance(item, str) else (item or {}).get("task")
                if isinstance(sub, str):
                    members.append(sub)
        out[name] = IndexEntry(name, kind, tuple(members), entry.yaml_path,  # type: ignore[arg-type]
                               dict(entry.cfg or {}) if kind == "task" else {})
    return out


def use_merged_index(manager: Any, paths: Sequence[Path]) -> None:
    """Give an lm-eval ``TaskManager`` the :func:`merged_index` of ``paths`` instead of the index it built."""
    from itertools import chain

    from lm_eval.tasks._index import Kind

    index = merged_index(paths)
    manager._index = index
    buckets: dict[Any, list[str]] = {}
    for name, entry in index.items():
        buckets.setdefault(entry.kind, []).append(name)
    manager._all_tasks = sorted(index)
    manager._all_subtasks = sorted(chain.from_iterable(buckets.get(k, []) for k in (Kind.TASK, Kind.PY_TASK)))
    manager._all_groups = sorted(buckets.get(Kind.GROUP, []))
    manager._all_tags = sorted(buckets.get(Kind.TAG, []))


@contextlib.contextmanager
def quiet_task_building() -> Iterator[None]:
    """lm-eval's warnings while it builds tasks (a ``custom_dataset`` note per task, the few-shot fallback) and the
    datasets library's progress bars are for a run; a check that only builds the tasks keeps them off the user's
    terminal."""
    import datasets

    logger = logging.getLogger("lm_eval")
    level = logger.level
    bars = datasets.is_progress_bar_enabled()
    logger.setLevel(logging.ERROR)
    datasets.disable_progress_bars()  # "Generating test split": a data file read again since it changed
    try:
        yield
    finally:
        logger.setLevel(level)
        if bars:
            datasets.enable_progress_bars()


def builtin_tasks_dir() -> Path:
    """The folder of lm-eval's own task YAMLs (what a full TaskManager indexes)."""
    check_version()
    import lm_eval.tasks

    return Path(lm_eval.tasks.__file__).resolve().parent


def build_task_from_yaml(yaml_path: Path, overrides: dict[str, Any]) -> Any:
    """lm-eval's task object for the task YAML at ``yaml_path`` with ``overrides`` applied to its config (e.g.
    ``dataset_path``/``dataset_kwargs`` pointing at local files); its documents are loaded here."""
    check_version()
    from lm_eval.api.task import ConfigurableTask
    from lm_eval.tasks._yaml_loader import load_yaml

    config = {**load_yaml(yaml_path, resolve_func=True), **overrides}
    if "class" in config:
        raise TypeError(f"{config.get('task')} is a Python task class, not a YAML task")
    for key in ("tag", "group", "task_list"):
        config.pop(key, None)
    metadata = config.get("metadata")
    config["metadata"] = dict(metadata) if isinstance(metadata, dict) else {}
    return ConfigurableTask(config=config)


def yaml_function(reference: str) -> Any:
    """The object a ``!function`` in a task YAML names, given as :func:`task_index` leaves it (``DIR/module.name``:
    the YAML's folder joined with the reference)."""
    check_version()
    from lm_eval.tasks._yaml_loader import _import_func_in_yml

    folder, _, qualified = reference.rpartition("/")
    return _import_func_in_yml(qualified, Path(folder or "."))


# --- the CLI ----------------------------------------------------------------------------------------------------


def harness_cli() -> HarnessCLI:
    """lm-eval's own command-line parser and dispatcher (``parse_args()``, ``execute(args)``)."""
    check_version()
    from lm_eval._cli import HarnessCLI
    from lm_eval.utils import setup_logging

    setup_logging()
    return HarnessCLI()


def install_task_manager(cls: type) -> None:
    """Make lm-eval's subcommands (``run``, ``ls``, ``validate``) build ``cls`` instead of its TaskManager.

    They look ``lm_eval.tasks.TaskManager`` up when they run, so replacing the module attribute is enough.
    """
    check_version()
    import lm_eval.tasks

    lm_eval.tasks.TaskManager = cls


# --- vLLM prompt truncation -------------------------------------------------------------------------------------

#: Modules that bind ``maybe_truncate`` by name when they are imported.
_TRUNCATING_MODULES = ("lm_eval.models.vllm_causallms", "lm_eval.models.vllm_vlms")


def wrap_maybe_truncate(check: Callable[[list[int], int, int], None]) -> None:
    """Call ``check(tokens, max_gen_toks, max_model_len)`` before lm-eval's vLLM backend truncates a prompt.

    ``check`` raises to refuse the prompt; otherwise lm-eval's own function runs. Idempotent: wrapping again
    replaces the previous check, never stacks wrappers.
    """
    check_version()
    import lm_eval.models.utils as model_utils

    original = getattr(model_utils.maybe_truncate, "__conj_original__", model_utils.maybe_truncate)

    def maybe_truncate(tokens: list[int], max_gen_toks: int, max_model_len: int, *args: Any, **kwargs: Any) -> Any:
        check(tokens, max_gen_toks, max_model_len)
        return original(tokens, max_gen_toks, max_model_len, *args, **kwargs)

    maybe_truncate.__conj_original__ = original  # type: ignore[attr-defined]
    model_utils.maybe_truncate = maybe_truncate
    for name in _TRUNCATING_MODULES:
        module = sys.modules.get(name)  # already imported (Python API users): patch its own reference too
        if module is not None and hasattr(module, "maybe_truncate"):
            module.maybe_truncate = maybe_truncate  # type: ignore[attr-defined]


# --- progress text ----------------------------------------------------------------------------------------------

# lm-eval's tqdm bar, e.g. "Running generate_until requests:  45%|####5     | 180/400 [00:12<00:14, 15.2it/s]"
#: The local backends' bar (``Running generate_until requests``) and the API client's (``Requesting API``).
_REQUEST_BAR = re.compile(r"(?:Running (\w+) requests|Requesting (API)):\s*(\d+)%\|[^|]*\|\s*(\d+)/(\d+)\s*"
                          r"\[([^<\]]*)<([^,\]]*)")


@dataclass(frozen=True)
class RequestProgress:
    """The last state of lm-eval's request bar seen in a child process's output."""

    request_type: str
    done: int
    total: int
    eta: str


def parse_request_progress(text: str) -> RequestProgress | None:
    """The latest request-bar state in ``text`` (a tail of a child's output), or None if it shows none."""
    matches = _REQUEST_BAR.findall(text)
    if not matches:
        return None
    kind, api, _pct, done, total, _elapsed, eta = matches[-1]
    return RequestProgress(kind or api, int(done), int(total), eta.strip())


# --- models -------------------------------------------------------------------------------------------------------


def model_types() -> list[str]:
    """Every model type lm-eval registers (``hf``, ``vllm``, ``local-completions``, ``sglang``, ...)."""
    check_version()
    import lm_eval.models  # noqa: F401 - registers the built-in model types
    from lm_eval.api.registry import model_registry

    return sorted(model_registry.keys())


def import_backend(backend: str) -> None:
    """Import what ``backend`` needs (torch, transformers, vLLM) without building anything: the slow part of a
    start-up, which a worker does while the previous model still runs."""
    check_version()
    import contextlib
    import importlib

    from lm_eval.api.registry import get_model

    model_class = get_model(backend)  # imports the backend's lm-eval module
    # transformers imports its model-loading and generation code lazily, at the first from_pretrained: seconds
    # (torch.distributed, dynamo) that would otherwise land after the gate, on the critical path
    local = ("torch", "transformers", "transformers.modeling_utils", "transformers.generation.utils")
    served = ("torch", "transformers")
    try:
        from lm_eval.models.api_models import TemplateAPI

        is_api = isinstance(model_class, type) and issubclass(model_class, TemplateAPI)
    except ImportError:
        is_api = False
    entry = backends.known(backend)
    for module in ("torch", "vllm") if entry is not None and entry.engine == "vllm" else served if is_api else local:
        # not needed by the backend (an API client), or creating the model will say what is missing
        with contextlib.suppress(ImportError):
            importlib.import_module(module)


def default_base_url(backend: str) -> str | None:
    """The server address lm-eval's ``backend`` uses when none is given (None: it needs one, e.g. ``local-*``)."""
    import inspect

    check_version()
    from lm_eval.api.registry import get_model

    cls = get_model(backend)
    for klass in getattr(cls, "__mro__", (cls,)):
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        param = inspect.signature(init).parameters.get("base_url")
        if param is not None and param.default is not inspect.Parameter.empty:
            return param.default if isinstance(param.default, str) else None
    return None


def create_model(backend: str, model_args: dict[str, Any], batch_size: str | int | None,
                 device: str | None) -> Any:
    """lm-eval's model object for ``backend`` (what ``lm_eval --model ... --model_args ...`` builds), once."""
    check_version()
    from lm_eval.api.registry import get_model

    return get_model(backend).create_from_arg_obj(dict(model_args), {"batch_size": batch_size, "device": device})


def reuse_env_info() -> None:
    """Make ``simple_evaluate`` compute its environment report once in this process and reuse it (a model worker
    runs one ``simple_evaluate`` per task; the report - library versions, GPUs, pip packages - cannot change)."""
    check_version()
    import copy

    import lm_eval.evaluator as evaluator

    original = evaluator.add_env_info
    if getattr(original, "conj_reused", False):
        return
    cached: dict[str, Any] = {}

    def add_env_info(storage: dict[str, Any]) -> None:
        if not cached:
            original(cached)
        storage.update(copy.deepcopy(cached))

    add_env_info.conj_reused = True  # type: ignore[attr-defined]
    evaluator.add_env_info = add_env_info


def set_adapter(lm: Any, backend: str, adapter: str | None) -> None:
    """Attach a LoRA adapter to a loaded model, or (``None``) detach it: the base and the tuned role on one load.

    vLLM: the model object's ``lora_request`` (the engine must have been started with ``enable_lora=True``) - every
    later generate call carries it or not. transformers: the adapter wraps lm-eval's model as a ``PeftModel``, and
    ``unload()`` removes its layers again without merging them, so the base weights are untouched.
    """
    check_version()
    entry = backends.known(backend)
    if entry is not None and entry.engine == "vllm":
        from vllm.lora.request import LoRARequest

        lm.lora_request = LoRARequest("tuned", 1, adapter) if adapter else None
        return
    from peft import PeftModel

    current = lm._model
    if adapter:
        if isinstance(current, PeftModel):
            raise RuntimeError("an adapter is already attached")
        lm._model = PeftModel.from_pretrained(current, adapter).eval()
    elif isinstance(current, PeftModel):
        lm._model = current.unload()


@dataclass(frozen=True)
class RenderedDoc:
    """One document as a built task renders it: prompt text, target, choices, description, generation prefix."""

    text: Any
    target: Any
    choices: list[Any] | None
    description: str | None
    gen_prefix: str | None


def render_doc(task: Any, doc: dict[str, Any], fewshot: bool) -> RenderedDoc:
    """``doc`` rendered by ``task`` as an evaluated document, or (``fewshot``) as a few-shot example - which uses
    the task's ``fewshot_config`` overrides of ``doc_to_text`` / ``doc_to_target`` / ``doc_to_choice`` /
    ``gen_prefix`` (``ConfigurableTask`` internals)."""
    config = task.config
    if fewshot:
        fcfg = task.fewshot_cfg
        text = task.doc_to_text(doc, fcfg.doc_to_text)
        target = task.doc_to_target(doc, fcfg.doc_to_target)
        choice_spec = fcfg.doc_to_choice or config.doc_to_choice
        choices = task.doc_to_choice(doc, choice_spec) if choice_spec else None
        gen_prefix = task.resolve_field(doc, fcfg.gen_prefix)
    else:
        text, target = task.doc_to_text(doc), task.doc_to_target(doc)
        choices = task.doc_to_choice(doc) if config.doc_to_choice else None
        gen_prefix = task.resolve_field(doc, config.gen_prefix)
    return RenderedDoc(text, target, list(choices) if choices else None,
                       task.resolve_field(doc, config.description) or None, gen_prefix or None)


def filter_answers(task: Any, docs: list[dict[str, Any]], answers: list[str]) -> dict[str, list[Any]]:
    """What each of ``task``'s filter pipelines makes of ``answers`` (one generation per document): per pipeline
    name, the filtered response per document (``ConfigurableTask._filters``, as ``evaluate`` applies them)."""
    from types import SimpleNamespace

    out: dict[str, list[Any]] = {}
    for ensemble in getattr(task, "_filters", None) or []:
        instances = [SimpleNamespace(resps=[a], doc=d, filtered_resps={}) for d, a in zip(docs, answers)]
        ensemble.apply(instances)
        out[ensemble.name] = [inst.filtered_resps[ensemble.name] for inst in instances]
    return out


def score_answers(task: Any, docs: list[dict[str, Any]], answers: list[str]) -> dict[str, dict[str, float]]:
    """What ``task`` scores when its ``docs`` are answered by ``answers`` (one generation per document): per filter
    pipeline (``strict-match``, ``flexible-extract``, ...), the mean of each numeric metric - the task's own filters
    and ``process_results``, as ``evaluate`` runs them (``ConfigurableTask._filters``)."""
    out: dict[str, dict[str, float]] = {}
    for name, filtered in filter_answers(task, docs, answers).items():
        values: dict[str, list[float]] = {}
        for doc, response in zip(docs, filtered):
            for metric, value in task.process_results(doc, [response]).items():
                if isinstance(value, (int, float)):
                    values.setdefault(metric, []).append(float(value))
        out[name] = {m: sum(v) / len(v) for m, v in values.items() if v}
    return out


@dataclass(frozen=True)
class FewshotSource:
    """Where a built task draws its few-shot examples from: a split (``split``; ``named`` is the task's own
    ``fewshot_config.split``, None when lm-eval falls back), or inline ``samples``, or nowhere."""

    split: str | None
    named: str | None
    samples: list[dict[str, Any]] | None


def fewshot_source(task: Any) -> FewshotSource:
    """The few-shot source lm-eval's ``Task.fewshot_docs`` uses: ``fewshot_config.split``, else inline samples,
    else the training split, the validation split, the test split - the first the task has."""
    config, fcfg = task.config, task.fewshot_cfg
    if fcfg.split:
        return FewshotSource(fcfg.split, fcfg.split, None)
    if fcfg.samples is not None:
        samples = fcfg.samples() if callable(fcfg.samples) else fcfg.samples
        return FewshotSource(None, None, list(samples))
    split = (config.training_split if task.has_training_docs() else
             config.validation_split if task.has_validation_docs() else config.test_split)
    return FewshotSource(split, None, None)
