"""Running a model pair: base and tuned on the same conj tasks, one lm-eval process per (model, task).

Layout of an output folder ``results/<name>/``::

    pair.json                  what this folder holds: both models, adapter, backend, tasks, limit, model args,
                               chat-template settings (a different pair is refused unless --force)
    tokenizers.json            tokenizer class / vocabulary of both models (when they can be loaded locally)
    launches.jsonl             one line per lm-eval process started (what a resume re-ran)
    base/<task>/               results.json, samples.jsonl (lm-eval's files), eval.log, done.json (written last)
    tuned/<task>/              ... or failed.json (return code and the log's tail) when the run failed
    cache/<role>/lm_cache*.db  lm-eval's request cache, one per model (lm-eval's cache does not key by model)
    summary.json, table.csv, report.md, drop_<family>.png, base_vs_tuned_<family>.png   (conj_harness.analysis)

Every (model, task) unit is committed atomically: lm-eval writes into ``.tmp/``, the files are copied with
:mod:`conj_harness.atomic` and ``done.json`` is written last, so a unit is complete iff its ``done.json`` exists
and matches the pair. Re-running the same command skips complete units; a killed process leaves its request
cache behind (autocommitted sqlite), so even a half-done unit does not redo its finished requests.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from conj_harness import atomic
from conj_harness.errors import ConjError, UnknownNameError

ROLES = ("base", "tuned")
BACKENDS = ("hf", "vllm")
DEFAULT_SEED = "0,1234,1234,1234"
PAIR_FILE = "pair.json"
PAIRS_FILE = "pairs.json"
LAUNCH_LOG = "launches.jsonl"
SCHEMA = 1


# --- the pair ---------------------------------------------------------------------------------------------------


@dataclass
class PairSpec:
    """Everything that defines a comparison; both models get the same tasks, limit, seed and decoding."""

    base: str
    tuned: str | None = None
    tuned_adapter: str | None = None
    tasks: list[str] = field(default_factory=list)
    backend: str = "hf"
    model_args: str = ""
    base_model_args: str = ""
    tuned_model_args: str = ""
    limit: float | None = None
    batch_size: str | None = None
    device: str | None = None
    seed: str = DEFAULT_SEED
    gen_kwargs: str | None = None
    base_chat_template: bool = False
    tuned_chat_template: bool = False
    include_path: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ConjError(f"unknown backend {self.backend!r}: use one of {', '.join(BACKENDS)}")
        if not self.base:
            raise ConjError("--base is required")
        if not self.tuned and not self.tuned_adapter:
            raise ConjError("give --tuned <model>, or --tuned-adapter <path> (the tuned model is then base + adapter)")
        if not self.tuned:
            self.tuned = self.base
        self.base, self.tuned = normalize_model(self.base), normalize_model(self.tuned)
        if self.tuned_adapter:
            self.tuned_adapter = normalize_model(self.tuned_adapter)
        for label, args in (("--model-args", self.model_args), ("--base-model-args", self.base_model_args),
                            ("--tuned-model-args", self.tuned_model_args)):
            keys = [kv.split("=", 1)[0].strip() for kv in (args or "").split(",") if kv.strip()]
            bad = {"pretrained", "peft", "lora_local_path"} & set(keys)
            if bad:
                raise ConjError(f"{label} must not set {', '.join(sorted(bad))}: use --base/--tuned/--tuned-adapter")
        if self.limit is not None and self.limit <= 0:
            raise ConjError("--limit must be positive")
        if isinstance(self.tasks, str):
            self.tasks = [self.tasks]

    def model(self, role: str) -> str:
        return self.base if role == "base" else self.tuned  # type: ignore[return-value]

    def adapter(self, role: str) -> str | None:
        return self.tuned_adapter if role == "tuned" else None

    def chat_template(self, role: str) -> bool:
        return self.base_chat_template if role == "base" else self.tuned_chat_template

    def lm_eval_model_args(self, role: str) -> str:
        """The ``--model_args`` string for one role: pretrained (+ adapter), shared args, then the role's own."""
        parts = [f"pretrained={self.model(role)}"]
        adapter = self.adapter(role)
        if adapter:
            parts += [f"peft={adapter}"] if self.backend == "hf" else [f"lora_local_path={adapter}", "enable_lora=True"]
        for extra in (self.model_args, self.base_model_args if role == "base" else self.tuned_model_args):
            parts += [kv.strip() for kv in (extra or "").split(",") if kv.strip()]
        return ",".join(parts)

    def identity(self, role: str) -> dict:
        """What makes one role's results what they are (batch size and device may change on a resume)."""
        return {
            "model": self.model(role), "adapter": self.adapter(role), "backend": self.backend,
            "model_args": self.lm_eval_model_args(role), "chat_template": self.chat_template(role),
            "limit": self.limit, "seed": self.seed, "gen_kwargs": self.gen_kwargs,
        }

    def label(self) -> str:
        tuned = self.tuned if not self.tuned_adapter else f"{self.tuned} + adapter {self.tuned_adapter}"
        return f"base {self.base} vs tuned {tuned}"


