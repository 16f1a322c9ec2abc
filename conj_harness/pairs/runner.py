"""Running a pair: each model loaded once for all its tasks, each (model, task) unit committed to the store.

Both models run the same tasks with the same settings (:class:`~conj_harness.pairs.spec.PairSpec`). By default a
model worker (:mod:`conj_harness.pairs.workers`) loads each model once - the base and its LoRA adapter once for
both roles on hf / vLLM - and runs its pending tasks one after another, committing each to the
:class:`~conj_harness.pairs.store.PairStore` the moment it finishes; a re-run of the same command skips complete
units, and a killed worker leaves its request cache behind (autocommitted SQLite), so even a half-done unit does
not redo its finished requests. A failed task is recorded with lm-eval's reason and the others go on; tasks a
crashed worker never reached go to one new worker. ``process_per="task"`` runs one ``conj-eval`` process per unit
instead (a model load each: for debugging, or a backend that leaks memory across tasks).

Several compares may run into one folder at once (several nodes of a cluster, each with its own tasks, or the
same): the store's shared lock and per-unit claims let each run only units no one else has.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conj_harness.checkpoints import gguf
from conj_harness.errors import ConjError
from conj_harness.files import atomic, names, redact
from conj_harness.files.signals import sigterm_as_exit
from conj_harness.lmeval import compat
from conj_harness.lmeval.registration import resolve_tasks
from conj_harness.pairs.adapters import check_adapter
from conj_harness.pairs.served import check_servers
from conj_harness.pairs.spec import ROLES, PairSpec, check_local_paths
from conj_harness.pairs.store import FolderLock, MultiPairStore, PairStore
from conj_harness.pairs.tokenizers import compare_tokenizers, tokenizer_info
from conj_harness.pairs.workers import (
    ModelBar,
    UnitQueue,
    UnitResult,
    Worker,
    adapter_mode,
    record_failure,
    run_unit,
    worker_error,
)

if TYPE_CHECKING:
    from conj_harness.lmeval.preflight import TaskFingerprint
    from conj_harness.pairs.ray_executor import RaySettings

#: Notes and warnings of a compare (the command line prints them; a script configures logging to see them).
log = logging.getLogger(__name__)

#: Called with a finished pair's folder, under its lock; returns the report summary (see conj_harness.comparison).
Finisher = Callable[[Path], dict[str, Any]]
PROCESS_PER = ("model", "task")
#: New workers started for tasks a crashed worker never reached (per model).
WORKER_RESTARTS = 1


# --- running a pair ---------------------------------------------------------------------------------------------


@dataclass
class PairOutcome:
    out: Path
    ran: list[UnitResult]
    skipped: int
    summary: dict[str, Any]
    #: Units another compare writing into the same folder was running: (role, task, holder).
    busy: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def failures(self) -> list[UnitResult]:
        return [u for u in self.ran if not u.ok]


def run_pair(spec: PairSpec, out: str | os.PathLike[str], force: bool = False, progress: bool | None = None,
             process_per: str = "model", finish: Finisher | None = None,
             warm: Callable[[], None] | None = None,
             siblings: Sequence[tuple[PairSpec, PairStore]] = ()) -> PairOutcome:
    """Run (or resume) a pair into ``out``; then, still holding the folder's lock, ``finish(out)`` (the report).

    ``warm`` (the report's imports) runs in a background thread once the last model is loaded, while it works:
    the parent is idle then, and the report after the last task is that much shorter. ``siblings``: the study's
    pairs that ran before this one - a unit one of them finished under the same identity and task (a shared base)
    is copied from it, not run again.

    Failed units are recorded, not raised. ``process_per="model"``: one worker per model (per pair for a base and
    its adapter on hf / vLLM) for all its pending tasks; ``"task"``: one ``conj-eval`` process per unit.
    """
    if process_per not in PROCESS_PER:
        raise ConjError(f"process_per must be one of {', '.join(PROCESS_PER)}, not {process_per!r}")
    store = PairStore(out)
    tasks, fingerprints = check_pair(spec)
    with disk_full_is_one_line(store.root), store.lock(shared=True) as lock, sigterm_as_exit():
        ran, skipped, busy = _run_pair_locked(spec, store, lock, tasks, force, progress, process_per, warm,
                                              fingerprints, list(siblings))
        summary = finish(store.root) if finish is not None else {}
    return PairOutcome(store.root, ran, skipped, summary, busy)


def check_pair(spec: PairSpec) -> tuple[list[str], dict[str, TaskFingerprint]]:
    """Every input of a pair checked before anything slow (a GGUF conversion, a model load): its task names
    resolved (each once) and every task built and fingerprinted; a GGUF model converted once."""
    redact.remember(spec.secrets())  # a pairs file's credentials: masked on the terminal too
    check_local_paths(spec)
    check_adapter(spec)
    compat.check_version()
    check_servers(spec)  # a served model's address set, its server up and serving it
    tasks = resolve_tasks(spec.tasks, spec.include_path)
    where = f"a task YAML's 'task:' under {spec.include_path}" if spec.include_path else "the task list"
    for task in tasks:
        names.check(task, "task", where)  # it becomes a folder under --output
    fingerprints = _check_tasks(spec, tasks)
    convert_gguf_models(spec)
    return tasks, fingerprints


@contextlib.contextmanager
def disk_full_is_one_line(folder: Path) -> Iterator[None]:
    """A full disk anywhere in a compare (a results file, a log, lm-eval's request cache in a worker) ends it with one
    line: the folder, what is kept, and that the same command resumes."""
    try:
        yield
    except (OSError, ConjError) as e:
        if not atomic.is_disk_full(e):
            raise
        kept = sum(1 for _ in folder.glob("*/*/done.json")) if folder.is_dir() else 0
        said = f"the {kept} finished run{'s' if kept != 1 else ''} there {'are' if kept != 1 else 'is'} kept" if kept \
            else "no run had finished yet"
        raise ConjError(f"the disk holding {folder} is full (No space left on device): {said}; free some space, then "
                        "run the same command again to resume") from None


def _check_tasks(spec: PairSpec, tasks: list[str]) -> dict[str, TaskFingerprint]:
    """Every task built, its prompts rendered and its fingerprint taken, before any model loads (a task that cannot
    run is one line now, not a failure after a model load); the shipped families' documents first, whose loader
    names the data mirror when it is missing."""
    from conj_harness.lmeval.eval_cli import check_task_data
    from conj_harness.lmeval.preflight import check_tasks
    from conj_harness.lmeval.registration import check_builtin_shadowing, search_paths

    index = compat.task_index(search_paths(spec.include_path))
    check_builtin_shadowing(index, spec.include_path)  # else every worker would refuse it after its start-up
    check_task_data(tasks, index, {})
    args = dict(kv.split("=", 1) for kv in spec.lm_eval_model_args("base", with_adapter=False).split(",") if "=" in kv)
    return check_tasks(tasks, spec.include_path, metadata=args).fingerprints


def convert_gguf_models(spec: PairSpec) -> None:
    """A model given as a GGUF file becomes its converted folder (once, cached), so each worker loads it in seconds."""
    if spec.served:
        return
    converted: dict[str, str] = {}
    for role in ROLES:
        model = spec.model(role)
        if model.endswith(".gguf"):
            if model not in converted:
                converted[model] = str(gguf.convert(Path(model)))
                log.info(f"conj-harness compare: {model} is read from its converted folder {converted[model]}")
            if role == "base":
                spec.base = converted[model]
            else:
                spec.tuned = converted[model]


def _announce_settings(spec: PairSpec, store: PairStore) -> None:
    if not spec.served:
        for role in ROLES if spec.tuned != spec.base else ("base",):
            log.info(spec.bos_choice(role).line(f"conj-harness compare: {role} model"))
    tokenizers = compare_tokenizers(tokenizer_info(spec.base), tokenizer_info(str(spec.tuned), spec.tuned_adapter))
    store.write_tokenizers(tokenizers)
    if tokenizers["same"] is False:
        log.info(f"conj-harness compare: note: {tokenizers['note']}")
    if spec.base_chat_template != spec.tuned_chat_template:
        log.warning("conj-harness compare: warning: the chat-template settings differ between the models "
                    f"(base {spec.base_chat_template}, tuned {spec.tuned_chat_template})")


@dataclass
class OpenedPair:
    """A pair's folder made ready under its lock: what is left to run, and what was found done or shared."""

    label: str
    pending: list[tuple[str, str]]
    skipped: int
    #: Loads both tokenizers and writes their comparison (alongside the first model's start-up): join it.
    settings: threading.Thread


def open_pair(spec: PairSpec, store: PairStore, lock: FolderLock, tasks: list[str], force: bool,
              fingerprints: dict[str, TaskFingerprint], siblings: list[tuple[PairSpec, PairStore]]) -> OpenedPair:
    """``pair.json`` written (or checked), a changed judge's labels redone, and each unit's state: done units are
    skipped, a sibling's shared ones copied, the reason told for one that must run again."""
    store.prepare(spec, tasks, force, alone=lock.alone)
    if store.judge_changed:  # prepare() made sure this compare is alone in the folder
        from conj_harness.pairs.rejudge import rejudge_store

        relabelled = rejudge_store(store, spec.judge_spec(), {r: spec.identity(r) for r in ROLES})
        log.info(f"conj-harness compare: the judge changed to {spec.judge}: re-judged {len(relabelled)} finished "
                 "safety runs from their saved generations (no inference)")
    lock.share()
    settings = threading.Thread(target=_announce_settings, args=(spec, store), daemon=True)
    settings.start()  # loads both tokenizers (seconds for big vocabularies): alongside the first model's start-up
    units = [(r, t) for r in ROLES for t in tasks]
    status = {(r, t): store.status(r, t, spec.identity(r), fingerprints.get(t)) for r, t in units}
    pending = [u for u in units if status[u].state != "done"]
    label = spec.name or store.root.name
    shared = adopt_shared(spec, store, pending, fingerprints, siblings)
    if shared:
        log.info(f"conj-harness compare: {label}: {len(shared)} runs shared with an earlier pair of the study "
                 f"(same model, settings and task): copied, not run again ({', '.join(f'{r} {t}' for r, t in shared)})")
        pending = [u for u in pending if u not in shared]
    skipped = len(units) - len(pending) - len(shared)
    if skipped:
        log.info(f"conj-harness compare: {label}: {skipped} of {len(units)} runs already complete, skipping them")
    for (role, task) in pending:
        reason = status[(role, task)].reason
        if reason:  # committed once, but no longer what this run would make: never reused
            log.info(f"conj-harness compare: {label}: {role} {task} runs again: {reason}")
    return OpenedPair(label, pending, skipped, settings)


def _run_pair_locked(spec: PairSpec, store: PairStore, lock: FolderLock, tasks: list[str], force: bool,
                     progress: bool | None, process_per: str, warm: Callable[[], None] | None = None,
                     fingerprints: dict[str, TaskFingerprint] | None = None,
                     siblings: list[tuple[PairSpec, PairStore]] | None = None) -> tuple[list[UnitResult], int, list]:
    fingerprints = fingerprints or {}
    opened = open_pair(spec, store, lock, tasks, force, fingerprints, siblings or [])
    pending, skipped, label, settings = opened.pending, opened.skipped, opened.label, opened.settings
    queue = UnitQueue(spec, store, {role: [t for r, t in pending if r == role] for role in ROLES}, fingerprints)
    bars = sys.stderr.isatty() if progress is None else bool(progress)
    ran: list[UnitResult] = []

    def on_unit(unit: UnitResult, write: Callable[[str], None]) -> None:
        ran.append(unit)
        status = "done" if unit.ok else "FAILED"
        log = "" if unit.ok else f"; log: {store.root / unit.log}"
        write(f"[{label}] {unit.role} {unit.task}: {status} in {unit.seconds:.0f}s ({unit.message}){log}")

    try:
        if process_per == "task":
            _run_per_task(spec, store, queue, label, on_unit)
        else:
            _run_models(spec, store, queue, label, bars, on_unit, warm)
    finally:
        settings.join()
        store.clear_scratch()
    if queue.busy:
        holders = sorted({h for _r, _t, h in queue.busy})
        log.info(f"conj-harness compare: {label}: {len(queue.busy)} runs were being run by another compare writing "
                 f"here ({', '.join(holders)}); left to it (re-run, or `conj-harness report`, once it is done)")
    return ran, skipped, queue.busy


def adopt_shared(spec: PairSpec, store: PairStore, pending: list[tuple[str, str]],
                 fingerprints: dict[str, TaskFingerprint], siblings: list[tuple[PairSpec, PairStore]]) -> list:
    """The pending units a sibling pair already finished under this role's identity and this task's fingerprint
    (at the same server, for a served model), copied into ``store``; returns them."""
    adopted: list[tuple[str, str]] = []
    for role, task in pending:
        found = next(((other, r) for other_spec, other in siblings for r in ROLES
                      if other_spec.server(r) == spec.server(role)
                      and other.state(r, task, spec.identity(role), fingerprints.get(task)) == "done"), None)
        if found is None:
            continue
        claim = store.claim(role, task)
        if isinstance(claim, str):
            continue  # another compare has it
        try:
            store.adopt(role, task, found[0], found[1])
            adopted.append((role, task))
        finally:
            claim.release()
    return adopted


def _run_per_task(spec: PairSpec, store: PairStore, queue: UnitQueue, label: str,
                  on_unit: Callable[[UnitResult, Callable[[str], None]], None]) -> None:
    for role in ROLES:
        bar = ModelBar(f"{label} {role}", False)  # no request totals before the process loads its task
        while (got := queue.take(role)) is not None:
            task, claim = got
            try:
                on_unit(run_unit(spec, store, role, task, bar, queue.fingerprints.get(task)), bar.write)
            finally:
                claim.release()


def _run_models(spec: PairSpec, store: PairStore, queue: UnitQueue, label: str, bars: bool,
                on_unit: Callable[[UnitResult, Callable[[str], None]], None],
                warm: Callable[[], None] | None = None) -> None:
    """A worker per model, one after the other. The next model's worker starts at once and waits at its gate: its
    imports, checks and task building run beside this model's (free on a GPU server's many cores; measured to pay
    on 2 cores too, BENCHMARKS.md), and its model loads only once this worker has exited, so two models never
    share the accelerator. ``warm`` starts in a thread when the last model is loaded."""
    groups = [list(ROLES)] if adapter_mode(spec) else [[r] for r in ROLES]
    groups = [[r for r in g if queue.remaining(r)] for g in groups]
    groups = [g for g in groups if g]
    early: list[Worker] = []
    try:
        for i, roles in enumerate(groups):
            worker = early.pop() if early else Worker(spec, store, queue, roles)
            if i + 1 < len(groups):
                nxt = Worker(spec, store, queue, groups[i + 1], gate=True)
                early.append(nxt)
                nxt.start()
            elif warm is not None:
                worker.on_loaded = _in_thread(warm)
            _run_model(spec, store, queue, roles, label, bars, on_unit, worker)
    finally:
        for worker in early:
            worker.abandon()


def _in_thread(work: Callable[[], None]) -> Callable[[], None]:
    """A starter of ``work`` in a daemon thread; a failure there is the report's to raise later, not this one's."""
    def start() -> None:
        def quietly() -> None:
            with contextlib.suppress(Exception):
                work()
        threading.Thread(target=quietly, daemon=True).start()
    return start


def _run_model(spec: PairSpec, store: PairStore, queue: UnitQueue, roles: list[str], label: str, bars: bool,
               on_unit: Callable[[UnitResult, Callable[[str], None]], None], worker: Worker) -> None:
    """One model's (or a base + adapter pair's) tasks in ``worker``; one new worker for tasks a crash left."""
    bar = ModelBar(f"{label} {'+'.join(roles)}", bars)
    try:
        for attempt in range(1, WORKER_RESTARTS + 2):
            if attempt > 1:
                worker = Worker(spec, store, queue, roles, number=attempt)
            outcome = worker.run(bar, on_unit)
            left = sum(len(queue.remaining(r)) for r in roles)
            if not left:
                return
            reason = worker_error(outcome)
            if outcome.fatal or not outcome.loads or attempt > WORKER_RESTARTS:
                break  # it cannot load the model (or crashed again): the rest fails with the same reason
            bar.write(f"[{label}] {'+'.join(roles)}: {reason}; starting a new worker for the {left} tasks it did "
                      "not reach")
        for role in roles:
            while (got := queue.take(role)) is not None:
                task, claim = got
                try:
                    on_unit(record_failure(store, role, task, reason, outcome.returncode, [], 0.0,
                                           outcome.log or store.root), bar.write)
                finally:
                    claim.release()
    finally:
        bar.close()


# --- several pairs ----------------------------------------------------------------------------------------------


def run_pairs(specs: list[PairSpec], out: str | os.PathLike[str], force: bool = False, progress: bool | None = None,
              process_per: str = "model", finish: Finisher | None = None,
              finish_all: Callable[[Path], Any] | None = None,
              warm: Callable[[], None] | None = None) -> list[PairOutcome]:
    """Run every pair into ``out/<pair name>/`` (each finished by ``finish``), then ``finish_all(out)``.

    The same command on several nodes splits the work: each node runs the units no other one has claimed.
    """
    multi = MultiPairStore(out)
    with multi.lock(shared=True) as lock:
        lock.share()
        multi.prepare([str(s.name) for s in specs], force)
        outcomes: list[PairOutcome] = []
        done: list[tuple[PairSpec, PairStore]] = []
        for spec in specs:
            outcomes.append(run_pair(spec, multi.root / str(spec.name), force=force, progress=progress,
                                     process_per=process_per, finish=finish, warm=warm, siblings=done))
            done.append((spec, PairStore(outcomes[-1].out)))
        if finish_all is not None:
            finish_all(multi.root)
    return outcomes


# --- a study on Ray ---------------------------------------------------------------------------------------------


def run_study_on_ray(specs: list[PairSpec], out: str | os.PathLike[str], multi: bool, settings: RaySettings,
                     force: bool = False, finish: Finisher | None = None,
                     finish_all: Callable[[Path], Any] | None = None) -> list[PairOutcome]:
    """One pair (``multi=False``: into ``out``) or a study (into ``out/<name>/``) on Ray: every pair checked, its
    folder opened and its pending units claimed here; the plan (each distinct run once) run by
    :mod:`conj_harness.pairs.ray_executor`, this process committing every unit; then each pair's report."""
    from conj_harness.pairs.ray_executor import Connection, import_ray

    import_ray()  # missing: one line before any check
    connection = Connection(settings)  # Ray starts (or connects) while the pairs are checked
    try:
        return _study_on_ray(specs, out, multi, settings, connection, force, finish, finish_all)
    finally:
        connection.close()


def _study_on_ray(specs: list[PairSpec], out: str | os.PathLike[str], multi: bool, settings: RaySettings,
                  connection: Any, force: bool, finish: Finisher | None,
                  finish_all: Callable[[Path], Any] | None) -> list[PairOutcome]:
    from conj_harness.pairs.plan import PlannedPair, make_plan
    from conj_harness.pairs.ray_executor import run_plan

    checked = [(spec, *check_pair(spec)) for spec in specs]
    root = Path(out)
    pairs: list[PlannedPair] = []
    busy: dict[str, list[tuple[str, str, str]]] = {}
    with contextlib.ExitStack() as stack:
        stack.enter_context(disk_full_is_one_line(root))
        if multi:
            store_set = MultiPairStore(root)
            multi_lock = stack.enter_context(store_set.lock(shared=True))
            multi_lock.share()
            store_set.prepare([str(s.name) for s in specs], force)
        stack.enter_context(sigterm_as_exit())
        for spec, tasks, fingerprints in checked:
            store = PairStore(root / str(spec.name)) if multi else PairStore(root)
            lock = stack.enter_context(store.lock(shared=True))
            opened = open_pair(spec, store, lock, tasks, force, fingerprints,
                               [(p.spec, p.store) for p in pairs])
            stack.callback(opened.settings.join)  # before the folder's lock goes, whatever happens
            mine: list[tuple[str, str]] = []
            for role, task in opened.pending:
                claim = store.claim(role, task)
                if isinstance(claim, str):
                    busy.setdefault(opened.label, []).append((role, task, claim))
                    continue
                stack.callback(claim.release)
                store.request_cache(role, task)  # the same folders as the local executor (empty: nodes cache locally)
                mine.append((role, task))
            pairs.append(PlannedPair(spec, store, tasks, fingerprints, opened.label, mine, opened.skipped))
        ran = run_plan(make_plan(pairs), settings, connection)
        for pair in pairs:
            pair.store.clear_scratch()
        outcomes = []
        for pair in pairs:
            summary = finish(pair.store.root) if finish is not None else {}
            outcomes.append(PairOutcome(pair.store.root, ran[pair.label], pair.skipped, summary,
                                        busy.get(pair.label, [])))
        if multi and finish_all is not None:
            finish_all(root)
    return outcomes
