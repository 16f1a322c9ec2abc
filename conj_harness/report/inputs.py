"""A pair's saved samples, ready to analyse: from a compare folder, or from two lm-eval output folders.

* :func:`load_pair_dir` reads a :class:`~conj_harness.pairs.store.PairStore` (what ``conj-harness compare``
  writes), including a ``report --base-run/--tuned-run`` folder, which points at two lm-eval output folders;
* :func:`load_runs` reads two lm-eval ``--output_path`` folders written with ``--log_samples``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conj_harness.errors import ConjError
from conj_harness.lmeval import outputs
from conj_harness.pairs.spec import ROLES
from conj_harness.pairs.store import PairStore


@dataclass
class Side:
    """One model's completed tasks (samples + lm-eval results), failures and description."""

    label: str
    samples: dict[str, list[dict]] = field(default_factory=dict)
    results: dict[str, dict] = field(default_factory=dict)
    failed: dict[str, dict] = field(default_factory=dict)
    chat_template: bool | None = None
    model: str | None = None
    adapter: str | None = None
    #: What each task was when it ran (a compare's ``done.json`` fingerprint, or a digest of an lm-eval results
    #: file's task config and document hashes): the report pairs only tasks that are the same on both sides.
    fingerprints: dict[str, Any] = field(default_factory=dict)


@dataclass
class PairData:
    name: str
    base: Side
    tuned: Side
    tasks: list[str]
    meta: dict[str, Any]
    tokenizers: dict | None = None
    pending: list[tuple[str, str]] = field(default_factory=list)
    source_dir: Path | None = None
    #: units an older conj-harness committed without file digests (read as they are)
    unverified: list[str] = field(default_factory=list)

    def side(self, role: str) -> Side:
        return self.base if role == "base" else self.tuned


def describe(model: str | None, adapter: str | None) -> str:
    return f"{model} + adapter {adapter}" if adapter else str(model)


def load_pair_dir(folder: str | Path) -> PairData:
    """Read a ``conj-harness compare`` folder (or one written by ``report --base-run/--tuned-run``)."""
    store = PairStore(folder)
    record = store.record()
    if record is None:
        raise ConjError(
            f"{store.root} holds no pair.json: not a `conj-harness compare` folder. For two lm-eval --output_path "
            "folders use `conj-harness report --base-run A --tuned-run B`"
        )
    if record.get("kind") == "runs":
        data = load_runs(record["base_run"], record["tuned_run"])
        data.name = record.get("name") or store.root.name
        data.source_dir = store.root
        return data
    tasks = store.tasks()
    sides, pending, unverified = {}, [], []
    for role in ROLES:
        info = record.get(role) or {}
        side = Side(label=describe(info.get("model"), info.get("adapter")), chat_template=info.get("chat_template"),
                    model=info.get("model"), adapter=info.get("adapter"))
        for task in tasks:
            unit = store.status(role, task, info.get("identity") or None, unverified_ok=True)
            state = unit.state
            if unit.unverified:
                unverified.append(f"{role} {task}")
            if state == "done":
                side.samples[task] = first_filter(outputs.read_samples(store.samples_path(role, task)))
                side.results[task] = store.results(role, task)
                side.fingerprints[task] = store.done_record(role, task).get("task_fingerprint")
            elif state == "failed":
                side.failed[task] = store.failure(role, task)
            else:
                pending.append((role, task))
        sides[role] = side
    return PairData(name=record.get("name") or store.root.name, base=sides["base"], tuned=sides["tuned"],
                    tasks=tasks, meta=record, tokenizers=store.tokenizers(), pending=pending, source_dir=store.root,
                    unverified=unverified)


def task_difference(base: Any, tuned: Any) -> str | None:
    """None when the two sides ran the same task (or one side does not say); else how they differ."""
    from conj_harness.lmeval.preflight import TaskFingerprint

    if base is None or tuned is None or base == tuned:
        return None
    b, t = TaskFingerprint.from_record(base), TaskFingerprint.from_record(tuned)
    if b is not None and t is not None:
        return t.changes(base) if b.digest != t.digest else None
    return "its config or documents" if isinstance(base, str) and isinstance(tuned, str) else None


def first_filter(samples: list[dict]) -> list[dict]:
    """One sample per document: a task with several filter pipelines (gsm8k's ``strict-match`` and
    ``flexible-extract``) logs each document once per filter; the report scores the task's first filter."""
    names = list(dict.fromkeys(s.get("filter") for s in samples))
    return samples if len(names) <= 1 else [s for s in samples if s.get("filter") == names[0]]


def load_run(folder: str | Path, role: str = "run") -> Side:
    """Read one lm-eval ``--output_path`` folder written with ``--log_samples`` (latest run of each task)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConjError(f"--{role}-run {folder}: no such folder")
    run = outputs.find_run(folder, what=f"--{role}-run")
    side = Side(label=str(folder))
    for task, path in run.samples.items():
        side.samples[task] = first_filter(outputs.read_samples(path))
        side.results[task] = outputs.read_results(run.results.get(task))
        side.fingerprints[task] = outputs.task_digest(side.results[task], task)
    any_results = next((r for r in side.results.values() if r), {})
    side.model, side.adapter = outputs.model_from_config(any_results.get("config") or {})
    side.label = describe(side.model, side.adapter) if side.model else str(folder)
    if any_results:
        side.chat_template = bool(any_results.get("chat_template"))
    return side


def load_runs(base_run: str | Path, tuned_run: str | Path) -> PairData:
    """Two lm-eval output folders as a pair (tasks that only one of them ran are reported as missing)."""
    base, tuned = load_run(base_run, "base"), load_run(tuned_run, "tuned")
    tasks = sorted(set(base.samples) | set(tuned.samples))
    for side, other in ((base, tuned), (tuned, base)):
        for task in other.samples:
            if task not in side.samples:
                side.failed[task] = {"error": "not in this run's folder", "returncode": None}
    meta: dict[str, Any] = {"kind": "runs", "base_run": str(Path(base_run).resolve()),
                            "tuned_run": str(Path(tuned_run).resolve())}
    limits = {json.dumps((r.get("config") or {}).get("limit")) for s in (base, tuned) for r in s.results.values() if r}
    if len(limits) == 1:
        meta["limit"] = json.loads(limits.pop())
    elif len(limits) > 1:
        meta["limit_mismatch"] = sorted(limits)
    return PairData(name=f"{Path(base_run).name}-vs-{Path(tuned_run).name}", base=base, tuned=tuned, tasks=tasks,
                    meta=meta)
