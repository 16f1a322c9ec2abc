"""Running a pair: each (model, task) unit through ``conj-eval`` in a child process, committed to the store.

Both models run the same tasks with the same settings (:class:`~conj_harness.pairs.spec.PairSpec`). A unit is
committed to the :class:`~conj_harness.pairs.store.PairStore` as soon as its process finishes, so a re-run of the
same command skips complete units; a killed process leaves its request cache behind (autocommitted sqlite), so even
a half-done unit does not redo its finished requests. A failed unit is recorded with its log's tail, and the other
units go on.

The children run ``python -m conj_harness.cli.conj_eval`` with this interpreter, so they see the same package and
the same paper-mode defaults as ``conj-eval``; GPU memory is freed when a child exits.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conj_harness.errors import ConjError
from conj_harness.lmeval import compat, outputs
from conj_harness.lmeval.registration import resolve_tasks
from conj_harness.pairs.spec import ROLES, PairSpec, check_local_paths
from conj_harness.pairs.store import MultiPairStore, PairStore
from conj_harness.pairs.tokenizers import compare_tokenizers, tokenizer_info

ProgressCallback = Callable[[compat.RequestProgress], None]
#: Called with a finished pair's folder, under its lock; returns the report summary (see conj_harness.compare).
Finisher = Callable[[Path], dict[str, Any]]


# --- running one process ----------------------------------------------------------------------------------------


def eval_command(spec: PairSpec, role: str, tasks: list[str], tmp: Path, cache: Path) -> list[str]:
    cmd = [sys.executable, "-m", "conj_harness.cli.conj_eval", "--model", spec.backend,
           "--model_args", spec.lm_eval_model_args(role), "--tasks", ",".join(tasks), "--output_path", str(tmp),
           "--log_samples", "--use_cache", str(cache), "--seed", spec.seed,
           "--batch_size", spec.batch_size or ("auto" if spec.backend == "vllm" else "8")]
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


def _tail(log: Path, lines: int = 40) -> str:
    try:
        text = log.read_bytes()[-200_000:].decode("utf-8", "replace")
    except OSError:
        return ""
    clean = [line.rsplit("\r", 1)[-1] for line in text.split("\n")]
    return "\n".join([line for line in clean if line.strip()][-lines:])


def _run_process(cmd: list[str], log: Path, on_progress: ProgressCallback) -> int:
    """Run ``cmd`` with stdout+stderr into ``log``; report lm-eval's request bar through ``on_progress``."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as sink:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        buf = b""
        try:
            assert proc.stdout is not None
            while True:
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                sink.write(chunk)
                sink.flush()
                buf = (buf + chunk)[-4096:]
                state = compat.parse_request_progress(buf.decode("utf-8", "replace"))
                if state is not None:
                    on_progress(state)
            return proc.wait()
        except BaseException:  # Ctrl-C or an error here: stop the child we started, then re-raise
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            raise


@dataclass
class UnitResult:
    role: str
    task: str
    ok: bool
    seconds: float
    message: str


def _no_progress(state: compat.RequestProgress) -> None:
    pass


