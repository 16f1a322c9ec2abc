"""``--executor ray``: a study's model runs as Ray actors, on every GPU of one node or of a cluster.

The driver (this process) makes the :class:`~conj_harness.pairs.plan.StudyPlan` once, checks the cluster can
place every run (a model asking for more GPUs than any node has is one line before anything runs), then starts one
:class:`~conj_harness.lmeval.actor.ModelActor` per model run with the resources it needs - ``num_gpus`` from
``--gpus-per-model`` or the vLLM tensor x pipeline parallel size (1 for hf on a GPU cluster; a CPU on a CPU-only
cluster; none for a served model, whose actor is only a client) - and lets Ray's scheduler place them: runs of
different models go to different GPUs or nodes at once, and a run waits for a free GPU when all are taken.

Each finished unit comes back by value (results, samples, the log's new part); **the driver is the only writer of
the folder** - the store's atomic commits, claims and redaction exactly as with the local executor - so nodes need
no shared filesystem. A unit shared by several pairs is committed into each. An actor or node that dies has its
unfinished units started again on a new actor (``RETRIES`` times), then they are recorded as failed with the
reason; Ctrl-C kills the actors, and a Ray this run started is stopped.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conj_harness.errors import ConjError
from conj_harness.files import redact
from conj_harness.pairs.plan import ModelRun, StudyPlan
from conj_harness.pairs.workers import UnitResult, commit_unit, record_failure

log = logging.getLogger(__name__)

#: New actors for the units of one that died (a lost node, an out-of-memory kill), per model run.
RETRIES = 2
RAY_EXTRA = "pip install 'conj-harness[ray]'"
EXECUTORS = ("local", "ray")
#: How long an unreachable --ray-address may take to say so.
CONNECT_TIMEOUT_S = 20


@dataclass(frozen=True)
class RaySettings:
    """Where and how a study runs on Ray (``compare --executor ray``)."""

    #: ``host:port`` of a running cluster's head (``ray start --head``), ``ray://host:10001``, or ``auto``; None:
    #: ``RAY_ADDRESS``, else a Ray started on this machine for this run and stopped after it.
    address: str | None = None
    #: GPUs per model run (a fraction shares a GPU between small models); None: decided per backend.
    gpus_per_model: float | None = None
    #: CPUs per model run (and its torch threads on a CPU-only cluster).
    cpus_per_model: int = 1

    def __post_init__(self) -> None:
        gpus: object = self.gpus_per_model
        if gpus is not None and (isinstance(gpus, bool) or not isinstance(gpus, (int, float)) or gpus < 0
                                 or (gpus > 1 and float(gpus) != int(gpus))):
            raise ConjError(f"--gpus-per-model {gpus!r}: give a fraction up to 1 (models sharing a GPU) or a whole "
                            "number of GPUs")
        cpus: object = self.cpus_per_model
        if isinstance(cpus, bool) or not isinstance(cpus, int) or cpus < 1:
            raise ConjError(f"--cpus-per-model {cpus!r}: give a whole number of CPUs, 1 or more")


def check_executor(executor: object) -> str:
    if executor not in EXECUTORS:
        raise ConjError(f"executor {executor!r}: choose one of {', '.join(EXECUTORS)}")
    return str(executor)


def import_ray() -> Any:
    """Ray, or one line saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ConjError(f"--executor ray needs Ray, which is not installed: {RAY_EXTRA}") from None
    return ray


# --- the cluster ------------------------------------------------------------------------------------------------


def _check_reachable(address: str) -> None:
    """A ``host:port`` (or ``ray://host:port``) that answers a TCP connection within the time-out."""
    if address == "auto":
        return
    target = address.split("://", 1)[-1].rsplit("/", 1)[0]
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        raise ConjError(f"--ray-address {address!r}: expected HOST:PORT of the cluster's head (e.g. 10.0.0.1:6379), "
                        "ray://HOST:10001 or auto")
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as e:
        why = "timed out" if isinstance(e, TimeoutError) else (e.strerror or type(e).__name__)
        raise ConjError(f"cannot reach the Ray cluster at {address} ({why}): start it there with `ray start --head`, "
                        "or give the head's address with --ray-address (or RAY_ADDRESS)") from None


