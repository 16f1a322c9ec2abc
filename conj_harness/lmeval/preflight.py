"""The requested tasks, built and checked before any model loads; and what each one is (its fingerprint).

``compare``, ``conj-eval`` and ``conjugate`` share this one check: every task is built as lm-eval will build it
(its YAML with includes and templates, its documents loaded) and every evaluation document's prompt is rendered,
so a task that cannot run - no documents, a deleted data folder, a template that reads a field the rows lack, a
module its code needs - stops the command in seconds with one line naming the task and what to fix
(:func:`build_error`), instead of a traceback after a model load of minutes.

A built task's :class:`TaskFingerprint` says what it is: its rendered config (every key, ``!function`` values by the
digest of their module's source file) and its data (each evaluation document with its rendered prompt, target and
choices, and the few-shot pool). A compare records it with each unit it commits and re-runs a unit whose task no
longer has the same fingerprint, instead of reusing results made by another task under the same name.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conj_harness.errors import ConjError
from conj_harness.lmeval import compat

#: Document fields set from the run's settings, not the task's data (the safety judge, which the pair's identity
#: records and a change of which re-judges saved generations instead of re-running them).
RUN_FIELDS = frozenset({"judge"})
#: Bumped when what the fingerprint covers changes: an old fingerprint then reads as changed.
FINGERPRINT_VERSION = 1
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


# --- one line for a task that cannot be built --------------------------------------------------------------------


def build_error(name: str, error: BaseException, yaml_path: Path | str | None = None,
                config: dict[str, Any] | None = None, data_files: bool = False,
                local_files: str = "point the task's YAML at local files") -> ConjError:
    """One line for ``error``, raised while ``name`` was built or its documents rendered (``local_files``: how this
    command takes local data instead of a dataset it cannot download)."""
    where = f" in {yaml_path} (or the file it includes)" if yaml_path else ""
    if isinstance(error, ConjError):  # our own loaders already say what to do (a missing data folder, the mirror)
        return ConjError(f"{name}: {error}")
    if isinstance(error, ImportError):  # the task's own Python helpers (ifeval: immutabledict), not its data
        missing = getattr(error, "name", None) or str(error)
        return ConjError(f"cannot build {name}: its Python code needs the module {missing!r}, which is not installed "
                         f"here ({type(error).__name__}: {str(error)[:150]}): pip install it (the task's README names "
                         "its extras), then run again")
    cfg = config or {}
    splits = {str(cfg[k]) for k in ("test_split", "validation_split", "training_split", "fewshot_split") if cfg.get(k)}
    if isinstance(error, KeyError) and error.args and str(error.args[0]) in splits:
        return ConjError(f"cannot build {name}: its data has no split {error.args[0]!r}, which{where} names: check the "
                         "split names against the dataset's")
    if type(error).__module__.startswith("jinja2") or isinstance(error, KeyError):
        return ConjError(f"cannot build {name}: its prompt template fails ({type(error).__name__}: "
                         f"{_first_line(error)}): check doc_to_text / doc_to_target / doc_to_choice{where} against "
                         "the documents' fields")
    if isinstance(error, StopIteration) or (isinstance(error, IndexError) and "of size 0" in str(error)):
        return ConjError(f"{name} has no documents to evaluate (its test or validation split is empty): check its "
                         f"data{where}")
    if isinstance(error, (IndexError, TypeError, AttributeError)) and not data_files:
        return ConjError(f"cannot build {name}: its code or template fails on its documents ({type(error).__name__}: "
                         f"{_first_line(error)}): check it{where}")
    if data_files:
        return ConjError(f"cannot build {name} from --data-files ({type(error).__name__}: {_first_line(error)}): the "
                         "files were read; check that their fields are the ones the task's YAML reads")
    dataset = str(cfg.get("dataset_path") or "?")
    if cfg.get("dataset_name"):
        dataset += f" (config {cfg['dataset_name']})"
    return ConjError(
        f"cannot load the documents of {name}: dataset {dataset} ({type(error).__name__}: {_first_line(error)}). "
        f"Mirror it on a machine with network access (`hf download --repo-type dataset {cfg.get('dataset_path')}`, "
        f"then copy the Hugging Face cache and set HF_DATASETS_OFFLINE=1), or {local_files}")


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__


# --- the fingerprint -------------------------------------------------------------------------------------------


def _digest(data: bytes | str) -> str:
    return hashlib.sha256(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data).hexdigest()


_FILE_DIGESTS: dict[tuple[str, int, int], str] = {}


def _file_digest(path: str) -> str:
    """A source file's digest, cached while its size and modification time stay the same (an edited helper in a
    long-lived notebook is read again)."""
    stat = Path(path).stat()
    key = (path, stat.st_mtime_ns, stat.st_size)
    if key not in _FILE_DIGESTS:
        _FILE_DIGESTS[key] = _digest(Path(path).read_bytes())[:16]
    return _FILE_DIGESTS[key]


def _source_digest(obj: Any) -> str:
    """A callable as its qualified name and the digest of its module's source file (a helper it calls in the same
    file counts); not its module's dotted name or path, which depend on where the task folder is. Without a file,
    its repr without a memory address."""
    name = getattr(obj, "__qualname__", type(obj).__qualname__)
    try:
        path = inspect.getsourcefile(obj if inspect.isroutine(obj) or inspect.isclass(obj) else type(obj))
    except TypeError:
        path = None
    if path and Path(path).is_file():
        return f"{name}@{_file_digest(path)}"
    return _ADDRESS.sub("", f"{name}:{obj!r}")


#: Config keys that say where the task's files are, not what it is (the digest of what they point at counts).
_LOCATION_KEYS = frozenset({"config_source", "include", "data_dir", "data_files"})


def canonical(value: Any, key: str = "") -> Any:
    """A config value as plain, stable JSON data: callables by :func:`_source_digest`, no memory addresses, and an
    absolute path to an existing file or folder by its name only - the same task in another checkout, on another
    node, or with its data moved is the same task (its data is fingerprinted by content)."""
    if isinstance(value, dict):
        return {str(k): canonical(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(v, key) for v in value]
    if isinstance(value, str):
        if (key in _LOCATION_KEYS or value.startswith("/")) and len(value) < 4096 and Path(value).is_absolute() \
                and Path(value).exists():
            return f"<path>/{Path(value).name}"
        return _ADDRESS.sub("", value)  # lm-eval writes a nested function as "<function f at 0x7f...>"
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if callable(value):
        return _source_digest(value)
    return _ADDRESS.sub("", repr(value))


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=lambda v: _ADDRESS.sub("", repr(v)))


def portable_digest(config: dict[str, Any]) -> str:
    """The sha256 of a task config in its :func:`canonical` form."""
    return _digest(_json(canonical(config)))


@dataclass(frozen=True)
class TaskFingerprint:
    """What a task is: its rendered config and its data, each a sha256, with per-key digests that say what changed."""

    config: str
    data: str
    documents: int
    keys: dict[str, str] = field(default_factory=dict)
    version: int = FINGERPRINT_VERSION

    @property
    def digest(self) -> str:
        return _digest(f"{self.version}:{self.config}:{self.data}")

    @classmethod
    def from_record(cls, record: Any) -> TaskFingerprint | None:
        """A fingerprint read back from a ``done.json`` (None when there is none, or it is not one)."""
        if not isinstance(record, dict) or not all(isinstance(record.get(k), str) for k in ("config", "data")):
            return None
        keys: dict[str, str] = record["keys"] if isinstance(record.get("keys"), dict) else {}
        numbers = [record.get("documents"), record.get("version")]
        documents, version = (n if isinstance(n, int) and not isinstance(n, bool) else 0 for n in numbers)
        return cls(record["config"], record["data"], documents, dict(keys), version)

    def record(self) -> dict[str, Any]:
        return {"sha256": self.digest, "config": self.config, "data": self.data, "documents": self.documents,
                "keys": dict(self.keys), "version": self.version}

    def changes(self, old: Any) -> str | None:
        """None when ``old`` (a :meth:`record`) is this fingerprint; else what differs, in words."""
        if not isinstance(old, dict) or old.get("version") != self.version or "sha256" not in old:
            return "it was recorded without this version's task fingerprint"
        if old.get("sha256") == self.digest:
            return None
        parts = []
        if old.get("config") != self.config:
            keys: dict[str, str] = old["keys"] if isinstance(old.get("keys"), dict) else {}
            changed = sorted(k for k in set(keys) | set(self.keys) if keys.get(k) != self.keys.get(k))
            parts.append(f"its config ({', '.join(changed[:6])}{', ...' if len(changed) > 6 else ''})" if changed
                         else "its config")
        if old.get("data") != self.data:
            before, now = old.get("documents"), self.documents
            parts.append("its documents" + (f" ({before} -> {now})" if before != now else ""))
        return " and ".join(parts) or "its fingerprint"


def _rows(docs: Any) -> list[Any]:
    if docs is None:
        return []
    if hasattr(docs, "to_list"):  # a datasets.Dataset: converted in one batch, not row by row
        return list(docs.to_list())
    return list(docs)


def _without_run_fields(doc: Any) -> Any:
    return {k: v for k, v in doc.items() if k not in RUN_FIELDS} if isinstance(doc, dict) else doc


def fingerprint(task: Any, run_metadata: dict[str, Any] | None = None) -> TaskFingerprint:
    """The fingerprint of a built lm-eval task; every evaluation document's prompt is rendered on the way, so a
    template that fails on any document fails here (``run_metadata``: what the run added to the task's metadata,
    left out). Raises what the task's own code raises."""
    config = canonical(task.config.to_dict(keep_callable=True))
    meta = config.get("metadata")
    if isinstance(meta, dict) and run_metadata:
        config["metadata"] = {k: v for k, v in meta.items() if k not in run_metadata}
    keys = {k: _digest(_json(v))[:12] for k, v in config.items()}
    data = hashlib.sha256()
    docs = _rows(task.eval_docs)
    for doc in docs:
        text = task.doc_to_text(doc)
        target = task.doc_to_target(doc)
        choices = task.doc_to_choice(doc) if task.config.doc_to_choice is not None else None
        data.update((_json([_without_run_fields(doc), text, target, choices]) + "\n").encode("utf-8", "surrogatepass"))
    data.update(b"fewshot\n")
    try:  # where lm-eval draws few-shot examples from: a split of their own, else training, validation or test
        source = task.fewshot_docs()
    except Exception:  # noqa: BLE001 - a task without a pool; its config says where examples come from
        source = None
    if source is not None and source is not task.eval_docs:
        for doc in _rows(source):
            data.update((_json(_without_run_fields(doc)) + "\n").encode("utf-8", "surrogatepass"))
    return TaskFingerprint(config=_digest(_json(config)), data=data.hexdigest(), documents=len(docs), keys=keys)