def normalize_model(name: str) -> str:
    """A local folder becomes an absolute path (so the same pair matches from any working directory)."""
    path = Path(os.path.expanduser(str(name)))
    return str(path.resolve()) if path.exists() else str(name)


def check_local_paths(spec: PairSpec) -> None:
    """A model or adapter written as a path (absolute, ./, ../, ~) must exist: fail before any model is loaded."""
    for flag, value in (("--base", spec.base), ("--tuned", spec.tuned), ("--tuned-adapter", spec.tuned_adapter)):
        if value and str(value).startswith(("/", "./", "../", "~")) and not Path(os.path.expanduser(value)).exists():
            raise ConjError(f"{flag} {value}: no such folder")


def resolve_tasks(specs: list[str], include_path: str | None = None) -> list[str]:
    """Expand names, comma lists, globs (``conj_*``) and families (tags such as ``conj_icl``) to task names."""
    from lm_eval.tasks._index import Kind, TaskIndex

    from conj_harness.registration import search_paths

    index = TaskIndex.build(search_paths(include_path))
    tasks = {n for n, e in index.items() if e.kind in (Kind.TASK, Kind.PY_TASK)}

    def members(name: str, seen: set) -> list[str]:
        if name in tasks:
            return [name]
        entry = index.get(name)
        if entry is None or name in seen:
            return []
        seen.add(name)
        if entry.kind == Kind.TAG:
            subs = sorted(entry.tags)
        else:  # a group: its cfg lists the tasks
            cfg_tasks = (entry.cfg or {}).get("task") or []
            subs = [t if isinstance(t, str) else t.get("task") for t in (cfg_tasks if isinstance(cfg_tasks, list) else [cfg_tasks])]
        return [t for s in subs if s for t in members(s, seen)]

    out: list[str] = []
    flat = [s.strip() for spec in specs for s in str(spec).split(",") if s.strip()]
    if not flat:
        raise ConjError("--tasks is empty: name tasks, families (conj_icl) or globs ('conj_*')")
    for spec in flat:
        matched = [n for n in sorted(index) if fnmatch.fnmatchcase(n, spec)]
        found = [t for n in matched for t in members(n, set())]
        if not found:
            raise UnknownNameError("task", spec, sorted(tasks))
        out += [t for t in found if t not in out]
    return out


# --- the output folder ------------------------------------------------------------------------------------------


from conj_harness.jsonl import read_json_or_none as _read_json  # noqa: E402 - one reader for both modules


