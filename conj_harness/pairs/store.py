"""The results folder of a comparison: the only module that knows its layout, writes its records and holds its lock.

Layout of ``results/<name>/`` (a :class:`PairStore`)::

    pair.json                  what this folder holds: both models, adapter, backend, tasks, limit, model args,
                               chat-template settings (a different pair is refused unless --force)
    tokenizers.json            tokenizer class / vocabulary of both models (when they can be loaded locally)
    launches.jsonl             one line per lm-eval process started (what a resume re-ran)
    base/<task>/               results.json, samples.jsonl (lm-eval's files), eval.log, done.json (written last)
    tuned/<task>/              ... or failed.json (return code and the log's tail) when the run failed
    cache/<role>/lm_cache*.db  lm-eval's request cache, one per model (lm-eval's cache does not key by model)
    .tmp/                      scratch output of the lm-eval process running now
    .lock                      held by the compare writing here
    summary.json, table.csv, report.md, *.png   the report (conj_harness.report)

A ``compare --pairs`` folder (a :class:`MultiPairStore`) holds ``pairs.json`` and one :class:`PairStore` per pair.
A ``report --base-run A --tuned-run B`` folder holds a ``pair.json`` of kind ``runs`` that points at the two
lm-eval output folders (:meth:`PairStore.prepare_runs`).

Every (model, task) unit is committed atomically: its files are written with :mod:`conj_harness.files.atomic` and
``done.json`` last, so a unit is complete iff its ``done.json`` exists and matches the role's identity.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

from conj_harness.errors import ConjError
from conj_harness.files import atomic
from conj_harness.files.jsonl import read_json_or_none
from conj_harness.pairs.spec import ROLES, PairSpec

PAIR_FILE = "pair.json"
PAIRS_FILE = "pairs.json"
TOKENIZERS_FILE = "tokenizers.json"
LAUNCH_LOG = "launches.jsonl"
SCHEMA = 1

UnitState = Literal["done", "failed", "pending"]


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")


def _visible_entries(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if not p.name.startswith(".")] if folder.is_dir() else []


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """Hold ``folder/.lock``: a second writer into the same folder stops instead of mixing files."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        lock_file = open(folder / ".lock", "a+", encoding="utf-8")  # noqa: SIM115 - held for the whole block
    except OSError as e:
        raise ConjError(f"cannot write to {folder}: {e.strerror}") from None
    with lock_file as f:
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock
            yield
            return
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.seek(0)
            holder = f.read().strip() or "?"
            raise ConjError(f"another `conj-harness compare` (pid {holder}) is writing to {folder}; wait for it to "
                            "finish, or use another --output") from None
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        try:
            yield
        finally:
            if not (folder / PAIR_FILE).exists() and not (folder / PAIRS_FILE).exists():
                (folder / ".lock").unlink(missing_ok=True)  # refused a foreign folder: leave it as it was
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _refuse_foreign(folder: Path, record: dict | None, accepts: bool, what: str, force: bool) -> None:
    """The one guard against writing into a folder that holds something else (``--force`` overrides it)."""
    if force:
        return
    if record is None and _visible_entries(folder):
        raise ConjError(f"{folder} is not empty and holds no {what}: choose another --output, or pass --force to "
                        "write into it anyway")
    if record is not None and not accepts:
        raise ConjError(f"{folder} holds another pair's results: choose another --output, or pass --force to "
                        "replace them")


