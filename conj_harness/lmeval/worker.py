"""One model, loaded once, over all its pending tasks: the process ``conj-harness compare`` runs per model.

``python -m conj_harness.lmeval.worker JOB.json``. The job names the backend, the model arguments and, per role,
the tasks, the request cache, the chat-template switch and (for a base model and its LoRA adapter on one load) the
adapter. The worker applies ``conj-eval``'s paper-mode preparation (BOS, backend and data checks, the judge), builds
lm-eval's model object once, then runs the tasks one after another with ``lm_eval.simple_evaluate`` on that object
and writes each task's results and samples with lm-eval's own ``EvaluationTracker`` into the job's scratch folder,
exactly as ``lm_eval --output_path ... --log_samples`` would.

It reports on stdout, one event per line (:mod:`conj_harness.lmeval.protocol`), so the parent commits each task the
moment it is done, and it asks the parent for each next task on stdin (the parent claims the unit first, so two
compares writing into one folder never run the same unit).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from conj_harness.errors import ConjError
from conj_harness.lmeval import backend_checks, compat, protocol


def emit(kind: protocol.EventKind, **fields: Any) -> None:
    print(protocol.encode(protocol.Event(kind, **fields)), flush=True)


def _prepared_args(job: dict[str, Any]) -> argparse.Namespace:
    """What ``conj-eval`` would do to these arguments (paper-mode BOS, checks, the judge's metadata)."""
    from lm_eval.utils import simple_parse_args_string

    from conj_harness.lmeval.eval_cli import prepare

    tasks = sorted({t for role in job["roles"] for t in role["tasks"]})
    model_args = simple_parse_args_string(job["model_args"])  # typed as lm-eval's CLI types them
    args = argparse.Namespace(command="run", model=job["backend"], model_args=model_args, tasks=tasks,
                              include_path=job.get("include_path"), metadata=dict(job.get("metadata") or {}))
    prepare(args, build=False)  # the parent built and checked every task before it started this worker
    return args


def _build_tasks(names: list[str], manager: Any) -> dict[str, Any]:
    """lm-eval's task objects for one role, built once (simple_evaluate takes them instead of names)."""
    return dict(manager.load(names)["tasks"]) if names else {}


def _try_build_tasks(names: list[str], manager: Any) -> tuple[dict[str, Any], str | None]:
    """The built tasks, or none and why: a task that does not build fails when it runs, with lm-eval's reason."""
    try:
        return _build_tasks(names, manager), None
    except Exception as e:  # noqa: BLE001
        return {}, f"{type(e).__name__}: {e}"


def _requests_per_task(tasks: dict[str, Any], limit: float | None) -> dict[str, int]:
    """How many requests each task will send (documents, times choices for multiple-choice tasks)."""
    counts = {}
    for name, task in tasks.items():
        docs = task.test_docs() if task.has_test_docs() else task.validation_docs()
        n = len(docs) if docs is not None else 0
        if limit is not None:
            n = min(n, int(limit) if limit >= 1 else int(n * limit))
        per_doc = 1
        if task.config.output_type == "multiple_choice" and n:
            per_doc = len(task.doc_to_choice(docs[0]))
        counts[str(getattr(name, "task_name", name))] = n * per_doc
    return counts


def _seeds(seed: str) -> dict[str, int | None]:
    parts = [int(x) if x.strip() and x.strip().lower() != "none" else None for x in str(seed).split(",")]
    parts = (parts + [parts[-1]] * 4)[:4] if len(parts) == 1 else (parts + [None] * 4)[:4]
    return {"random_seed": parts[0], "numpy_random_seed": parts[1], "torch_random_seed": parts[2],
            "fewshot_random_seed": parts[3]}


def _run_task(lm: Any, job: dict[str, Any], role: dict[str, Any], task: str, built: Any, manager: Any,
              metadata: dict[str, Any], model_args: dict[str, Any]) -> Path:
    import lm_eval
    from lm_eval.loggers import EvaluationTracker

    out = Path(job["scratch"]) / role["role"] / task
    cache = Path(role["cache"].replace("{task}", task))  # the store's per-unit request cache
    cache.parent.mkdir(parents=True, exist_ok=True)
    tracker = EvaluationTracker(output_path=str(out))
    results = lm_eval.simple_evaluate(
        model=lm, model_args=model_args, tasks=[built if built is not None else task], task_manager=manager,
        limit=job.get("limit"),
        log_samples=True, use_cache=str(cache), gen_kwargs=job.get("gen_kwargs"),
        apply_chat_template=bool(role.get("chat_template")), evaluation_tracker=tracker, metadata=metadata,
        batch_size=job.get("batch_size"), device=job.get("device") or "cuda:0",
        **_seeds(job.get("seed") or "0,1234,1234,1234"),
    )
    if results is None:
        raise RuntimeError("lm-eval returned no results")
    results["config"]["model"] = job["backend"]  # as `lm_eval --model` records it (not the object's class)
    samples = results.pop("samples")
    tracker.save_results_aggregated(results=results, samples=samples)
    for name in results["configs"]:
        tracker.save_results_samples(task_name=name, samples=samples[name])
    return out


class ModelSession:
    """One job's model, loaded once, and its tasks: what a worker process (:func:`run`) and a Ray actor
    (:mod:`conj_harness.pairs.ray_executor`) both drive, task by task."""

    def __init__(self, job: dict[str, Any]) -> None:
        """conj-eval's preparation, the slow imports and every task built: everything before the model loads."""
        import lm_eval.tasks

        self.job = job
        args = _prepared_args(job)
        self.model_args: dict[str, Any] = args.model_args if isinstance(args.model_args, dict) else {}
        self.metadata = {**self.model_args, **(args.metadata or {})}  # what lm-eval's CLI gives the tasks
        # the task manager conj-eval's preparation installed (ours; without lm-eval's built-ins when none is needed)
        self.manager = lm_eval.tasks.TaskManager(include_path=job.get("include_path"), metadata=self.metadata)
        compat.import_backend(job["backend"])  # the slow imports (torch, transformers, vLLM) before the gate
        compat.reuse_env_info()  # lm-eval's environment report: once per worker, not once per task
        # the tasks do not need the model: built before the gate too (documents, few-shot pools, paper-mode data)
        self.built = {role["role"]: _try_build_tasks(role["tasks"], self.manager) for role in job["roles"]}
        self.roles = {role["role"]: role for role in job["roles"]}
        self.lm: Any = None

    def load(self) -> float:
        """Build lm-eval's model object once; the seconds it took."""
        start = time.monotonic()
        # lm-eval's CLI default device: HFLM falls back to the CPU from "cuda:0" when there is no GPU, not from None
        self.lm = compat.create_model(self.job["backend"], self.model_args, self.job.get("batch_size"),
                                      self.job.get("device") or "cuda:0")
        return round(time.monotonic() - start, 1)

    def use_role(self, role: str) -> None:
        """Attach the role's adapter (a base and its LoRA on one load); raises when it does not attach."""
        if self.job.get("adapter_mode"):
            compat.set_adapter(self.lm, self.job["backend"], self.roles[role].get("adapter"))

    def plan(self, role: str) -> tuple[dict[str, int], str | None]:
        """Requests per task of one role (a progress bar's totals), and why a task did not build."""
        built, note = self.built[role]
        try:
            return _requests_per_task(built, self.job.get("limit")), note
        except Exception as e:  # noqa: BLE001 - the plan only feeds the progress bar
            return {}, note or f"{type(e).__name__}: {e}"

    def run_task(self, role: str, task: str) -> Path:
        """Run one task of one role; lm-eval's output folder (results and samples)."""
        built, _note = self.built[role]
        return _run_task(self.lm, self.job, self.roles[role], task, built.pop(task, None), self.manager,
                         self.metadata, self.model_args)


def run(job: dict[str, Any]) -> int:
    """Load once, run every task of every role, report each; returns the number of failed tasks."""
    session = ModelSession(job)
    if job.get("gate"):  # started early, while the previous model's worker runs: wait for it to exit
        emit("ready")
        if not sys.stdin.readline():
            return 0  # the parent is gone
    seconds = session.load()
    emit("loaded", roles=tuple(r["role"] for r in job["roles"]), seconds=seconds)
    failed = 0
    for role in job["roles"]:
        name = role["role"]
        try:
            session.use_role(name)
        except Exception as e:  # noqa: BLE001 - the adapter fails to attach: this role's tasks fail, not all
            traceback.print_exc()
            emit("role_failed", role=name, error=f"{type(e).__name__}: {str(e)[:500]}")
            continue
        requests, note = session.plan(name)
        emit("plan", role=name, requests=requests, **({"note": note} if note else {}))
        while True:
            emit("next", role=name)
            line = sys.stdin.readline()
            if not line:
                return failed  # the parent is gone
            task = protocol.decode_reply(line).task
            if not task:
                break
            t0 = time.monotonic()
            try:
                out = session.run_task(name, task)
            except (Exception, SystemExit) as e:  # noqa: BLE001 - one task's failure must not stop the others
                failed += 1
                traceback.print_exc()
                emit("failed", role=name, task=task, error=backend_checks.explain_failure(session.model_args, e))
                continue
            emit("done", role=name, task=task, output=str(out), seconds=round(time.monotonic() - t0, 1))
    return failed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m conj_harness.lmeval.worker")
    parser.add_argument("job", type=Path)
    path = parser.parse_args(argv).job
    job = json.loads(path.read_text(encoding="utf-8"))
    path.unlink(missing_ok=True)  # it may carry credentials (owner-only): no copy left once read
    try:
        failed = run(job)
    except ConjError as e:  # a bad model folder, missing data, an unknown judge: before anything ran
        emit("fatal", error=str(e))
        print(f"conj-harness worker: error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    from conj_harness.lmeval.backend_checks import exit_now

    exit_now(1 if failed else 0)  # results are committed by the parent already; skip the slow teardown


if __name__ == "__main__":
    main()
