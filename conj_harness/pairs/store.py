"""The results folder of a comparison: the only module that knows its layout, writes its records and holds its lock.

Layout of ``results/<name>/`` (a :class:`PairStore`)::

    pair.json                  what this folder holds: both models, adapter, backend, tasks, limit, model args,
                               chat-template settings (a different pair is refused unless --force)
    tokenizers.json            tokenizer class / vocabulary of both models (when they can be loaded locally)
    launches.jsonl             one line per lm-eval process started (what a resume re-ran)
    loads.jsonl                one line per model load (roles served, seconds): what the benchmarks count
    base/<task>/               results.json, samples.jsonl (lm-eval's files), done.json (written last)
    tuned/<task>/              ... or failed.json (the error and the log's tail) when the run failed;
                               .claim: locked by the process running this unit now
    base/*.log, tuned/*.log    the workers' logs (one per process; per unit with --process-per task)
    cache/<role>/<task>/       lm-eval's request cache (lm-eval's cache does not key by model, hence per role;
                               per task, so that processes on several nodes never share one SQLite file)
    .tmp/<host>-<pid>/         scratch output of the lm-eval process that process runs now
    .lock                      shared by every compare writing here; exclusive for a change of the pair
    summary.json, table.csv, report.md, *.png   the report (conj_harness.report)

A ``compare --pairs`` folder (a :class:`MultiPairStore`) holds ``pairs.json`` and one :class:`PairStore` per pair.
A ``report --base-run A --tuned-run B`` folder holds a ``pair.json`` of kind ``runs`` that points at the two
lm-eval output folders (:meth:`PairStore.prepare_runs`).

Every (model, task) unit is committed atomically: its files are written with :mod:`conj_harness.files.atomic` and
``done.json`` last, so a unit is complete iff its ``done.json`` exists and matches the role's identity.

Several compares may write into one folder at once - the same pair on several nodes, each with its own tasks or
even the same ones: each holds ``.lock`` shared, changes ``pair.json`` only under ``.pair.lock``, and runs a unit
only while holding its ``.claim`` (:meth:`PairStore.claim`), so no unit runs twice and none is half-written.
Replacing results (``--force``, a changed identity) or re-judging needs the folder alone (``.lock`` exclusive).
The locks are ``flock`` locks: on a shared filesystem they need one that supports them across nodes (NFSv4 does;
Lustre with ``-o flock``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import socket
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from conj_harness.errors import ConjError
from conj_harness.files import atomic, jsonl, locks, names, redact
from conj_harness.files.jsonl import read_json_or_none
from conj_harness.pairs.spec import ROLES, PairSpec

if TYPE_CHECKING:
    from conj_harness.lmeval.preflight import TaskFingerprint

PAIR_FILE = "pair.json"
PAIRS_FILE = "pairs.json"
TOKENIZERS_FILE = "tokenizers.json"
LAUNCH_LOG = "launches.jsonl"
LOAD_LOG = "loads.jsonl"
SCHEMA = 1
#: How long a compare waits for another one's short exclusive hold (a pair.json change) before it gives up.
LOCK_WAIT_S = 3.0

UnitState = Literal["done", "failed", "pending"]


def _role(role: str) -> str:
    if role not in ROLES:
        raise ConjError(f"unknown role {role!r}: the roles are {', '.join(ROLES)}")
    return role


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")


def _visible_entries(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if not p.name.startswith(".")] if folder.is_dir() else []


def process_tag() -> str:
    """``<host>-<pid>``: who holds a claim or a scratch folder, also across the nodes of a cluster."""
    return f"{socket.gethostname()}-{os.getpid()}"


class FolderLock:
    """``folder/.lock``, held shared by each compare writing into the folder, or exclusive by one that must be alone.

    ``acquire(shared=True)`` takes it exclusive when no one else holds it (:attr:`alone`: this compare may replace
    results or re-judge, then calls :meth:`share`), else joins the others' shared hold.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.file: Any = None
        self.alone = False

    def busy_error(self) -> ConjError:
        holder = locks.holder(self.file) if self.file is not None else "?"
        return ConjError(f"another `conj-harness compare` ({holder}) is writing to {self.folder}; wait for it to "
                         "finish, or use another --output")

    def acquire(self, shared: bool) -> None:
        if not locks.AVAILABLE:  # not POSIX: no lock
            self.alone = True
            return
        self.file = locks.open_lock_file(names.inside(self.folder, self.folder / ".lock"))
        if locks.try_lock(self.file):
            self.alone = True
        elif not shared or not locks.try_lock(self.file, exclusive_lock=False, wait=LOCK_WAIT_S):
            error = self.busy_error()
            self.file.close()
            self.file = None
            raise error
        locks.stamp(self.file, process_tag())

    def share(self) -> None:
        """Let other compares join from now on (after this one prepared the folder alone)."""
        if self.file is not None and self.alone:
            locks.share(self.file)

    def release(self) -> None:
        if self.file is None:
            return
        if not (self.folder / PAIR_FILE).exists() and not (self.folder / PAIRS_FILE).exists() \
                and locks.try_lock(self.file):
            for name in (".lock", ".pair.lock"):  # refused a foreign folder: leave it as it was
                (self.folder / name).unlink(missing_ok=True)
        locks.release(self.file)
        self.file.close()
        self.file = None