def prepare_output(out: Path, spec: PairSpec, tasks: list[str], force: bool) -> dict:
    """Check that ``out`` is empty or holds this pair (or ``force``), then write ``pair.json``.

    With ``force``, a role whose identity changed loses its results and request cache (the cache does not key by
    model, so keeping it would serve the old model's answers); the other role's results are kept.
    """
    out.mkdir(parents=True, exist_ok=True)
    record = _read_json(out / PAIR_FILE)
    entries = [p for p in out.iterdir() if not p.name.startswith(".")]
    previous_tasks: list[str] = []
    if record is None and entries:
        if not force:
            raise ConjError(
                f"{out} is not empty and holds no {PAIR_FILE} (not a compare folder, or a multi-pair folder): "
                "choose another --output, or pass --force to write into it anyway"
            )
    elif record is not None:
        changed = [r for r in ROLES if (record.get(r) or {}).get("identity") != spec.identity(r)]
        if changed and not force:
            old = f"base {record.get('base', {}).get('identity', {}).get('model')} vs tuned " \
                  f"{record.get('tuned', {}).get('identity', {}).get('model')}"
            diffs = []
            for r in changed:
                old_id, new_id = (record.get(r) or {}).get("identity") or {}, spec.identity(r)
                keys = [k for k in new_id if old_id.get(k) != new_id.get(k)]
                if len(keys) > 1 and "model_args" in keys:  # model_args repeats the model / adapter change
                    keys.remove("model_args")
                diffs += [f"{r} {k}: {old_id.get(k)!r} -> {new_id.get(k)!r}" for k in keys]
            raise ConjError(
                f"{out} holds another pair's results ({old}; differs in {'; '.join(diffs)}): "
                "choose another --output, or pass --force to replace them"
            )
        for r in changed:
            shutil.rmtree(out / r, ignore_errors=True)
            shutil.rmtree(out / "cache" / r, ignore_errors=True)
        previous_tasks = list(record.get("tasks") or [])
    shutil.rmtree(out / ".tmp", ignore_errors=True)
    all_tasks = previous_tasks + [t for t in tasks if t not in previous_tasks]
    record = {
        "schema": SCHEMA,
        "name": spec.name or out.name,
        "backend": spec.backend,
        "tasks": all_tasks,
        "requested_tasks": tasks,
        "limit": spec.limit,
        "seed": spec.seed,
        "gen_kwargs": spec.gen_kwargs,
        "batch_size": spec.batch_size,
        "device": spec.device,
        "include_path": spec.include_path,
        "base": {"model": spec.base, "adapter": None, "chat_template": spec.base_chat_template,
                 "model_args": spec.lm_eval_model_args("base"), "identity": spec.identity("base")},
        "tuned": {"model": spec.tuned, "adapter": spec.tuned_adapter, "chat_template": spec.tuned_chat_template,
                  "model_args": spec.lm_eval_model_args("tuned"), "identity": spec.identity("tuned")},
        "spec": asdict(spec),
    }
    atomic.write_json(out / PAIR_FILE, record)
    return record


