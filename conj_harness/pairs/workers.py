"""Running a pair's units in child processes: a model worker per model (the default), or one process per unit.

:class:`UnitQueue` hands out a pair's pending (model, task) units one at a time, each claimed in the store first
(:meth:`~conj_harness.pairs.store.PairStore.claim`): a unit finished or claimed by another compare writing into the
same folder (another node of a split run) is skipped, so no unit runs twice.

A :class:`Worker` runs ``python -m conj_harness.lmeval.worker`` (:mod:`conj_harness.lmeval.worker`): one model
load for all of a model's tasks - and for both roles when the tuned model is the base plus a LoRA adapter on hf or
vLLM. It reads the worker's events as they come: each finished task is committed to the store at once (a crash or
Ctrl-C loses at most the task in progress, whose finished requests are in the request cache), a failed task is
recorded with lm-eval's reason, and one progress bar per model shows done / total requests and an ETA over all its
tasks. :func:`run_unit` is the one-process-per-unit path (``--process-per task``): ``conj-eval`` in a child.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conj_harness.files import atomic, redact
from conj_harness.lmeval import compat, outputs, protocol
from conj_harness.pairs.spec import PairSpec
from conj_harness.pairs.store import Claim, PairStore, process_tag

if TYPE_CHECKING:
    from conj_harness.lmeval.preflight import TaskFingerprint

log = logging.getLogger(__name__)


@dataclass
class UnitResult:
    role: str
    task: str
    ok: bool
    seconds: float
    message: str
    log: str = ""


#: Called with each finished unit and a function that prints a line without breaking the progress bar.
UnitCallback = Callable[[UnitResult, Callable[[str], None]], None]


# --- handing out units ------------------------------------------------------------------------------------------


class UnitQueue:
    """A pair's pending units, handed out one at a time and claimed first (see the module docstring)."""

    def __init__(self, spec: PairSpec, store: PairStore, pending: dict[str, list[str]],
                 fingerprints: dict[str, TaskFingerprint] | None = None) -> None:
        self.spec, self.store = spec, store
        #: What each task is (its rendered config and data), recorded with each unit committed.
        self.fingerprints = dict(fingerprints or {})
        self.pending = {role: list(tasks) for role, tasks in pending.items()}
        #: Units another process held when this one came to them: (role, task, holder).
        self.busy: list[tuple[str, str, str]] = []
        #: Units found finished (by another process) by the time this one came to them.
        self.done_elsewhere: list[tuple[str, str]] = []
        #: Every unit skipped for either reason, in order (a progress bar drops them from its total).
        self.skipped: list[tuple[str, str]] = []

    def remaining(self, role: str) -> list[str]:
        return list(self.pending.get(role, []))

    def take(self, role: str) -> tuple[str, Claim] | None:
        """The role's next unit to run, claimed; None when none is left."""
        identity = self.spec.identity(role)
        while self.pending.get(role):
            task = self.pending[role].pop(0)
            claim = self.store.claim(role, task)
            if isinstance(claim, str):
                self.busy.append((role, task, claim))
                self.skipped.append((role, task))
                continue
            if self.store.state(role, task, identity, self.fingerprints.get(task)) == "done":
                claim.release()  # finished by another process meanwhile
                self.done_elsewhere.append((role, task))
                self.skipped.append((role, task))
                continue
            try:
                self.store.request_cache(role, task)  # its folder made and checked here: the worker only opens it
            except BaseException:
                claim.release()
                raise
            return task, claim
        return None


# --- committing -------------------------------------------------------------------------------------------------


def _tail(log: Path, lines: int = 40) -> str:
    try:
        text = log.read_bytes()[-200_000:].decode("utf-8", "replace")
    except OSError:
        return ""
    clean = [line.rsplit("\r", 1)[-1] for line in text.split("\n")]
    return "\n".join([line for line in clean if line.strip() and not protocol.is_event_line(line)][-lines:])


def commit_output(spec: PairSpec, store: PairStore, role: str, task: str, output: Path, seconds: float,
                  log: Path, fingerprint: TaskFingerprint | None = None) -> UnitResult:
    """Commit one task's lm-eval output folder to the store (done.json last)."""
    read = outputs.read_unit(output, task)
    if isinstance(read, str):  # a missing output is this unit's failure, not the run's
        return record_failure(store, role, task, read, None, [], seconds, log)
    return commit_unit(spec, store, role, task, read[0], read[1], seconds, store.relative(log), fingerprint)