def connect(settings: RaySettings) -> Any:
    """Ray, connected to the cluster (or a local Ray started here; :func:`disconnect` stops it)."""
    ray = import_ray()
    address = settings.address or os.environ.get("RAY_ADDRESS") or None
    options: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.ERROR,
                               "configure_logging": True}
    if address:
        _check_reachable(address)
        options["address"] = address
    else:
        options.update(include_dashboard=False, num_cpus=os.cpu_count() or 1)
    try:
        context = ray.init(**options)
    except Exception as e:  # noqa: BLE001 - Ray's own reasons (a version mismatch, a refused client)
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ConjError(f"cannot connect to the Ray cluster at {address or 'this machine'}: {first}") from None
    dashboard = getattr(context, "dashboard_url", None)
    log.info(f"conj-harness compare: Ray {'cluster at ' + address if address else 'started on this machine'}"
             + (f"; dashboard http://{dashboard}" if dashboard else ""))
    return ray


class Connection:
    """Ray connected in a background thread while the driver checks and plans the study: a local Ray's start-up
    (seconds) runs beside the task checks. :meth:`get` waits for it (and raises what went wrong); :meth:`close`
    disconnects, stopping a Ray started here. The thread lives until then: Ray ties the processes it starts to the
    thread that started them (they get a signal when it ends)."""

    def __init__(self, settings: RaySettings) -> None:
        self.ray: Any = None
        self.error: BaseException | None = None
        self.ready, self.done = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold, args=(settings,), daemon=True)
        self.thread.start()

    def _hold(self, settings: RaySettings) -> None:
        try:
            self.ray = connect(settings)
        except BaseException as e:  # noqa: BLE001 - handed to the main thread by get()
            self.error = e
            return
        finally:
            self.ready.set()
        self.done.wait()
        self.ray.shutdown()  # the driver's connection; a Ray started here stops with it

    def get(self) -> Any:
        self.ready.wait()
        if self.error is not None:
            raise self.error
        return self.ray

    def close(self) -> None:
        self.done.set()
        self.thread.join()


def _gpus_asked(run: ModelRun, settings: RaySettings, cluster_gpus: float) -> float:
    """The GPUs one model run asks for (see the module docstring)."""
    engine = run.spec.engine
    if engine.served:
        return 0.0
    if settings.gpus_per_model is not None:
        return float(settings.gpus_per_model)
    if not cluster_gpus:
        return 0.0
    if engine.engine == "vllm":
        args = dict(kv.split("=", 1) for kv in run.spec.lm_eval_model_args(run.roles[0]).split(",") if "=" in kv)
        try:
            return float(int(args.get("tensor_parallel_size", 1)) * int(args.get("pipeline_parallel_size", 1)))
        except ValueError:
            return 1.0
    return 1.0


def check_capacity(ray: Any, plan: StudyPlan, settings: RaySettings) -> dict[str, float]:
    """Each run's GPUs, after checking that some node has them (one line naming the model otherwise)."""
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    per_node = sorted((float(n.get("Resources", {}).get("GPU", 0)) for n in nodes), reverse=True)
    cpus = max((float(n.get("Resources", {}).get("CPU", 0)) for n in nodes), default=0.0)
    asked: dict[str, float] = {}
    for run in plan.runs:
        gpus = _gpus_asked(run, settings, sum(per_node))
        if gpus and (not per_node or per_node[0] < min(gpus, 1.0) or (gpus > 1 and per_node[0] < gpus)):
            have = ", ".join(f"{g:g}" for g in per_node) or "none"
            raise ConjError(f"the Ray cluster has no node with the {gpus:g} GPU{'s' if gpus != 1 else ''} the "
                            f"{run.label} model ({run.model_label()}) asks for (GPUs per node: {have}); lower "
                            "--gpus-per-model or the model's tensor_parallel_size, or add a node")
        if settings.cpus_per_model > cpus:
            raise ConjError(f"the Ray cluster has no node with {settings.cpus_per_model} CPUs for the {run.label} "
                            f"model (most CPUs on one node: {cpus:g}); lower --cpus-per-model")
        asked[run.key + run.owner.label] = gpus
    return asked