def run_units(spec: PairSpec, store: PairStore, role: str, tasks: list[str],
              on_progress: ProgressCallback = _no_progress, record_failure: bool = True) -> list[UnitResult]:
    """Run ``tasks`` for one model in one lm-eval process; commit each task to ``store`` (done.json last).

    On failure every task is reported failed; with ``record_failure`` (always the case for a single task) a
    ``failed.json`` with the log's tail is written for each.
    """
    scratch = store.scratch(role, tasks)
    cmd = eval_command(spec, role, tasks, scratch, store.request_cache(role))
    store.log_launch(role, tasks, cmd)
    log = store.log_path(role, tasks)
    start = time.monotonic()
    try:
        rc = _run_process(cmd, log, on_progress)
    finally:
        seconds = time.monotonic() - start
    problem, run = None, None
    if rc != 0:
        problem = f"lm-eval exited with status {rc}"
    else:
        try:
            run = outputs.find_run(scratch, what="lm-eval output")
        except ConjError:
            run = None
        missing = sorted(t for t in tasks if run is None or t not in run.samples or run.results.get(t) is None)
        if missing:
            problem = f"lm-eval wrote no results or samples for {', '.join(missing)}"
    if problem or run is None:
        problem = problem or "lm-eval wrote no output"
        if record_failure:
            for task in tasks:
                store.record_failure(role, task, {
                    "returncode": rc, "error": problem, "log": store.relative(log), "tail": _tail(log),
                    "command": cmd, "seconds": round(seconds, 1),
                })
        store.clear_scratch()
        return [UnitResult(role, task, False, seconds, problem) for task in tasks]
    done = []
    for task in tasks:
        results = outputs.read_results(run.results[task])
        samples = run.samples[task].read_bytes()
        metrics = outputs.task_metrics(results, task)
        store.commit(role, task, outputs.results_for_task(results, task), samples, {
            "n_samples": sum(1 for line in samples.splitlines() if line.strip()), "metrics": metrics,
            "seconds": round(seconds / len(tasks), 1), "log": store.relative(log), "identity": spec.identity(role),
        })
        shown = ", ".join(f"{k}={v:.3f}" for k, v in metrics.items())
        done.append(UnitResult(role, task, True, seconds / len(tasks), shown))
    store.clear_scratch()
    return done


def run_unit(spec: PairSpec, store: PairStore, role: str, task: str,
             on_progress: ProgressCallback = _no_progress) -> UnitResult:
    """Run one (model, task) in its own process (see :func:`run_units`)."""
    return run_units(spec, store, role, [task], on_progress)[0]


# --- running a pair ---------------------------------------------------------------------------------------------


@dataclass
class PairOutcome:
    out: Path
    ran: list[UnitResult]
    skipped: int
    summary: dict[str, Any]

    @property
    def failures(self) -> list[UnitResult]:
        return [u for u in self.ran if not u.ok]


def _emit(bar_enabled: bool, text: str) -> None:
    from tqdm import tqdm

    if bar_enabled:
        tqdm.write(text, file=sys.stderr)
    else:
        print(text, file=sys.stderr, flush=True)


def run_pair(spec: PairSpec, out: str | os.PathLike[str], force: bool = False, progress: bool | None = None,
             process_per: str = "task", finish: Finisher | None = None) -> PairOutcome:
    """Run (or resume) a pair into ``out``; then, still holding the folder's lock, ``finish(out)`` (the report).

    Failed units are recorded, not raised. ``process_per="task"``: one lm-eval process per (model, task) (a bar
    with ETA per model and task); ``"model"``: one process per model for all its pending tasks (one model load:
    faster, notably with vLLM); if that process fails, its tasks are retried one per process so the failing task is
    isolated (the request cache makes the finished requests free).
    """
    if process_per not in ("task", "model"):
        raise ConjError(f"process_per must be 'task' or 'model', not {process_per!r}")
    store = PairStore(out)
    check_local_paths(spec)
    compat.check_version()
    tasks = resolve_tasks(spec.tasks, spec.include_path)
    with store.lock(), _sigterm_as_exit():
        ran, skipped = _run_pair_locked(spec, store, tasks, force, progress, process_per)
        summary = finish(store.root) if finish is not None else {}
    return PairOutcome(store.root, ran, skipped, summary)