@contextlib.contextmanager
def _folder_lock(folder: Path, shared: bool = False) -> Iterator[FolderLock]:
    """Hold ``folder/.lock`` (see :class:`FolderLock`); a writer that cannot get it stops with one line."""
    lock = FolderLock(folder)
    lock.acquire(shared)
    try:
        yield lock
    finally:
        lock.release()


@contextlib.contextmanager
def _record_lock(folder: Path) -> Iterator[None]:
    """``folder/.pair.lock``, exclusive and briefly: one read-modify-write of the folder's record at a time."""
    with locks.exclusive(names.inside(folder, folder / ".pair.lock")):
        yield


class Claim:
    """A unit's ``.claim``, held while one process runs it (see :meth:`PairStore.claim`)."""

    def __init__(self, file: Any) -> None:
        self.file = file

    def release(self) -> None:
        if self.file is not None:
            locks.release(self.file)
            self.file.close()
            self.file = None


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
        #: This run's credential values (:meth:`prepare` takes them from the spec): masked in every file written.
        self.secrets: frozenset[str] = frozenset()

    # --- paths ------------------------------------------------------------------------------------------------
    def path(self, *parts: str) -> Path:
        """A path under the folder, checked to stay inside it once links are followed: every file and folder the
        store opens, creates or removes comes from here (a linked ``cache/base`` or ``.tmp`` that leads elsewhere is
        refused in one line, never written through)."""
        return names.inside(self.root, self.root.joinpath(*parts))

    def unit_dir(self, role: str, task: str) -> Path:
        """``<role>/<task>``: both names checked, so no unit is ever written outside the folder."""
        return self.path(_role(role), names.check(task, "task", str(self.root / PAIR_FILE)))

    def samples_path(self, role: str, task: str) -> Path:
        return self.unit_dir(role, task) / "samples.jsonl"

    def unit_log(self, role: str, task: str) -> Path:
        """The log of a one-task process (``--process-per task``)."""
        return self.unit_dir(role, task) / "eval.log"

    def worker_log(self, roles: list[str], number: int) -> Path:
        """The log of one model worker: ``<first role>/worker_<roles>_<host>-<pid>_<n>.log``."""
        return self.path(_role(roles[0]), f"worker_{'+'.join(map(_role, roles))}_{process_tag()}_{number}.log")

    def request_cache(self, role: str, task: str) -> Path:
        """lm-eval's ``--use_cache`` prefix for one unit (its folder is created, inside the folder)."""
        folder = self.path("cache", _role(role), names.check(task, "task"))
        folder.mkdir(parents=True, exist_ok=True)
        return names.inside(self.root, folder) / "lm_cache"

    def request_cache_template(self, role: str) -> str:
        """:meth:`request_cache` with ``{task}`` for the task: for a worker that learns its tasks one at a time (the
        parent creates and checks each unit's folder before it hands the unit out)."""
        return str(self.path("cache", _role(role)) / "{task}" / "lm_cache")

    def scratch(self, name: str) -> Path:
        """An empty folder under this process's own scratch space (``.tmp/<host>-<pid>/<name>``)."""
        own = self.path(".tmp", process_tag())
        folder = self.path(".tmp", process_tag(), names.check(name, "scratch folder"))
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        os.chmod(names.inside(self.root, own), 0o700)  # lm-eval's own results (model args and all) pass through here
        return folder

    def clear_scratch(self, everyone: bool = False) -> None:
        """Remove this process's scratch space (``everyone``: all of ``.tmp``, for a compare that is alone)."""
        target = self.path(".tmp") if everyone else self.path(".tmp", process_tag())
        shutil.rmtree(target, ignore_errors=True)
        with contextlib.suppress(OSError):
            self.path(".tmp").rmdir()  # gone when no one else has scratch left

    def claim(self, role: str, task: str) -> Claim | str:
        """Lock one unit for this process: a :class:`Claim` to release after its commit, or who holds it now."""
        if not locks.AVAILABLE:
            return Claim(None)
        f = locks.open_lock_file(names.inside(self.root, self.unit_dir(role, task) / ".claim"))
        if not locks.try_lock(f):
            holder = locks.holder(f)
            f.close()
            return holder
        locks.stamp(f, process_tag())
        return Claim(f)

    def relative(self, path: Path) -> str:
        """``path`` relative to the folder (``../<pair>/...`` for another pair's log: a study's shared run)."""
        return os.path.relpath(path, self.root)

    # --- the pair record --------------------------------------------------------------------------------------
    def lock(self, shared: bool = False) -> contextlib.AbstractContextManager[FolderLock]:
        """The folder's lock: exclusive (re-judging), or ``shared`` by compares running units side by side."""
        return _folder_lock(self.root, shared)

    def record(self) -> dict[str, Any] | None:
        """``pair.json``, or None when the folder holds none (or it cannot be read)."""
        record = read_json_or_none(self.root / PAIR_FILE)
        return record if isinstance(record, dict) else None

    def prepare(self, spec: PairSpec, tasks: list[str], force: bool, alone: bool = True) -> dict[str, Any]:
        """Check that the folder is empty or holds this pair (or ``force``), then write ``pair.json``.

        With ``force``, a role whose identity changed loses its results and request cache (the cache does not key
        by model, so keeping it would serve the old model's answers); the other role's results are kept.
        ``alone=False`` (other compares are writing here): only this same pair may join; its tasks are added.
        """
        self.secrets = spec.secrets()
        self.root.mkdir(parents=True, exist_ok=True)
        with _record_lock(self.root):
            return self._prepare(spec, tasks, force, alone)

    def _prepare(self, spec: PairSpec, tasks: list[str], force: bool, alone: bool) -> dict[str, Any]:
        record = self.record()
        changed = [r for r in ROLES if record is not None and (record.get(r) or {}).get("identity") != spec.identity(r)]
        # Only the judge differs: the generations stand, the runner re-judges them (no inference, no --force).
        self.judge_changed = [r for r in changed if _without_judge((record or {}).get(r, {}).get("identity"))
                              == _without_judge(spec.identity(r))]
        changed = [r for r in changed if r not in self.judge_changed]
        if not alone and (changed or self.judge_changed or (record is None and _visible_entries(self.root))):
            raise ConjError(f"another `conj-harness compare` is writing to {self.root} with other settings; "
                            "--force, a new judge or another pair need the folder alone: wait for it to finish")
        if record is not None and changed and not force:
            raise ConjError(f"{self.root} holds another pair's results ({_describe_change(record, spec, changed)}): "
                            "choose another --output, or pass --force to replace them")
        _refuse_foreign(self.root, record, True, f"{PAIR_FILE} (not a compare folder, or a multi-pair folder)", force)
        for role in changed:
            shutil.rmtree(self.path(role), ignore_errors=True)
            shutil.rmtree(self.path("cache", role), ignore_errors=True)
        previous = list((record or {}).get("tasks") or [])
        self.clear_scratch(everyone=alone)
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
                      "chat_template": spec.chat_template(role), "model_args": spec.recorded_model_args(role),
                      "identity": spec.identity(role)} for role in ROLES},
            "spec": asdict(spec),
        }
        new = self._write_json(self.root / PAIR_FILE, new)
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
        self._write_json(self.root / TOKENIZERS_FILE, info)

    def tokenizers(self) -> dict[str, Any] | None:
        return read_json_or_none(self.root / TOKENIZERS_FILE)

    def log_launch(self, role: str, tasks: list[str], cmd: list[str], process: str | None = None) -> None:
        """One line per (process, role): what a resume re-ran. A worker serving two roles writes two lines with
        the same ``process``."""
        self._append(LAUNCH_LOG, {"role": role, "tasks": tasks, "time": _now(), "process": process,
                                  "cmd": redact.redact(cmd, self.secrets)})

    def log_load(self, roles: list[str], seconds: float, process: str | None = None,
                 node: str | None = None) -> None:
        """One line per model load (the roles it served; the Ray node it loaded on): the figure
        ``bench/bench_compare.py`` counts."""
        self._append(LOAD_LOG, {"roles": roles, "seconds": round(seconds, 1), "time": _now(), "process": process,
                                **({"node": node} if node else {})})

    def loads(self) -> list[dict[str, Any]]:
        try:
            return jsonl.read_rows(self.path(LOAD_LOG))
        except ConjError:
            return []

    def _append(self, name: str, record: dict[str, Any]) -> None:
        jsonl.append(self.path(name), redact.redact(record, self.secrets))

    def _write_json(self, path: Path, obj: Any) -> Any:
        """Every JSON file of the folder is written here: credentials masked (:mod:`conj_harness.files.redact`),
        the path checked to stay inside the folder. Returns what was written."""
        clean = redact.redact(obj, self.secrets)
        atomic.write_json(names.inside(self.root, path), clean)
        return clean

    # --- units ------------------------------------------------------------------------------------------------
    def status(self, role: str, task: str, identity: dict[str, Any] | None = None,
               fingerprint: TaskFingerprint | None = None, unverified_ok: bool = False) -> UnitStatus:
        """Where a unit stands. ``done``: committed under ``identity`` (any, when None), its files as committed
        (sizes, sample count and sha256 checked) and - given a ``fingerprint`` - made by the same task; a unit that
        was committed but fails a check is ``pending`` again, with the reason. ``unverified_ok``: a unit an older
        conj-harness committed without digests counts as done, flagged ``unverified`` (a report reads it; a compare
        runs it again)."""
        unit = self.unit_dir(role, task)
        done_file = unit / "done.json"
        if done_file.exists():
            done = read_json_or_none(done_file)
            if not isinstance(done, dict):
                return UnitStatus("pending", "its done.json cannot be read")
            if identity is None or done.get("identity") == identity:
                if unverified_ok and not isinstance(done.get("files"), dict) and (unit / "samples.jsonl").is_file():
                    return UnitStatus("done", unverified=True)
                reason = _verify_files(unit, done)
                if reason is None and fingerprint is not None:
                    reason = fingerprint.changes(done.get("task_fingerprint"))
                    reason = None if reason is None else f"its task changed since it ran: {reason}"
                if reason is None:
                    return UnitStatus("done")
                return UnitStatus("pending", reason)
        return UnitStatus("failed") if (unit / "failed.json").is_file() else UnitStatus("pending")

    def state(self, role: str, task: str, identity: dict[str, Any] | None,
              fingerprint: TaskFingerprint | None = None) -> UnitState:
        """``done``, ``failed`` or ``pending`` (see :meth:`status`)."""
        return self.status(role, task, identity, fingerprint).state

    def commit(self, role: str, task: str, results: dict[str, Any], samples: bytes, done: dict[str, Any]) -> None:
        """Write one unit's results and samples, then ``done.json`` (the commit point), which records the sample
        count and the sha256 of both files: a resume trusts only files that are still exactly these."""
        unit = self.unit_dir(role, task)
        self._write_json(unit / "results.json", results)  # lm-eval's: its config holds the model args
        clean_samples = redact.redact_bytes(samples, self.secrets, keys=False)
        atomic.write_bytes(unit / "samples.jsonl", clean_samples)
        (unit / "failed.json").unlink(missing_ok=True)
        results_bytes = (unit / "results.json").read_bytes()
        self._write_json(unit / "done.json", {
            "role": role, "task": task, **done, "n_samples": count_records(clean_samples),
            "files": {"samples.jsonl": _sha256(clean_samples), "results.json": _sha256(results_bytes)},
            "finished_at": _now()})

    def adopt(self, role: str, task: str, source: PairStore, source_role: str) -> None:
        """Commit a unit another pair of the same study finished under the same identity and task (a shared base
        runs once): its files copied, ``done.json`` saying where from. The caller checked the source is done."""
        done = source.done_record(source_role, task)
        results = read_json_or_none(source.unit_dir(source_role, task) / "results.json")
        samples = source.samples_path(source_role, task).read_bytes()
        keep = {k: v for k, v in done.items() if k in ("metrics", "seconds", "identity", "task_fingerprint")}
        self.commit(role, task, results if isinstance(results, dict) else {}, samples,
                    {**keep, "log": "", "shared_from": f"{source.root.name}/{_role(source_role)}/{task}"})

    def done_record(self, role: str, task: str) -> dict[str, Any]:
        """A committed unit's ``done.json`` (``{}`` when it has none)."""
        record = read_json_or_none(self.unit_dir(role, task) / "done.json")
        return record if isinstance(record, dict) else {}

    def set_identity(self, role: str, task: str, identity: dict[str, Any]) -> None:
        """Give a committed unit a new identity (a judge change that does not touch its task's files)."""
        done_file = self.unit_dir(role, task) / "done.json"
        record = read_json_or_none(done_file)
        if isinstance(record, dict):
            self._write_json(done_file, {**record, "identity": identity})

    def record_failure(self, role: str, task: str, failure: dict[str, Any]) -> None:
        self._write_json(self.unit_dir(role, task) / "failed.json",
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
        for task in tasks:  # an edited pair.json must not point the store (or a rejudge) outside the folder
            names.check(task, "task", str(self.root / PAIR_FILE))
        for role in ROLES:
            role_dir = self.path(role)
            found = sorted(p.name for p in role_dir.iterdir() if p.is_dir() and names.is_safe(p.name)) \
                if role_dir.is_dir() else []
            tasks += [t for t in found if t not in tasks]
        return tasks


@dataclass(frozen=True)
class UnitStatus:
    """A unit's state and, for a committed unit that cannot be trusted any more, why (it will run again)."""

    state: UnitState
    reason: str | None = None
    #: committed by a conj-harness that recorded no digests: read as it is, not verified
    unverified: bool = False


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def count_records(data: bytes) -> int:
    """The records of a JSONL file's bytes (split at ``\\n`` only, as :mod:`conj_harness.files.jsonl` reads it)."""
    return sum(1 for line in data.split(b"\n") if line.strip())


def _verify_files(unit: Path, done: dict[str, Any]) -> str | None:
    """None when the unit's files are exactly what ``done.json`` recorded; else what is wrong, in words."""
    files = done.get("files")
    if not isinstance(files, dict):
        return "it was committed by an older conj-harness, which recorded no file digests"
    for name in ("samples.jsonl", "results.json"):
        try:
            data = (unit / name).read_bytes()
        except OSError:
            return f"its {name} is missing"
        if not data.strip():
            return f"its {name} is empty"
        if name == "samples.jsonl" and count_records(data) != done.get("n_samples"):
            n = count_records(data)
            return f"its samples.jsonl holds {n} sample{'s' if n != 1 else ''}, not the {done.get('n_samples')} " \
                "committed"
        if _sha256(data) != files.get(name):
            return f"its {name} is not the file that was committed (edited, or cut short)"
    return None


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

    def lock(self, shared: bool = False) -> contextlib.AbstractContextManager[FolderLock]:
        return _folder_lock(self.root, shared)

    def record(self) -> dict[str, Any] | None:
        record = read_json_or_none(self.root / PAIRS_FILE)
        return record if isinstance(record, dict) else None

    def prepare(self, names: list[str], force: bool) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with _record_lock(self.root):
            self._prepare(names, force)

    def _prepare(self, names: list[str], force: bool) -> None:
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
        folder = self.root / names.check(name, "pair name", str(self.root / PAIRS_FILE))
        return PairStore(names.inside(self.root, folder))  # a linked pair folder must not lead out either


def is_multi_pair(folder: str | os.PathLike[str]) -> bool:
    return (Path(folder) / PAIRS_FILE).is_file()