# --- running the plan -------------------------------------------------------------------------------------------


@dataclass
class _Live:
    """One model run's current actor and what it still has to do."""

    run: ModelRun
    handle: Any
    attempt: int
    left: list[tuple[str, str]]
    log: Path
    #: The node it loaded its model on ("" until it has).
    node: str = ""


class RayExecutor:
    """Runs a plan's model runs on Ray and commits what comes back (see the module docstring)."""

    def __init__(self, ray: Any, plan: StudyPlan, settings: RaySettings, files: dict[str, bytes],
                 on_unit: Any) -> None:
        from conj_harness.lmeval.actor import ModelActor

        self.ray, self.plan, self.settings, self.files = ray, plan, settings, files
        self.on_unit = on_unit
        self.actor_class = ray.remote(ModelActor)
        self.gpus = check_capacity(ray, plan, settings)
        self.cluster_gpus = float(ray.cluster_resources().get("GPU", 0))
        self.outstanding: dict[Any, tuple[_Live, tuple[str, str] | None]] = {}
        self.live: list[_Live] = []
        self.files_ref = ray.put(files)
        #: Every model load: its run, node and GPUs (what a benchmark counts).
        self.loads: list[dict[str, Any]] = []

    def _start(self, run: ModelRun, attempt: int, left: list[tuple[str, str]]) -> None:
        gpus = self.gpus[run.key + run.owner.label]
        options: dict[str, Any] = {"num_cpus": self.settings.cpus_per_model, "num_gpus": gpus, "max_restarts": 0,
                                   "max_task_retries": 0}
        job = run.job(Path())  # the actor puts its scratch in its node-local folder
        for entry in job["roles"]:
            entry["tasks"] = [t for r, t in left if r == entry["role"]]
        # a GPU it holds, or vLLM placing its own workers on the cluster's GPUs (gpus-per-model 0): lm-eval's
        # default device; else (a CPU-only cluster, a served model's client) the CPU
        on_gpu = bool(gpus) or (run.spec.engine.engine == "vllm" and self.cluster_gpus > 0)
        device = run.spec.device or ("cuda:0" if on_gpu else "cpu")
        # Ray shows an actor only the GPUs it was given, numbered from 0: a --device cuda:N meant for this machine
        # names a GPU the actor cannot see
        job["device"] = "cuda:0" if gpus and device.startswith("cuda") else device
        threads = 0 if gpus else self.settings.cpus_per_model
        handle = self.actor_class.options(**options).remote(job, self.files_ref, threads)
        store = run.owner.store
        live = _Live(run, handle, attempt, list(left), store.worker_log(run.roles, attempt))
        store.log_launch(run.roles[0], [t for _r, t in left], ["ray actor", run.label], f"ray:{run.label}#{attempt}")
        self.live.append(live)
        self.outstanding[handle.load.remote()] = (live, None)
        for role, task in left:
            self.outstanding[handle.run.remote(role, task)] = (live, (role, task))

    def run(self) -> None:
        for run in self.plan.runs:
            self._start(run, 1, list(run.units))
        try:
            while self.outstanding:
                ready, _ = self.ray.wait(list(self.outstanding), num_returns=1)
                live, unit = self.outstanding.pop(ready[0])
                try:
                    reply = self.ray.get(ready[0])
                except self.ray.exceptions.RayError as e:  # the actor or its node died
                    self._lost(live, e)
                    continue
                self._write_log(live, reply.get("log") or b"")
                if unit is None:
                    self._loaded(live, reply)
                else:
                    live.left.remove(unit)
                    self._finished(live, unit, reply)
                if not live.left:
                    self._stop(live)
        except BaseException:  # Ctrl-C, a full disk: no actor of this run keeps going
            for live in self.live:
                with contextlib.suppress(Exception):
                    self.ray.kill(live.handle, no_restart=True)
            raise

    def _stop(self, live: _Live) -> None:
        with contextlib.suppress(Exception):
            self.ray.get(live.handle.close.remote(), timeout=30)
        with contextlib.suppress(Exception):
            self.ray.kill(live.handle, no_restart=True)

    def _write_log(self, live: _Live, data: bytes) -> None:
        if data:
            store = live.run.owner.store
            live.log.parent.mkdir(parents=True, exist_ok=True)
            with open(store.path(str(live.log.relative_to(store.root))), "ab") as f:
                f.write(redact.redact_bytes(data, store.secrets))

    def _loaded(self, live: _Live, reply: dict[str, Any]) -> None:
        if reply.get("error"):
            return  # every unit of it comes back failed with this reason
        live.node = str(reply.get("node") or "")
        where = _where(reply)
        live.run.owner.store.log_load(live.run.roles, float(reply.get("seconds") or 0.0),
                                      f"ray:{live.run.label}#{live.attempt}@{where}", str(reply.get("node") or ""))
        self.loads.append({"run": live.run.label, "node": reply.get("node"), "gpus": reply.get("gpus"),
                           "attempt": live.attempt})
        log.info(f"conj-harness compare: {live.run.label}: {live.run.model_label()} loaded on {where} in "
                 f"{float(reply.get('seconds') or 0):.0f}s")

    def _finished(self, live: _Live, unit: tuple[str, str], reply: dict[str, Any]) -> None:
        run = live.run
        where = _where(reply)
        for target in run.targets[unit]:
            pair, role, task = target.pair, target.role, unit[1]
            store = pair.store  # the study claimed the unit before planning it, and releases it after
            extra: dict[str, Any] = {"ran_on": {k: reply.get(k) for k in ("host", "node", "gpus", "started",
                                                                         "finished")}}
            if pair is not run.owner or role != unit[0]:
                extra["shared_from"] = f"{run.owner.store.root.name}/{unit[0]}/{task}"
            if reply.get("ok"):
                result = commit_unit(pair.spec, store, role, task, reply["results"], reply["samples"],
                                     float(reply.get("seconds") or 0.0), store.relative(live.log),
                                     pair.fingerprints.get(task), extra)
            else:
                result = record_failure(store, role, task, str(reply.get("error")), None, [],
                                        float(reply.get("seconds") or 0.0), live.log)
            self.on_unit(pair, result, where, "shared_from" in extra)

    def _lost(self, live: _Live, error: BaseException) -> None:
        """An actor died. Its node lost (or gone before its model loaded): its unfinished units go to a new actor,
        twice at most. Its process died inside a task on a live node (a segfault, an out-of-memory kill): that task
        fails with the reason and the rest go to a new actor, as with the local executor's worker; one that died
        before loading its model, or could not even start (its creation failed: e.g. conj-harness missing on the
        node), fails its units at once."""
        for ref, (other, _u) in list(self.outstanding.items()):
            if other is live:
                del self.outstanding[ref]
        with contextlib.suppress(Exception):
            self.ray.kill(live.handle, no_restart=True)  # a live one would keep its GPU
        if not live.left:
            return
        why = _reason(error)
        if getattr(error, "actor_init_failed", False):
            self._fail(live, live.left, f"its Ray actor could not start on its node: {why}")
            return
        node_alive = bool(live.node) and self._node_alive(live.node)
        if node_alive and live.left:
            self._fail(live, live.left[:1], f"the model worker (a Ray actor) died during this task: {why}")
        elif not live.node and self._all_nodes_alive():
            self._fail(live, live.left, f"the model worker (a Ray actor) died before its model loaded: {why}")
            return
        if not live.left:
            return
        if live.attempt <= RETRIES:
            what = "its node was lost" if not node_alive else "its actor died"
            log.info(f"conj-harness compare: {live.run.label}: {what} ({type(error).__name__}); starting a new "
                     f"actor for the {len(live.left)} runs it did not finish (attempt {live.attempt + 1} of "
                     f"{RETRIES + 1})")
            left, live.left = list(live.left), []
            self._start(live.run, live.attempt + 1, left)
            return
        self._fail(live, live.left, f"its Ray actor was lost {RETRIES + 1} times (last: {why})")

    def _fail(self, live: _Live, units: list[tuple[str, str]], reason: str) -> None:
        for unit in list(units):
            live.left.remove(unit)
            self._finished(live, unit, {"ok": False, "error": reason, "seconds": 0.0})

    def _node_alive(self, node: str) -> bool:
        try:
            return any(n.get("NodeID") == node and n.get("Alive") for n in self.ray.nodes())
        except Exception:  # noqa: BLE001 - the cluster cannot say: treat the node as lost (retry)
            return False

    def _all_nodes_alive(self) -> bool:
        """For an actor that never reported its load: every node it could have been on is still up (so its process
        died, not its node)."""
        try:
            return all(n.get("Alive") for n in self.ray.nodes())
        except Exception:  # noqa: BLE001
            return False