class PairStore:
    """One pair's results folder (see the module docstring for its layout)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        #: Roles whose results were made by another judge, found by :meth:`prepare` (to be re-judged).
        self.judge_changed: list[str] = []

    # --- paths ------------------------------------------------------------------------------------------------
    def unit_dir(self, role: str, task: str) -> Path:
        return self.root / role / task

    def samples_path(self, role: str, task: str) -> Path:
        return self.unit_dir(role, task) / "samples.jsonl"

    def log_path(self, role: str, tasks: list[str]) -> Path:
        """Where the log of one lm-eval process goes: the unit's folder, or the role's for a multi-task process."""
        if len(tasks) == 1:
            return self.unit_dir(role, tasks[0]) / "eval.log"
        return self.root / role / f"eval_{len(tasks)}_tasks.log"

    def request_cache(self, role: str) -> Path:
        """lm-eval's ``--use_cache`` prefix for one role (its folder is created)."""
        folder = self.root / "cache" / role
        folder.mkdir(parents=True, exist_ok=True)
        return folder / "lm_cache"

    def scratch(self, role: str, tasks: list[str]) -> Path:
        """An empty folder for one lm-eval process's ``--output_path``."""
        tag = tasks[0] if len(tasks) == 1 else f"{len(tasks)}_tasks"
        folder = self.root / ".tmp" / f"{role}__{tag}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        return folder

    def clear_scratch(self) -> None:
        shutil.rmtree(self.root / ".tmp", ignore_errors=True)

    def relative(self, path: Path) -> str:
        return str(path.relative_to(self.root))

    # --- the pair record --------------------------------------------------------------------------------------
    def lock(self) -> contextlib.AbstractContextManager[None]:
        return _folder_lock(self.root)

    def record(self) -> dict[str, Any] | None:
        """``pair.json``, or None when the folder holds none (or it cannot be read)."""
        record = read_json_or_none(self.root / PAIR_FILE)
        return record if isinstance(record, dict) else None

    def prepare(self, spec: PairSpec, tasks: list[str], force: bool) -> dict[str, Any]:
        """Check that the folder is empty or holds this pair (or ``force``), then write ``pair.json``.

        With ``force``, a role whose identity changed loses its results and request cache (the cache does not key
        by model, so keeping it would serve the old model's answers); the other role's results are kept.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        record = self.record()
        changed = [r for r in ROLES if record is not None and (record.get(r) or {}).get("identity") != spec.identity(r)]
        # Only the judge differs: the generations stand, the runner re-judges them (no inference, no --force).
        self.judge_changed = [r for r in changed if _without_judge((record or {}).get(r, {}).get("identity"))
                              == _without_judge(spec.identity(r))]
        changed = [r for r in changed if r not in self.judge_changed]
        if record is not None and changed and not force:
            raise ConjError(f"{self.root} holds another pair's results ({_describe_change(record, spec, changed)}): "
                            "choose another --output, or pass --force to replace them")
        _refuse_foreign(self.root, record, True, f"{PAIR_FILE} (not a compare folder, or a multi-pair folder)", force)
        for role in changed:
            shutil.rmtree(self.root / role, ignore_errors=True)
            shutil.rmtree(self.root / "cache" / role, ignore_errors=True)
        previous = list((record or {}).get("tasks") or [])
        self.clear_scratch()
        new = {
            "schema": SCHEMA,
            "name": spec.name or self.root.name,
            "backend": spec.backend,
            "tasks": previous + [t for t in tasks if t not in previous],
            "requested_tasks": tasks,
            "limit": spec.limit,
            "seed": spec.seed,
            "gen_kwargs": spec.gen_kwargs,
            "batch_size": spec.batch_size,
            "device": spec.device,
            "include_path": spec.include_path,
            **{role: {"model": spec.model(role), "adapter": spec.adapter(role),
                      "chat_template": spec.chat_template(role), "model_args": spec.lm_eval_model_args(role),
                      "identity": spec.identity(role)} for role in ROLES},
            "spec": asdict(spec),
        }
        atomic.write_json(self.root / PAIR_FILE, new)
        return new

    def prepare_runs(self, base_run: str, tuned_run: str, force: bool) -> dict[str, Any]:
        """Make this folder the report of two lm-eval output folders (``report --base-run/--tuned-run``)."""
        record = {"kind": "runs", "name": self.root.name, "base_run": base_run, "tuned_run": tuned_run}
        old = self.record()
        same = old is not None and (old.get("kind"), old.get("base_run"), old.get("tuned_run")) == \
            ("runs", base_run, tuned_run)
        _refuse_foreign(self.root, old, same, "report", force)
        atomic.write_json(self.root / PAIR_FILE, record)
        return record

    def write_tokenizers(self, info: dict[str, Any]) -> None:
        atomic.write_json(self.root / TOKENIZERS_FILE, info)

    def tokenizers(self) -> dict[str, Any] | None:
        return read_json_or_none(self.root / TOKENIZERS_FILE)

    def log_launch(self, role: str, tasks: list[str], cmd: list[str]) -> None:
        with open(self.root / LAUNCH_LOG, "a", encoding="utf-8") as f:
            f.write(json.dumps({"role": role, "tasks": tasks, "time": _now(), "cmd": cmd}) + "\n")

    # --- units ------------------------------------------------------------------------------------------------
    def state(self, role: str, task: str, identity: dict[str, Any] | None) -> UnitState:
        """``done`` (committed under ``identity``; any identity when it is None), ``failed`` or ``pending``."""
        unit = self.unit_dir(role, task)
        done = read_json_or_none(unit / "done.json")
        if isinstance(done, dict) and (identity is None or done.get("identity") == identity) \
                and (unit / "samples.jsonl").is_file():
            return "done"
        return "failed" if (unit / "failed.json").is_file() else "pending"

    def commit(self, role: str, task: str, results: dict[str, Any], samples: bytes, done: dict[str, Any]) -> None:
        """Write one unit's results and samples, then ``done.json`` (the commit point)."""
        unit = self.unit_dir(role, task)
        atomic.write_json(unit / "results.json", results)
        atomic.write_bytes(unit / "samples.jsonl", samples)
        (unit / "failed.json").unlink(missing_ok=True)
        atomic.write_json(unit / "done.json", {"role": role, "task": task, **done, "finished_at": _now()})

    def record_failure(self, role: str, task: str, failure: dict[str, Any]) -> None:
        atomic.write_json(self.unit_dir(role, task) / "failed.json",
                          {"role": role, "task": task, **failure, "finished_at": _now()})

    def failure(self, role: str, task: str) -> dict[str, Any]:
        info = read_json_or_none(self.unit_dir(role, task) / "failed.json")
        return info if isinstance(info, dict) else {"error": "failed (unreadable failed.json)"}

    def results(self, role: str, task: str) -> dict[str, Any]:
        info = read_json_or_none(self.unit_dir(role, task) / "results.json")
        return info if isinstance(info, dict) else {}

    def tasks(self) -> list[str]:
        """The record's tasks, then any other task folder found under either role."""
        tasks = list((self.record() or {}).get("tasks") or [])
        for role in ROLES:
            role_dir = self.root / role
            found = sorted(p.name for p in role_dir.iterdir() if p.is_dir()) if role_dir.is_dir() else []
            tasks += [t for t in found if t not in tasks]
        return tasks