@contextlib.contextmanager
def _sigterm_as_exit():
    """SIGTERM (a job scheduler's cancel) unwinds like Ctrl-C, so the running lm-eval child is stopped too."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _announce_settings(spec: PairSpec, store: PairStore) -> None:
    tokenizers = compare_tokenizers(tokenizer_info(spec.base), tokenizer_info(str(spec.tuned), spec.tuned_adapter))
    store.write_tokenizers(tokenizers)
    if tokenizers["same"] is False:
        print(f"conj-harness compare: note: {tokenizers['note']}", file=sys.stderr)
    if spec.base_chat_template != spec.tuned_chat_template:
        print("conj-harness compare: warning: the chat-template settings differ between the models "
              f"(base {spec.base_chat_template}, tuned {spec.tuned_chat_template})", file=sys.stderr)


class _Progress:
    """The pair's bar (one step per unit) with the running unit's request count and ETA, or plain lines."""

    def __init__(self, label: str, total: int, enabled: bool) -> None:
        from tqdm import tqdm

        self.label = label
        self.bar = tqdm(total=total, desc=label, unit="run", file=sys.stderr, dynamic_ncols=True) \
            if total and enabled else None

    def emit(self, text: str) -> None:
        _emit(self.bar is not None, text)

    def finished(self, store: PairStore, unit: UnitResult) -> None:
        status = "done" if unit.ok else "FAILED"
        log = "" if unit.ok else f"; log: {store.unit_dir(unit.role, unit.task) / 'eval.log'}"
        self.emit(f"[{self.label}] {unit.role} {unit.task}: {status} in {unit.seconds:.0f}s ({unit.message}){log}")
        if self.bar is not None:
            self.bar.update(1)

    def for_unit(self, what: str) -> ProgressCallback:
        bar = self.bar
        if bar is None:
            return _no_progress
        bar.set_postfix_str(f"{what}: starting", refresh=True)
        last = [0.0]

        def on_progress(state: compat.RequestProgress) -> None:
            now = time.monotonic()
            if now - last[0] > 0.5:
                last[0] = now
                bar.set_postfix_str(f"{what}: {state.done}/{state.total} requests, eta {state.eta}", refresh=True)

        return on_progress

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _run_pair_locked(spec: PairSpec, store: PairStore, tasks: list[str], force: bool, progress: bool | None,
                     process_per: str) -> tuple[list[UnitResult], int]:
    store.prepare(spec, tasks, force)
    if store.judge_changed:
        from conj_harness.pairs.rejudge import rejudge_store

        relabelled = rejudge_store(store, spec.judge_spec(), {r: spec.identity(r) for r in ROLES})
        print(f"conj-harness compare: the judge changed to {spec.judge}: re-judged {len(relabelled)} finished "
              "safety runs from their saved generations (no inference)", file=sys.stderr)
    _announce_settings(spec, store)
    units = [(r, t) for r in ROLES for t in tasks]
    pending = [(r, t) for r, t in units if store.state(r, t, spec.identity(r)) != "done"]
    skipped = len(units) - len(pending)
    label = spec.name or store.root.name
    if skipped:
        print(f"conj-harness compare: {label}: {skipped} of {len(units)} runs already complete, skipping them",
              file=sys.stderr)
    shown = _Progress(label, len(pending), sys.stderr.isatty() if progress is None else bool(progress))
    ran: list[UnitResult] = []
    try:
        for role in ROLES:
            todo = [t for r, t in pending if r == role]
            if process_per == "model" and len(todo) > 1:
                results = run_units(spec, store, role, todo, shown.for_unit(f"{role} ({len(todo)} tasks)"),
                                    record_failure=False)
                if all(u.ok for u in results):
                    for unit in results:
                        ran.append(unit)
                        shown.finished(store, unit)
                    continue
                shown.emit(f"[{label}] {role}: the {len(todo)}-task run failed ({results[0].message}); "
                           "retrying one task per process")
            for task in todo:
                unit = run_unit(spec, store, role, task, shown.for_unit(f"{role} {task}"))
                ran.append(unit)
                shown.finished(store, unit)
    finally:
        shown.close()
        store.clear_scratch()
    return ran, skipped


# --- several pairs ----------------------------------------------------------------------------------------------


def run_pairs(specs: list[PairSpec], out: str | os.PathLike[str], force: bool = False, progress: bool | None = None,
              process_per: str = "task", finish: Finisher | None = None,
              finish_all: Callable[[Path], Any] | None = None) -> list[PairOutcome]:
    """Run every pair into ``out/<pair name>/`` (each finished by ``finish``), then ``finish_all(out)``."""
    multi = MultiPairStore(out)
    with multi.lock():
        multi.prepare([str(s.name) for s in specs], force)
        outcomes = [run_pair(spec, multi.root / str(spec.name), force=force, progress=progress,
                             process_per=process_per, finish=finish) for spec in specs]
        if finish_all is not None:
            finish_all(multi.root)
    return outcomes