def _reason(error: BaseException) -> str:
    """Ray's error in one line: the exception at the end of a creation task's traceback, else its first line."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    raised = [line for line in lines if re.match(r"^[A-Za-z_.]*(Error|Exception|Exit)\b.*", line)]
    text = raised[-1] if raised else (lines[0] if lines else type(error).__name__)
    return f"{type(error).__name__}: {text}"[:400]


def _where(reply: dict[str, Any]) -> str:
    gpus = reply.get("gpus") or []
    node = str(reply.get("node") or "")[:8]
    return f"{reply.get('host')} node {node}" + (f" GPU {','.join(map(str, gpus))}" if gpus else "")


def run_plan(plan: StudyPlan, settings: RaySettings, connection: Connection) -> dict[str, list[UnitResult]]:
    """Run every model run of ``plan`` on Ray (``connection``); each pair's finished units, in the order they
    finished."""
    from conj_harness.lmeval.actor import pack_folder

    ran: dict[str, list[UnitResult]] = {p.label: [] for p in plan.pairs}
    include_paths = {p.spec.include_path for p in plan.pairs if p.spec.include_path}
    files: dict[str, bytes] = {}
    for folder in sorted(include_paths):
        files.update({f"{folder}\0{rel}": data for rel, data in pack_folder(folder).items()})

    def on_unit(pair: Any, unit: UnitResult, where: str, shared: bool) -> None:
        ran[pair.label].append(unit)
        status = "done" if unit.ok else "FAILED"
        tail = "" if unit.ok else f"; log: {pair.store.root / unit.log}"
        note = " (shared run: copied)" if shared else f" on {where}"
        log.info(f"[{pair.label}] {unit.role} {unit.task}: {status} in {unit.seconds:.0f}s{note} ({unit.message})"
                 f"{tail}")

    if not plan.runs:
        return ran
    started = time.monotonic()
    try:
        RayExecutor(connection.get(), plan, settings, files, on_unit).run()
    finally:
        connection.close()  # before the reports: a Ray started here stops now
    log.info(f"conj-harness compare: {len(plan.runs)} model runs on Ray in {time.monotonic() - started:.0f}s"
             + (f"; {plan.shared} runs shared between pairs" if plan.shared else ""))
    return ran