def commit_unit(spec: PairSpec, store: PairStore, role: str, task: str, results: dict[str, Any], samples: bytes,
                seconds: float, log: str, fingerprint: TaskFingerprint | None = None,
                extra: dict[str, Any] | None = None) -> UnitResult:
    """Commit one unit's results and samples (``log``: its log, relative to the store; ``extra``: more for its
    ``done.json``, e.g. where and when a Ray actor ran it)."""
    metrics = outputs.task_metrics(results, task)
    store.commit(role, task, results, samples, {
        **(extra or {}),
        "metrics": metrics, "seconds": round(seconds, 1), "log": log, "identity": spec.identity(role),
        "task_fingerprint": fingerprint.record() if fingerprint is not None else None,
    })
    shown = ", ".join(f"{k}={v:.3f}" for k, v in metrics.items())
    return UnitResult(role, task, True, seconds, shown, log)


def record_failure(store: PairStore, role: str, task: str, error: str, returncode: int | None, cmd: list[str],
                   seconds: float, log: Path) -> UnitResult:
    store.record_failure(role, task, {"returncode": returncode, "error": error, "log": store.relative(log),
                                      "tail": _tail(log), "command": cmd, "seconds": round(seconds, 1)})
    return UnitResult(role, task, False, seconds, error, store.relative(log))


# --- one process per unit (--process-per task) ------------------------------------------------------------------


def eval_command(spec: PairSpec, role: str, task: str, out: Path, cache: Path) -> list[str]:
    """The ``conj-eval`` command line of one unit."""
    cmd = [sys.executable, "-m", "conj_harness.cli.conj_eval", "--model", spec.backend,
           "--model_args", spec.lm_eval_model_args(role), "--tasks", task, "--output_path", str(out),
           "--log_samples", "--use_cache", str(cache), "--seed", spec.seed, "--batch_size", spec.default_batch_size()]
    if spec.limit is not None:
        cmd += ["--limit", f"{int(spec.limit)}" if float(spec.limit).is_integer() else f"{spec.limit}"]
    if spec.device:
        cmd += ["--device", spec.device]
    if spec.gen_kwargs:
        cmd += ["--gen_kwargs", spec.gen_kwargs]
    if spec.include_path:
        cmd += ["--include_path", spec.include_path]
    if spec.chat_template(role):
        cmd += ["--apply_chat_template"]
    judge = {k: v for k, v in spec.judge_spec().as_metadata().items() if v is not None}
    cmd += ["--metadata", json.dumps(judge)]  # recorded in the results; only the safety tasks read it
    return cmd


def run_unit(spec: PairSpec, store: PairStore, role: str, task: str, bar: ModelBar,
             fingerprint: TaskFingerprint | None = None) -> UnitResult:
    """Run one (model, task) through ``conj-eval`` in its own process and commit it (the caller holds its claim)."""
    scratch = store.scratch(f"{role}__{task}")
    cmd = eval_command(spec, role, task, scratch, store.request_cache(role, task))
    store.log_launch(role, [task], cmd, process_tag())
    log = store.unit_log(role, task)
    start = time.monotonic()
    rc = _stream(cmd, log, bar.request_progress, store.secrets)
    seconds = time.monotonic() - start
    if rc != 0:
        return record_failure(store, role, task, f"lm-eval exited with status {rc}", rc, cmd, seconds, log)
    return commit_output(spec, store, role, task, scratch, seconds, log, fingerprint)


# --- a model worker ---------------------------------------------------------------------------------------------


@dataclass
class WorkerOutcome:
    """What one worker did: its units, its model loads, and whether it died before its queue was empty."""

    results: list[UnitResult] = field(default_factory=list)
    loads: int = 0
    returncode: int = 0
    fatal: str | None = None
    log: Path | None = None


def adapter_mode(spec: PairSpec) -> bool:
    """Base and tuned on one load: the tuned model is the base plus a LoRA adapter, on a local backend."""
    return bool(spec.tuned_adapter) and spec.tuned == spec.base and not spec.served


def worker_job(spec: PairSpec, store: PairStore, roles: list[str], scratch: Path) -> dict[str, Any]:
    """The job file's content: the backend and model, and per role its tasks, cache, chat template, adapter."""
    shared = adapter_mode(spec) and len(roles) > 1
    return {
        "backend": spec.backend,
        "model_args": spec.lm_eval_model_args(roles[0], with_adapter=not shared),
        "adapter_mode": shared,
        "roles": [{"role": role, "tasks": [], "cache": store.request_cache_template(role),
                   "chat_template": spec.chat_template(role), "adapter": spec.adapter(role) if shared else None}
                  for role in roles],
        "scratch": str(scratch),
        "limit": spec.limit,
        "seed": spec.seed,
        "gen_kwargs": spec.gen_kwargs,
        "batch_size": spec.default_batch_size(),
        "device": spec.device,
        "include_path": spec.include_path,
        "metadata": {k: v for k, v in spec.judge_spec().as_metadata().items() if v is not None},
    }