@contextlib.contextmanager
def folder_lock(out: Path):
    """Hold ``out/.lock`` for the run: a second compare into the same folder stops instead of mixing files."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".lock", "a+", encoding="utf-8") as f:
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
            raise ConjError(f"another `conj-harness compare` (pid {holder}) is writing to {out}; wait for it to "
                            "finish, or use another --output") from None
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        try:
            yield
        finally:
            if not (out / PAIR_FILE).exists() and not (out / PAIRS_FILE).exists():
                (out / ".lock").unlink(missing_ok=True)  # refused a foreign folder: leave it as it was
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def unit_done(out: Path, role: str, task: str, identity: dict) -> bool:
    done = _read_json(out / role / task / "done.json")
    return bool(done) and done.get("identity") == identity and (out / role / task / "samples.jsonl").is_file()


# --- tokenizers -------------------------------------------------------------------------------------------------


def tokenizer_info(model: str, adapter: str | None = None) -> dict:
    """Class and vocabulary size of a model's tokenizer, loaded from local files only (skipped otherwise)."""
    source = model
    if adapter and (Path(adapter) / "tokenizer_config.json").is_file():
        source = adapter
    try:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(source, local_files_only=True)
        vocab = tok.get_vocab()
    except Exception as e:  # hub names not in the local cache, remote code, no tokenizer files...
        return {"source": source, "checked": False, "reason": f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"}
    import hashlib

    digest = hashlib.sha256(json.dumps(sorted(vocab.items()), ensure_ascii=False).encode()).hexdigest()[:16]
    return {"source": source, "checked": True, "class": type(tok).__name__, "vocab_size": len(tok),
            "vocab_sha": digest}


def compare_tokenizers(base: dict, tuned: dict) -> dict:
    """``same``: True / False when both were loaded, None when either could not be checked."""
    if not (base.get("checked") and tuned.get("checked")):
        return {"base": base, "tuned": tuned, "same": None, "note": "tokenizers not checked (not loadable locally)"}
    same = base["vocab_sha"] == tuned["vocab_sha"] and base["class"] == tuned["class"]
    note = "same tokenizer" if same else (
        f"different tokenizers: base {base['class']} ({base['vocab_size']} tokens) vs tuned {tuned['class']} "
        f"({tuned['vocab_size']} tokens); allowed, but outputs are not token-for-token comparable"
    )
    return {"base": base, "tuned": tuned, "same": same, "note": note}


# --- running one unit -------------------------------------------------------------------------------------------

_BAR = re.compile(r"Running (\w+) requests:\s*(\d+)%\|[^|]*\|\s*(\d+)/(\d+)\s*\[([^<\]]*)<([^,\]]*)")


def eval_command(spec: PairSpec, role: str, tasks: list[str], tmp: Path, cache: Path) -> list[str]:
    cmd = [sys.executable, "-m", "conj_harness.eval_cli", "--model", spec.backend,
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
    return cmd


def _tail(log: Path, lines: int = 40) -> str:
    try:
        text = log.read_bytes()[-200_000:].decode("utf-8", "replace")
    except OSError:
        return ""
    clean = [line.rsplit("\r", 1)[-1] for line in text.split("\n")]
    return "\n".join([line for line in clean if line.strip()][-lines:])


def _run_process(cmd: list[str], log: Path, on_progress) -> int:
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
                matches = _BAR.findall(buf.decode("utf-8", "replace"))
                if matches:
                    on_progress(matches[-1])
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


_STAMPED = re.compile(r"^samples_(.+)_(\d{4}-\d{2}-\d{2}T[0-9.\-]+)\.jsonl$")
_PER_TASK_KEYS = ("results", "configs", "versions", "n-shot", "higher_is_better", "n-samples", "task_hashes")


def _task_results(res: dict, task: str) -> dict:
    """lm-eval's results dict cut down to one task (a process may have run several)."""
    out = dict(res)
    for key in _PER_TASK_KEYS:
        if isinstance(res.get(key), dict):
            out[key] = {k: v for k, v in res[key].items() if k == task}
    out.pop("group_subtasks", None)
    return out


def _launch(out: Path, role: str, tasks: list[str], cmd: list[str]) -> None:
    with open(out / LAUNCH_LOG, "a", encoding="utf-8") as f:
        f.write(json.dumps({"role": role, "tasks": tasks, "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
                            "cmd": cmd}) + "\n")


def run_units(spec: PairSpec, out: Path, role: str, tasks: list[str], on_progress=lambda m: None,
              record_failure: bool = True) -> list[UnitResult]:
    """Run ``tasks`` for one model in one lm-eval process; commit each task atomically (done.json last).

    On failure every task is reported failed; with ``record_failure`` (always the case for a single task) a
    ``failed.json`` with the log's tail is written for each.
    """
    tag = tasks[0] if len(tasks) == 1 else f"{len(tasks)}_tasks"
    tmp = out / ".tmp" / f"{role}__{tag}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    (out / "cache" / role).mkdir(parents=True, exist_ok=True)
    cmd = eval_command(spec, role, tasks, tmp, out / "cache" / role / "lm_cache")
    _launch(out, role, tasks, cmd)
    log = out / role / tasks[0] / "eval.log" if len(tasks) == 1 else out / role / f"eval_{tag}.log"
    start = time.monotonic()
    try:
        rc = _run_process(cmd, log, on_progress)
    finally:
        seconds = time.monotonic() - start
    results = sorted(tmp.rglob("results_*.json"))
    samples = {}
    for p in tmp.rglob("samples_*.jsonl"):
        m = _STAMPED.match(p.name)
        if m and m.group(1) in tasks:
            samples[m.group(1)] = p
    problem = None
    if rc != 0:
        problem = f"lm-eval exited with status {rc}"
    elif len(results) != 1 or set(samples) != set(tasks):
        missing = sorted(set(tasks) - set(samples))
        problem = f"lm-eval wrote {len(results)} results files and no samples for {', '.join(missing) or '-'}"
    if problem:
        if record_failure:
            for task in tasks:
                atomic.write_json(out / role / task / "failed.json", {
                    "role": role, "task": task, "returncode": rc, "error": problem,
                    "log": str(log.relative_to(out)), "tail": _tail(log), "command": cmd, "seconds": round(seconds, 1),
                    "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
                })
        shutil.rmtree(tmp, ignore_errors=True)
        return [UnitResult(role, task, False, seconds, problem) for task in tasks]
    res = json.loads(results[0].read_text(encoding="utf-8"))
    done = []
    for task in tasks:
        unit = out / role / task
        atomic.write_json(unit / "results.json", _task_results(res, task))
        atomic.write_bytes(unit / "samples.jsonl", samples[task].read_bytes())
        metrics = {k.split(",")[0]: v for k, v in (res.get("results", {}).get(task) or {}).items()
                   if "," in k and "_stderr" not in k and isinstance(v, (int, float))}
        n = sum(1 for line in samples[task].read_text(encoding="utf-8").splitlines() if line.strip())
        (unit / "failed.json").unlink(missing_ok=True)
        atomic.write_json(unit / "done.json", {
            "role": role, "task": task, "n_samples": n, "metrics": metrics, "seconds": round(seconds / len(tasks), 1),
            "log": str(log.relative_to(out)), "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "identity": spec.identity(role),
        })
        shown = ", ".join(f"{k}={v:.3f}" for k, v in metrics.items())
        done.append(UnitResult(role, task, True, seconds / len(tasks), shown))
    shutil.rmtree(tmp, ignore_errors=True)
    return done


def run_unit(spec: PairSpec, out: Path, role: str, task: str, on_progress=lambda m: None) -> UnitResult:
    """Run one (model, task) in its own process (see :func:`run_units`)."""
    return run_units(spec, out, role, [task], on_progress)[0]


# --- running a pair ---------------------------------------------------------------------------------------------


@dataclass
class PairOutcome:
    out: Path
    ran: list[UnitResult]
    skipped: int
    summary: dict

    @property
    def failures(self) -> list[UnitResult]:
        return [u for u in self.ran if not u.ok]


def _emit(bar_enabled: bool, text: str) -> None:
    from tqdm import tqdm

    if bar_enabled:
        tqdm.write(text, file=sys.stderr)
    else:
        print(text, file=sys.stderr, flush=True)


def run_pair(spec: PairSpec, out: str | os.PathLike, force: bool = False, progress: bool | None = None,
             metrics: dict[str, str] | None = None, n_boot: int = 10_000, seed: int = 0, alpha: float = 0.05,
             process_per: str = "task") -> PairOutcome:
    """Run (or resume) a pair into ``out``, then write its report. Failed units are recorded, not raised.

    ``process_per="task"``: one lm-eval process per (model, task) (a bar with ETA per model and task);
    ``"model"``: one process per model for all its pending tasks (one model load: faster, notably with vLLM);
    if that process fails, its tasks are retried one per process so the failing task is isolated (the request
    cache makes the finished requests free).
    """
    if process_per not in ("task", "model"):
        raise ConjError(f"process_per must be 'task' or 'model', not {process_per!r}")
    out = Path(out)
    check_local_paths(spec)
    tasks = resolve_tasks(spec.tasks, spec.include_path)
    with folder_lock(out), _sigterm_as_exit():
        return _run_pair_locked(spec, out, tasks, force, progress, metrics, n_boot, seed, alpha, process_per)


@contextlib.contextmanager
def _sigterm_as_exit():
    """SIGTERM (a job scheduler's cancel) unwinds like Ctrl-C, so the running lm-eval child is stopped too."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise SystemExit(128 + signum)

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _run_pair_locked(spec, out, tasks, force, progress, metrics, n_boot, seed, alpha, process_per) -> PairOutcome:
    from tqdm import tqdm

    from conj_harness import analysis

    prepare_output(out, spec, tasks, force)
    tokenizers = compare_tokenizers(tokenizer_info(spec.base), tokenizer_info(spec.tuned, spec.tuned_adapter))
    atomic.write_json(out / "tokenizers.json", tokenizers)
    if tokenizers["same"] is False:
        print(f"conj-harness compare: note: {tokenizers['note']}", file=sys.stderr)
    if spec.base_chat_template != spec.tuned_chat_template:
        print("conj-harness compare: warning: the chat-template settings differ between the models "
              f"(base {spec.base_chat_template}, tuned {spec.tuned_chat_template})", file=sys.stderr)

    units = [(r, t) for r in ROLES for t in tasks]
    pending = [(r, t) for r, t in units if not unit_done(out, r, t, spec.identity(r))]
    skipped = len(units) - len(pending)
    label = spec.name or out.name
    if skipped:
        print(f"conj-harness compare: {label}: {skipped} of {len(units)} runs already complete, skipping them",
              file=sys.stderr)
    enabled = sys.stderr.isatty() if progress is None else bool(progress)
    bar = tqdm(total=len(pending), desc=label, unit="run", file=sys.stderr, dynamic_ncols=True) \
        if pending and enabled else None
    ran: list[UnitResult] = []

    def report(results: list[UnitResult]) -> None:
        for u in results:
            ran.append(u)
            status = "done" if u.ok else "FAILED"
            _emit(bar is not None, f"[{label}] {u.role} {u.task}: {status} in {u.seconds:.0f}s ({u.message})"
                  + ("" if u.ok else f"; log: {out / u.role / u.task / 'eval.log'}"))
            if bar is not None:
                bar.update(1)

    def progress_for(what: str):
        last = [0.0]

        def on_progress(m):
            now = time.monotonic()
            if bar is not None and now - last[0] > 0.5:
                last[0] = now
                _kind, _pct, done, total, _elapsed, eta = m
                bar.set_postfix_str(f"{what}: {done}/{total} requests, eta {eta.strip()}", refresh=True)
        if bar is not None:
            bar.set_postfix_str(f"{what}: starting", refresh=True)
        return on_progress

    try:
        for role in ROLES:
            todo = [t for r, t in pending if r == role]
            if not todo:
                continue
            if process_per == "model" and len(todo) > 1:
                results = run_units(spec, out, role, todo, progress_for(f"{role} ({len(todo)} tasks)"),
                                    record_failure=False)
                if all(u.ok for u in results):
                    report(results)
                    continue
                _emit(bar is not None, f"[{label}] {role}: the {len(todo)}-task run failed ({results[0].message}); "
                                       "retrying one task per process")
            for task in todo:
                report([run_unit(spec, out, role, task, progress_for(f"{role} {task}"))])
    finally:
        if bar is not None:
            bar.close()
        shutil.rmtree(out / ".tmp", ignore_errors=True)
    summary = analysis.render_pair_dir(out, metrics=metrics, n_boot=n_boot, seed=seed, alpha=alpha)
    return PairOutcome(out, ran, skipped, summary)


# --- several pairs ----------------------------------------------------------------------------------------------

PAIR_KEYS = {f for f in PairSpec.__dataclass_fields__}


def load_pairs_file(path: str | os.PathLike, defaults: dict) -> list[PairSpec]:
    """Read ``pairs.yaml``: a list of pairs, or ``{defaults: {...}, pairs: [...]}``; keys as in :class:`PairSpec`.

    Command-line flags act as defaults; the file's ``defaults`` override them and each pair overrides both.
    """
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise ConjError(f"cannot read pairs file {path}: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise ConjError(f"pairs file {path} is not valid YAML: {str(e).splitlines()[0]}") from None
    file_defaults: dict = {}
    if isinstance(data, dict):
        file_defaults = data.get("defaults") or {}
        extra = set(data) - {"defaults", "pairs"}
        if extra:
            raise ConjError(f"pairs file {path}: unknown top-level keys {sorted(extra)} (use 'defaults' and 'pairs')")
        data = data.get("pairs")
    if not isinstance(data, list) or not data:
        raise ConjError(f"pairs file {path}: expected a non-empty list of pairs (each with name, base, tuned)")
    specs, names = [], set()
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise ConjError(f"pairs file {path}: pair {i + 1} is not a mapping")
        merged = {**{k: v for k, v in defaults.items() if v is not None}, **file_defaults, **item}
        merged = {k.replace("-", "_"): v for k, v in merged.items()}
        unknown = set(merged) - PAIR_KEYS
        if unknown:
            raise ConjError(f"pairs file {path}: pair {i + 1} has unknown keys {sorted(unknown)}; "
                            f"allowed: {', '.join(sorted(PAIR_KEYS))}")
        name = str(merged.get("name") or "")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
            raise ConjError(f"pairs file {path}: pair {i + 1} needs a 'name' usable as a folder name (got {name!r})")
        if name in names:
            raise ConjError(f"pairs file {path}: pair name {name!r} is used twice")
        names.add(name)
        if isinstance(merged.get("tasks"), str):
            merged["tasks"] = [merged["tasks"]]
        if merged.get("limit") is not None:
            merged["limit"] = float(merged["limit"])
        for key in ("seed", "batch_size"):
            if merged.get(key) is not None:
                merged[key] = str(merged[key])
        if not merged.get("tasks"):
            raise ConjError(f"pairs file {path}: pair {name!r} has no tasks (set them in the pair, defaults or --tasks)")
        specs.append(PairSpec(**merged))
    return specs


def prepare_multi_output(out: Path, names: list[str], force: bool) -> None:
    """A multi-pair folder holds ``pairs.json`` and one sub-folder per pair (each guarded by its own pair.json)."""
    out.mkdir(parents=True, exist_ok=True)
    record = _read_json(out / PAIRS_FILE)
    entries = [p for p in out.iterdir() if not p.name.startswith(".")]
    if record is None and entries and not force:
        if (out / PAIR_FILE).exists():
            raise ConjError(f"{out} holds a single pair's results: choose another --output for --pairs, or --force")
        raise ConjError(f"{out} is not empty and holds no {PAIRS_FILE}: choose another --output, or pass --force")
    old = list((record or {}).get("pairs") or [])
    atomic.write_json(out / PAIRS_FILE, {"schema": SCHEMA, "pairs": old + [n for n in names if n not in old]})


def run_pairs(specs: list[PairSpec], out: str | os.PathLike, force: bool = False, progress: bool | None = None,
              metrics: dict[str, str] | None = None, n_boot: int = 10_000, seed: int = 0,
              alpha: float = 0.05, process_per: str = "task") -> list[PairOutcome]:
    """Run every pair into ``out/<pair name>/``, then write ``cross_pair.csv`` / ``cross_pair.md``."""
    from conj_harness import analysis

    out = Path(out)
    with folder_lock(out):
        prepare_multi_output(out, [s.name for s in specs], force)  # type: ignore[misc]
        outcomes = []
        for spec in specs:
            outcomes.append(run_pair(spec, out / spec.name, force=force, progress=progress, metrics=metrics,  # type: ignore[operator]
                                     n_boot=n_boot, seed=seed, alpha=alpha, process_per=process_per))
        analysis.render_multi_dir(out, metrics=metrics, n_boot=n_boot, seed=seed, alpha=alpha, rerender=False)
    return outcomes