def _without_judge(identity: Any) -> Any:
    return {k: v for k, v in identity.items() if k != "judge"} if isinstance(identity, dict) else identity


def _describe_change(record: dict[str, Any], spec: PairSpec, changed: list[str]) -> str:
    old = f"base {(record.get('base') or {}).get('identity', {}).get('model')} vs tuned " \
          f"{(record.get('tuned') or {}).get('identity', {}).get('model')}"
    diffs = []
    for role in changed:
        old_id, new_id = (record.get(role) or {}).get("identity") or {}, spec.identity(role)
        keys = [k for k in new_id if old_id.get(k) != new_id.get(k)]
        if len(keys) > 1 and "model_args" in keys:  # model_args repeats the model / adapter change
            keys.remove("model_args")
        diffs += [f"{role} {k}: {old_id.get(k)!r} -> {new_id.get(k)!r}" for k in keys]
    return f"{old}; differs in {'; '.join(diffs)}"


class MultiPairStore:
    """A ``compare --pairs`` folder: ``pairs.json`` (the pair names) and one :class:`PairStore` per pair."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def lock(self) -> contextlib.AbstractContextManager[None]:
        return _folder_lock(self.root)

    def record(self) -> dict[str, Any] | None:
        record = read_json_or_none(self.root / PAIRS_FILE)
        return record if isinstance(record, dict) else None

    def prepare(self, names: list[str], force: bool) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        record = self.record()
        if record is None and not force and (self.root / PAIR_FILE).exists():
            raise ConjError(f"{self.root} holds a single pair's results: choose another --output for --pairs, or "
                            "--force")
        _refuse_foreign(self.root, record, True, PAIRS_FILE, force)
        old = list((record or {}).get("pairs") or [])
        atomic.write_json(self.root / PAIRS_FILE, {"schema": SCHEMA, "pairs": old + [n for n in names if n not in old]})

    def pair_names(self) -> list[str]:
        return [str(n) for n in (self.record() or {}).get("pairs") or []]

    def pair(self, name: str) -> PairStore:
        return PairStore(self.root / name)


def is_multi_pair(folder: str | os.PathLike[str]) -> bool:
    return (Path(folder) / PAIRS_FILE).is_file()