class ModelBar:
    """One bar per model: done / total requests over all its tasks, with an ETA; or plain lines without a tty."""

    def __init__(self, label: str, enabled: bool) -> None:
        self.label, self.enabled = label, enabled
        self.bar: Any = None
        self.totals: dict[str, int] = {}
        self.finished = 0
        self.current = 0

    def plan(self, requests: dict[str, int]) -> None:
        self.totals.update(requests)
        if not self.enabled or not self.totals:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=0, desc=self.label, unit="req", file=sys.stderr, dynamic_ncols=True)
        self.bar.total = sum(self.totals.values())
        self.bar.refresh()

    def drop(self, task: str) -> None:
        """A task this model will not run after all (another process has it)."""
        self.totals.pop(task, None)
        if self.bar is not None:
            self.bar.total = sum(self.totals.values())
            self.bar.refresh()

    def task_done(self, task: str) -> None:
        self.finished += self.totals.get(task, 0)
        self.current = 0
        self._show()

    def request_progress(self, state: compat.RequestProgress) -> None:
        self.current = state.done
        self._show()

    def _show(self) -> None:
        if self.bar is not None:
            self.bar.n = min(self.finished + self.current, self.bar.total)
            self.bar.refresh()

    def write(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        else:
            log.info(text)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class Worker:
    """The parent's side of one worker process: answers its ``next`` events from the queue, commits its tasks.

    ``gate=True``: :meth:`start` it early, while the previous model's worker still runs - it does its slow imports
    and checks, then waits at the gate; :meth:`run` opens the gate, so its model loads only once the GPU is free.
    """

    def __init__(self, spec: PairSpec, store: PairStore, queue: UnitQueue, roles: list[str], number: int = 1,
                 gate: bool = False) -> None:
        self.spec, self.store, self.queue, self.gate = spec, store, queue, gate
        self.scratch = store.scratch(f"worker_{'+'.join(roles)}_{number}")
        job = worker_job(spec, store, roles, self.scratch)
        job["gate"] = gate
        for entry in job["roles"]:
            entry["tasks"] = queue.remaining(entry["role"])  # for the plan (the bar); the parent decides the order
        # the job carries the model args, credentials included: owner-only, and the worker deletes it once read
        atomic.write_json(self.scratch / "job.json", job, private=True)
        self.cmd = [sys.executable, "-m", "conj_harness.lmeval.worker", str(self.scratch / "job.json")]
        self.process = f"{process_tag()}:{'+'.join(roles)}#{number}"
        for role in roles:
            store.log_launch(role, queue.remaining(role), self.cmd, self.process)
        self.outcome = WorkerOutcome(log=store.worker_log(roles, number))
        self.running: dict[str, Any] = {}  # the unit in progress: role, task, claim, start
        self.child: _Child | None = None
        self.bar: ModelBar = ModelBar("", False)
        self.on_unit: UnitCallback = lambda _unit, _write: None
        #: Called once the model is loaded (the runner starts the report's warm-up there for the last model).
        self.on_loaded: Callable[[], None] = lambda: None

    @property
    def log(self) -> Path:
        assert self.outcome.log is not None
        return self.outcome.log

    def start(self) -> None:
        if self.child is None:
            self.child = _Child(self.cmd, self.log, self.store.secrets)

    def abandon(self) -> None:
        """Stop a worker that was started early but will not run (an interrupted compare)."""
        if self.child is not None:
            self.child.stop()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def handle(self, event: protocol.Event, reply: Callable[[protocol.TaskReply], None]) -> None:
        kind, role = event.kind, event.role
        if kind == "loaded":
            self.outcome.loads += 1
            self.store.log_load(list(event.roles), event.seconds, self.process)
            self.on_loaded()
        elif kind == "plan":
            self.bar.plan(event.requests)
        elif kind == "next":
            seen = len(self.queue.skipped)
            got = self.queue.take(role)
            for _role, skipped in self.queue.skipped[seen:]:
                self.bar.drop(skipped)
            if got is not None:
                self.running.update(role=role, task=got[0], claim=got[1], start=time.monotonic())
            reply(protocol.TaskReply(got[0] if got else None))
        elif kind in ("done", "failed") and self.running:
            task, seconds = self.running["task"], time.monotonic() - self.running["start"]
            if kind == "done":
                self.finish(commit_output(self.spec, self.store, role, task, Path(str(event.output)), seconds,
                                          self.log, self.queue.fingerprints.get(task)))
            else:
                if atomic.is_disk_full(Exception(str(event.error))):  # every next unit would fail the same way
                    raise OSError(errno.ENOSPC, f"No space left on device ({task}: {str(event.error)[:200]})")
                self.finish(record_failure(self.store, role, task, str(event.error), None, self.cmd, seconds,
                                           self.log))
        elif kind == "role_failed":
            while (got := self.queue.take(role)) is not None:
                self.running.update(role=role, task=got[0], claim=got[1], start=time.monotonic())
                self.finish(record_failure(self.store, role, got[0], str(event.error), None, self.cmd, 0.0,
                                           self.log))
        elif kind == "fatal":
            self.outcome.fatal = str(event.error)

    def finish(self, unit: UnitResult) -> None:
        self.running.pop("claim").release()
        self.running.clear()
        self.outcome.results.append(unit)
        self.bar.task_done(unit.task)
        self.on_unit(unit, self.bar.write)

    def run(self, bar: ModelBar, on_unit: UnitCallback) -> WorkerOutcome:
        self.bar, self.on_unit = bar, on_unit
        self.start()
        assert self.child is not None
        try:
            if self.gate:
                self.child.send(protocol.GO)
            self.outcome.returncode = self.child.pump(self.handle, bar.request_progress)
            if self.running:  # the worker died inside a task: that task fails, with its log's tail
                seconds = time.monotonic() - self.running["start"]
                reason = f"the model worker stopped (exit status {self.outcome.returncode}) during this task"
                self.finish(record_failure(self.store, self.running["role"], self.running["task"], reason,
                                           self.outcome.returncode, self.cmd, seconds, self.log))
        finally:
            if self.running:  # interrupted (Ctrl-C): the unit stays pending, its finished requests are cached
                self.running.pop("claim").release()
            shutil.rmtree(self.scratch, ignore_errors=True)
        return self.outcome


def worker_error(outcome: WorkerOutcome) -> str:
    """Why a worker ended before its queue was empty, in one line (its fatal error, else its log's last line)."""
    if outcome.fatal:
        return outcome.fatal
    last = _tail(outcome.log, 1) if outcome.log else ""
    return f"the model worker exited with status {outcome.returncode}" + (f": {last.strip()[:300]}" if last else "")


# --- the child process ------------------------------------------------------------------------------------------


class _Child:
    """A child process with its output going to a log, its events read from it, and answers on its stdin."""

    def __init__(self, cmd: list[str], log: Path, secrets: frozenset[str] = frozenset(),
                 env: dict[str, str] | None = None) -> None:
        log.parent.mkdir(parents=True, exist_ok=True)
        self.sink = open(log, "wb")  # noqa: SIM115 - closed when the child is done (pump) or stopped
        self.secrets = secrets
        self.unwritten = b""  # the log is written a whole line at a time, so no secret is split and missed
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.PIPE,
                                     env=env)

    def reply(self, message: protocol.TaskReply) -> None:
        self.send(protocol.encode_reply(message))

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write((line + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass  # the worker is gone; its exit status tells why

    def pump(self, handle: Callable[[protocol.Event, Callable[[protocol.TaskReply], None]], None],
             on_progress: Callable[[compat.RequestProgress], None]) -> int:
        """Copy the child's output to the log until it exits; hand each ``@@conj`` event (with :meth:`reply`) to
        ``handle`` and lm-eval's request bar to ``on_progress``. Ctrl-C stops the child, then re-raises."""
        assert self.proc.stdout is not None
        pending = b""
        try:
            while True:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                self._log(chunk)
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for raw in lines:
                    line = raw.decode("utf-8", "replace").rsplit("\r", 1)[-1]
                    event = protocol.decode(line)
                    if event is not None:
                        handle(event, self.reply)
                state = compat.parse_request_progress(pending[-4096:].decode("utf-8", "replace"))
                if state is not None:
                    on_progress(state)
                if len(pending) > 1 << 20:  # a bar redrawing with \r and no newline: keep only the tail
                    pending = pending[-4096:]
            return self.proc.wait()
        except BaseException:  # Ctrl-C or an error here: stop the worker we started, then re-raise
            self.stop()
            raise
        finally:
            self.close()

    def _log(self, chunk: bytes, final: bool = False) -> None:
        self.unwritten += chunk
        cut = len(self.unwritten) if final or len(self.unwritten) > 1 << 16 else self.unwritten.rfind(b"\n") + 1
        if cut:
            self.sink.write(redact.redact_bytes(self.unwritten[:cut], self.secrets))
            self.sink.flush()
            self.unwritten = self.unwritten[cut:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.close()

    def close(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None and not stream.closed:
                stream.close()
        if not self.sink.closed:
            self._log(b"", final=True)
            self.sink.close()


def _stream(cmd: list[str], log: Path, on_progress: Callable[[compat.RequestProgress], None],
            secrets: frozenset[str] = frozenset()) -> int:
    """Run ``cmd`` (a ``conj-eval`` unit: no events) with its output into ``log``; its bar to ``on_progress``. The
    child skips the task build check: this parent ran it before any unit."""
    from conj_harness.lmeval.eval_cli import CHECKED_BY_PARENT

    child = _Child(cmd, log, secrets, env={CHECKED_BY_PARENT: "1"})
    return child.pump(lambda _event, _reply: None, on_progress)