# --- building the requested tasks ---------------------------------------------------------------------------------


@dataclass
class CheckedTasks:
    """The requested tasks, built: each one's fingerprint (what a compare records with its results)."""

    fingerprints: dict[str, TaskFingerprint]


def check_tasks(names: Sequence[str], include_path: Any = None, metadata: dict[str, Any] | None = None,
                builtins: bool | None = None) -> CheckedTasks:
    """Build every task of ``names`` (resolved task names) as lm-eval will, render its prompts and fingerprint it;
    the first that cannot run raises :class:`ConjError` in one line (:func:`build_error`).

    ``metadata``: what the run gives lm-eval's task manager (the model args and ``--metadata``: some tasks read it);
    ``builtins``: index lm-eval's built-in tasks (default: only when a name is not one of the local folders').
    """
    from conj_harness.lmeval.registration import ConjTaskManager, search_paths

    if not names:
        return CheckedTasks({})
    index = compat.task_index(search_paths(include_path))
    if builtins is None:
        builtins = any(n not in index for n in names)
    manager = ConjTaskManager(include_path=include_path, include_defaults=builtins, metadata=metadata or None)
    known = manager.task_index
    prints = {}
    for name in names:
        entry = known.get(name)
        yaml_path = getattr(entry, "yaml_path", None)
        config = dict(getattr(entry, "cfg", None) or {})
        try:
            with compat.quiet_task_building():
                built = manager.load([name])["tasks"]
                task = next(iter(built.values())) if len(built) == 1 else built[name]
                prints[name] = fingerprint(task, metadata)
        except Exception as e:  # noqa: BLE001 - a task's code and its dataset loader raise anything
            raise build_error(name, e, yaml_path, config) from None
    return CheckedTasks(prints)


def requested_names(tasks: Iterable[str]) -> list[str]:
    """Task names as lm-eval's ``--tasks`` gives them (a list, or one comma-separated string)."""
    return [t.strip() for item in tasks for t in str(item).split(",") if t.strip()]
